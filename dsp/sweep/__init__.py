"""Robustness sweeps: how a design holds up over listener positions, heads and rooms.

One module per job: `spec` (the sweep spec file and its cases), `paths` (field paths into the
scene's JSON), `case` (one case, as a task runs it), `metrics` (per listener and 1/3-octave
band), `results` (the Parquet results folder), `summary` (percentiles and floor maps of the
results). The execution (Dask or serial) is `workbench.jobs.sweep`.
"""
