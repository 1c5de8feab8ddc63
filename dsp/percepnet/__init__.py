"""PercepNet-style noise suppression: perceptual bands, pitch comb filter, envelope postfilter,
a small conv + GRU model (numpy inference) and a 10 ms streaming processor (40 ms latency).

One-call API (CLI, GUI, tests)::

    from dsp.percepnet import enhance, EnhanceOptions
    res = enhance(signal, fs_hz, EnhanceOptions(use_comb=True, use_postfilter=True))
    res.output, res.before.db, res.after.db, res.gains, res.notes

Modules: stft (window, analysis/synthesis), bands (ERB layout), pitch (search + Viterbi), comb
(comb filter, coherence, r target), postfilter, features, oracle (ladder), model (numpy
inference), quantize (int8), stream (per-block processor), enhance (API + offline path),
metrics (PESQ-WB, STOI, SI-SDR), evaluate (harness behind `awb eval-ns`), audio_io.
"""

from dsp.percepnet.enhance import EnhanceError, EnhanceOptions, EnhanceResult, enhance
from dsp.percepnet.stream import PercepNetStream, StreamOptions

__all__ = ["EnhanceError", "EnhanceOptions", "EnhanceResult", "PercepNetStream",
           "StreamOptions", "enhance"]
