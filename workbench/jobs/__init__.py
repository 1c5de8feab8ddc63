"""The jobs of the workbench, without Qt: one module per feature.

Each module holds its request and outcome dataclasses and a plain `run(request, state)`, where
`state` is a `sim.task.TaskState` (or None): it reports progress and polls cancellation, and a
cancel raises `sim.task.Cancelled`. The command line (`workbench.cli`), the GUI (which runs a
job in a worker thread, `workbench.gui.shell.worker.JobRunner`) and the tests all call these, so
anything one face can do the other can.

    transfer  driver → ear (and talker → microphone) impulse responses
    design    a filter design and what the design panel shows of it
    export    filter files and the design report (report.json)
    render    the audition programme and player, the offline render to files
    enhance   PercepNet enhancement of a scene microphone or a file, with scores
    dred      the DRED chain against the Opus LBRR + PLC baseline, with scores
"""
