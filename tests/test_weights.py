"""Every runtime model's weight file, broken in each way a file can break, is refused with the
model's own error naming the file (never a zipfile/EOF/JSON error)."""

import numpy as np
import pytest

from dsp.dred.plc import FeaturePredictor, PlcError
from dsp.dred.rdovae import RdoVae, RdoVaeError
from dsp.dred.vocoder import Vocoder, VocoderError
from dsp.percepnet.model import ModelError, PercepNetModel
from dsp.weights import read_weights

LOADERS = [(RdoVae.load, RdoVaeError), (FeaturePredictor.load, PlcError),
           (Vocoder.load, VocoderError), (PercepNetModel.load, ModelError)]


def _broken(tmp_path, how: str):
    p = tmp_path / f"{how}.npz"
    if how == "not-a-zip":
        p.write_bytes(b"this is not an npz archive at all")
    elif how == "truncated":
        np.savez(p, a=np.ones(1000))
        p.write_bytes(p.read_bytes()[:300])
    elif how == "empty":
        p.write_bytes(b"")
    elif how == "bad-meta":
        np.savez(p, a=np.ones(3), meta=np.array("{not json"))
    return p


@pytest.mark.parametrize("how", ["not-a-zip", "truncated", "empty", "bad-meta", "missing"])
@pytest.mark.parametrize("load,error", LOADERS)
def test_broken_weight_file_is_the_models_own_error(tmp_path, load, error, how):
    path = tmp_path / "missing.npz" if how == "missing" else _broken(tmp_path, how)
    with pytest.raises(error, match=str(path.name)):
        load(path)


def test_read_weights_returns_arrays_and_meta(tmp_path):
    p = tmp_path / "w.npz"
    np.savez(p, w=np.arange(3.0), meta=np.array('{"version": 2}'))
    arrays, meta = read_weights(p, ValueError, "test weights")
    assert list(arrays) == ["w"] and np.array_equal(arrays["w"], [0.0, 1.0, 2.0])
    assert meta == {"version": 2}
