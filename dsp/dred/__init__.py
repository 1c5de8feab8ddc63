"""DRED chain (issue #6): real Opus plus deep redundancy, numpy at run time, no Qt.

:mod:`~dsp.dred.opus` (libopus via ctypes), :mod:`~dsp.dred.features` (LPCNet-style features),
:mod:`~dsp.dred.rdovae` (RDO-VAE), :mod:`~dsp.dred.laplace` + :mod:`~dsp.dred.range_coder` +
:mod:`~dsp.dred.payload` (entropy-coded, versioned redundancy), :mod:`~dsp.dred.packet`
(container), :mod:`~dsp.dred.sender`, :mod:`~dsp.dred.receiver` (regular / LBRR / DRED / PLC
switching), :mod:`~dsp.dred.vocoder` (+ the :mod:`~dsp.dred.lpc_vocoder` baseline),
:mod:`~dsp.dred.plc` (neural feature predictor), :mod:`~dsp.dred.loss` (loss models),
:mod:`~dsp.dred.chain` (simulation) and :mod:`~dsp.dred.evaluate` (PESQ/STOI harness).
"""
