"""dsp.summary: the Design panel's headline numbers, read off a redesign."""

import numpy as np
import pytest

from dsp.analysis import AzimuthMap, Cancellation
from dsp.design import redesign
from dsp.params import DesignParams
from dsp.report import beam_metrics
from dsp.summary import (
    lobe_deviation_db,
    null_depth_bands,
    null_depth_spectrum,
    summarize,
    worst_cancellation_db,
)
from sim.scene_io import load_scene


def _map(level_fn):
    f = np.fft.rfftfreq(1024, 1 / 48000)
    az = np.arange(-180.0, 180.0, 1.0)
    lev = level_fn(f[:, None], az[None, :])
    return AzimuthMap(f, az, np.broadcast_to(lev, (f.size, az.size))[None].copy())


def test_null_depth_of_a_synthetic_map():
    # -20 dB toward ±90°, 0 dB elsewhere, 3 dB ripple inside ±30°.
    amap = _map(lambda f, a: np.where(np.abs(np.abs(a) - 90) < 1, -20.0,
                                      np.where(np.abs(a) <= 30, 3.0 * (np.abs(a) > 0), 0.0)))
    spec = null_depth_spectrum(amap, (90.0, -90.0, 450.0))  # 450° wraps to 90°
    assert spec.shape == (3, amap.freqs_hz.size)
    np.testing.assert_allclose(spec, 20.0)
    centres, depth = null_depth_bands(amap, (90.0, 0.0))
    np.testing.assert_allclose(centres, [500, 630, 800, 1000, 1250, 1600, 2000])
    np.testing.assert_allclose(depth[0], 20.0)
    np.testing.assert_allclose(depth[1], 0.0)
    assert lobe_deviation_db(amap, 45.0) == pytest.approx(3.0)
    assert lobe_deviation_db(amap, 0.2) == pytest.approx(0.0)


def test_worst_cancellation_picks_the_worst_band_and_input_in_range():
    c = Cancellation(np.array([200.0, 400.0, 1000.0, 8000.0, 10000.0]),
                     np.array([1.0, 22.0, 25.0, 30.0, 2.0]),
                     np.array([0.0, 24.0, 21.0, 28.0, 1.0]))
    assert worst_cancellation_db(c) == 21.0
    assert worst_cancellation_db(c, (9000.0, 12000.0)) == 1.0
    assert np.isnan(worst_cancellation_db(c, (20.0, 50.0)))


def test_summary_of_real_designs():
    stereo = load_scene("design-stereo-2")
    r = redesign(stereo, DesignParams(method="ctc"))
    s = summarize(r)
    assert s.method == "ctc"
    assert s.effort_db == pytest.approx(r.design.max_effort_db)
    assert s.fir_error_db == r.design.fir_error_db and s.zone_area_m2 == r.zone.area_m2
    assert s.cancellation_db >= 20.0  # the acceptance number, 400 Hz–8 kHz
    assert s.probe_db is None and s.null_depth_db == {}

    bar = load_scene("design-soundbar-8")
    r = redesign(bar, DesignParams(method="beam"))
    s = summarize(r)
    assert s.cancellation_db is None
    ref = beam_metrics(bar, r.design.filters)  # the report's finer map at ±90°
    assert set(s.null_depth_db) == {90.0, -90.0}
    for angle, key in ((90.0, "plus90"), (-90.0, "minus90")):
        assert s.null_depth_db[angle] >= 15.0
        assert s.null_depth_db[angle] == pytest.approx(min(ref["null_depth_db"][key]), abs=2.0)
    assert s.lobe_deviation_db == pytest.approx(ref["lobe_deviation_db"], abs=1.0)
