"""SOFA loading: real HRIR sets (shared data, read-only) and synthetic files."""

import warnings

import numpy as np
import pytest
import sofar
from conftest import shared_file

from sim.sofa import Hrir, SofaError, hrtf_at, load_directivity, load_hrir

HRTF_FILES = [
    "MIT_KEMAR_normal_pinna.sofa",
    "CIPIC_subject_003_hrir_final.sofa",
    "FHK_HRIR_L2354.sofa",
]


def hrtf_file(name):
    return shared_file(f"hrtf/{name}")


def horizontal(az_deg):
    az = np.deg2rad(az_deg)
    return np.array([np.cos(az), np.sin(az), 0.0])


def nearest(hrir: Hrir, direction):
    i = int(np.argmax(hrir.directions @ direction))
    return i, hrir.directions[i]


def itd_low_passed(ir, fs, f_max=1500.0, oversample=16):
    """Interaural delay right minus left (s) from the cross-correlation of low-passed IRs."""
    n = 1 << int(np.ceil(np.log2(4 * ir.shape[-1])))
    spec = np.fft.rfft(ir, n)
    cross = spec[1] * np.conj(spec[0])
    cross[np.fft.rfftfreq(n, 1.0 / fs) > f_max] = 0.0
    xc = np.fft.fftshift(np.fft.irfft(cross, n * oversample))
    return (np.argmax(xc) - n * oversample // 2) / (fs * oversample)


@pytest.mark.parametrize("name", HRTF_FILES)
def test_real_hrir_sets_load(name):
    hrir = load_hrir(hrtf_file(name), 48000.0)
    assert hrir.fs_hz == 48000.0 and hrir.source_path.endswith(name)
    assert hrir.ir.ndim == 3 and hrir.ir.shape[1] == 2 and hrir.ir.shape[0] > 500
    np.testing.assert_allclose(np.linalg.norm(hrir.directions, axis=-1), 1.0)
    assert np.all(np.isfinite(hrir.ir))
    _, front = nearest(hrir, horizontal(0.0))
    assert front[0] > 0.98


@pytest.mark.parametrize("name", HRTF_FILES)
def test_real_hrir_itd_and_ild_at_the_sides(name):
    hrir = load_hrir(hrtf_file(name), 48000.0)
    for az, sign in ((90.0, 1.0), (-90.0, -1.0)):
        i, d = nearest(hrir, horizontal(az))
        assert d @ horizontal(az) > 0.95
        itd = itd_low_passed(hrir.ir[i], hrir.fs_hz)
        # Source on the left (+90 deg): the left ear leads, so right minus left is positive.
        assert 600e-6 < sign * itd < 800e-6, f"ITD {itd * 1e6:.0f} us at {az} deg"
        h = hrtf_at(hrir, [6000.0], d)
        ild = 20 * np.log10(np.abs(h[0, 0]) / np.abs(h[1, 0]))
        assert sign * ild > 10.0


def test_resampling_keeps_the_transfer_function():
    path = hrtf_file("MIT_KEMAR_normal_pinna.sofa")
    native, resampled = load_hrir(path, 44100.0), load_hrir(path, 48000.0)
    assert resampled.ir.shape[-1] == int(np.ceil(native.ir.shape[-1] * 48000 / 44100))
    f = np.array([500.0, 1000.0, 4000.0, 10000.0])
    d = np.array([horizontal(30.0), horizontal(-120.0)])
    h0, h1 = hrtf_at(native, f, d), hrtf_at(resampled, f, d)
    np.testing.assert_allclose(20 * np.log10(np.abs(h1 / h0)), 0.0, atol=0.1)
    np.testing.assert_allclose(np.angle(h1 / h0), 0.0, atol=0.02)


def write(path, sofa):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sofar.write_sofa(str(path), sofa)
    return path


def synthetic_hrir(positions, kind="spherical", units="degree, degree, metre", n=64):
    sofa = sofar.Sofa("SimpleFreeFieldHRIR")
    m = len(positions)
    ir = np.zeros((m, 2, n))
    ir[:, 0, 3] = 1.0
    ir[:, 1, 5] = 0.5
    sofa.Data_IR = ir
    sofa.Data_SamplingRate = 48000.0
    sofa.SourcePosition = np.asarray(positions, dtype=float)
    sofa.SourcePosition_Type = kind
    sofa.SourcePosition_Units = units
    return sofa


def test_spherical_and_cartesian_positions_agree(tmp_path):
    sph = [[0.0, 0.0, 1.5], [90.0, 0.0, 1.5], [180.0, 45.0, 2.0], [270.0, -90.0, 1.0]]
    cart = [[1.5, 0.0, 0.0], [0.0, 1.5, 0.0], [-np.sqrt(2), 0.0, np.sqrt(2)], [0.0, 0.0, -1.0]]
    a = load_hrir(write(tmp_path / "sph.sofa", synthetic_hrir(sph)), 48000.0)
    b = load_hrir(
        write(tmp_path / "cart.sofa", synthetic_hrir(cart, "cartesian", "metre")), 48000.0
    )
    expected = np.array(cart) / np.linalg.norm(cart, axis=-1, keepdims=True)
    np.testing.assert_allclose(a.directions, expected, atol=1e-12)
    np.testing.assert_allclose(b.directions, expected, atol=1e-12)
    np.testing.assert_array_equal(a.ir, b.ir)


def test_data_delay_is_applied(tmp_path):
    sofa = synthetic_hrir([[0.0, 0.0, 1.0], [90.0, 0.0, 1.0]])
    sofa.Data_Delay = np.array([[2.0, 7.0]])
    hrir = load_hrir(write(tmp_path / "delay.sofa", sofa), 48000.0)
    assert np.argmax(hrir.ir[0, 0]) == 3 + 2 and np.argmax(hrir.ir[0, 1]) == 5 + 7


def test_wrong_convention_is_named(tmp_path):
    fir = sofar.Sofa("GeneralFIR")
    fir.Data_IR = np.zeros((2, 2, 32))
    fir.Data_Delay = np.zeros((1, 2))
    fir.SourcePosition = np.array([[0.0, 0.0, 1.0], [90.0, 0.0, 1.0]])
    path = write(tmp_path / "general.sofa", fir)
    with pytest.raises(SofaError, match="GeneralFIR") as err:
        load_hrir(path, 48000.0)
    assert "SimpleFreeFieldHRIR" in str(err.value) and "general.sofa" in str(err.value)


def test_missing_and_garbage_files_are_named(tmp_path):
    missing = tmp_path / "nowhere.sofa"
    with pytest.raises(SofaError, match=r"nowhere\.sofa.*cannot be read as SOFA"):
        load_hrir(missing, 48000.0)
    garbage = tmp_path / "garbage.sofa"
    garbage.write_bytes(b"not a netCDF file at all")
    for loader in (load_hrir, load_directivity):
        with pytest.raises(SofaError, match=r"garbage\.sofa.*cannot be read as SOFA"):
            loader(garbage, 48000.0)


def test_non_finite_ir_is_rejected(tmp_path):
    sofa = synthetic_hrir([[0.0, 0.0, 1.0]])
    sofa.Data_IR[0, 1, 7] = np.nan
    with pytest.raises(SofaError, match="NaN"):
        load_hrir(write(tmp_path / "nan.sofa", sofa), 48000.0)


def test_directivity_from_general_fir(tmp_path):
    fs = 48000.0
    fir = sofar.Sofa("GeneralFIR")
    ir = np.zeros((3, 2, 128))
    ir[0, 1, 20] = 1.0  # on axis, receiver 1
    ir[1, 1, 22] = 0.5  # 90 deg to the left, 2 samples later
    ir[2, 1, 30] = 0.1  # behind
    ir[:, 0, 0] = 9.0  # receiver 0 must not be used
    fir.Data_IR = ir
    fir.Data_Delay = np.zeros((1, 2))
    fir.Data_SamplingRate = fs
    fir.SourcePosition = np.array([[0.0, 0.0, 2.0], [90.0, 0.0, 2.0], [180.0, 0.0, 2.0]])
    pattern = load_directivity(write(tmp_path / "driver.sofa", fir), fs, receiver=1)
    f = np.fft.rfftfreq(128, 1.0 / fs)[[1, 10, 40]]
    g = pattern.gain(f, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    np.testing.assert_allclose(g[0], 1.0, atol=1e-12)
    left = 0.5 * np.exp(-2j * np.pi * f * 2 / fs)
    np.testing.assert_allclose(g[1], left, atol=1e-12)
    np.testing.assert_allclose(np.abs(g[2]), 0.1, atol=1e-12)
    # Between them: inverse-square distance weights over the 3 nearest, dB, and each phase
    # taken the shorter way round from the nearest one's (the front's, phase 0).
    u = np.array([1.0, 0.6, 0.0]) / np.hypot(1.0, 0.6)
    mid = pattern.gain(f, [u])[0]
    w = 1.0 / np.sum((u - np.eye(3)[[0, 1]] * [[1], [1]]) ** 2, axis=1)
    w = np.append(w, 1.0 / np.sum((u + np.eye(3)[0]) ** 2))
    w /= w.sum()
    back = pattern.gain(f, [[-1.0, 0.0, 0.0]])[0]
    level = w[1] * np.log(0.5) + w[2] * np.log(0.1)
    phase = w[1] * np.angle(left) + w[2] * np.angle(back)
    np.testing.assert_allclose(mid, np.exp(level + 1j * phase), atol=1e-9)
    with pytest.raises(SofaError, match="receiver 2"):
        load_directivity(tmp_path / "driver.sofa", fs, receiver=2)


def test_directivity_from_real_hrir_file():
    pattern = load_directivity(hrtf_file("FHK_HRIR_L2354.sofa"), 48000.0, receiver=0)
    assert pattern.tf.shape[0] == 2354
    front = int(np.argmax(pattern.directions[:, 0]))
    ir = np.fft.irfft(pattern.tf[front])
    peak = int(np.argmax(np.abs(ir)))
    assert min(peak, len(ir) - peak) <= 1  # bulk delay removed: on-axis peak at t = 0


def test_sofa_files_can_be_read_from_many_threads_at_once():
    """netCDF4/HDF5 is not thread-safe: without `NETCDF_LOCK`, six threads reading one file
    crashed the interpreter (SIGSEGV or SIGBUS) every time; the GUI's Enhancement and DRED
    jobs did so on a scene with a SOFA head. In a subprocess, so a crash fails this test only."""
    import subprocess
    import sys
    import textwrap

    path = shared_file("hrtf/MIT_KEMAR_normal_pinna.sofa")
    code = textwrap.dedent(f"""
        import threading
        from sim.sofa import load_hrir
        def work():
            for _ in range(5):
                load_hrir({str(path)!r}, 44100)
        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _piston_tf_file(path, radius_m=0.025, step_deg=10.0):
    """A FreeFieldDirectivityTF file of the baffled piston: receivers on a sphere (az, el in
    steps of step_deg), the source aimed along +y (SourceView), so the file's own frame is
    exercised."""
    from sim.directivity import Piston

    az, el = np.meshgrid(np.arange(-180.0, 180.0, step_deg), np.arange(-80.0, 81.0, step_deg))
    sph = np.stack([az.ravel(), el.ravel(), np.full(az.size, 2.0)], axis=-1)
    sph = np.vstack([sph, [[0.0, 90.0, 2.0], [0.0, -90.0, 2.0]]])
    a, e = np.deg2rad(sph[:, 0]), np.deg2rad(sph[:, 1])
    dirs = np.stack([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)], axis=-1)
    f = np.geomspace(100.0, 20000.0, 200)
    # The source's frame: view +y, up +z → local x = world y, local y (left) = world −x.
    local = np.stack([dirs[:, 1], -dirs[:, 0], dirs[:, 2]], axis=-1)
    tf = Piston(radius_m=radius_m).response(f, np.eye(3), local, 343.0, 48000)
    s = sofar.Sofa("FreeFieldDirectivityTF")
    s.ReceiverPosition = sph
    s.SourceView = np.array([[0.0, 1.0, 0.0]])
    s.N = f
    s.Data_Real = np.real(tf)[None]
    s.Data_Imag = np.imag(tf)[None]
    for optional in ("Description", "EmitterDescriptions"):  # sofar cannot write them empty
        s.delete(optional)
    return write(path, s), local, tf, f


def test_directivity_from_free_field_directivity_tf(tmp_path):
    path, local, tf, f = _piston_tf_file(tmp_path / "piston.sofa")
    pattern = load_directivity(path, 48000.0)
    np.testing.assert_allclose(pattern.gain(f, local[:40]), tf[:40], atol=1e-9)
    with pytest.raises(SofaError, match="measurement 1 requested, file has 1"):
        load_directivity(path, 48000.0, receiver=1)
    s = sofar.read_sofa(str(path), verify=False)
    s.N = s.N[::-1]
    with pytest.raises(SofaError, match=r"bad\.sofa: .*N does not rise strictly"):
        load_directivity(write(tmp_path / "bad.sofa", s), 48000.0)
