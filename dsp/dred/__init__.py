"""DRED chain (issue #6): real Opus via libopus, LPCNet-style features, Laplace range coding.

Foundations only so far: :mod:`dsp.dred.opus`, :mod:`dsp.dred.features`,
:mod:`dsp.dred.laplace` and :mod:`dsp.dred.range_coder`. numpy at run time, no Qt.
"""
