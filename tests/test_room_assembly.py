"""sim.room.assembly: the fast RIR assembly gives pyroomacoustics' own IRs."""

from __future__ import annotations

import numpy as np
import pyroomacoustics as pra
import pytest
from pyroomacoustics.simulation import rt as pra_rt

from sim.room import assembly, grids

FS = 16000


@pytest.fixture
def no_hpf():
    old = pra.constants.get("rir_hpf_enable")
    pra.constants.set("rir_hpf_enable", False)
    yield
    pra.constants.set("rir_hpf_enable", old)


def _room(directive: bool, air: bool):
    """A small hybrid room: a sampled directive ear-like mic and source when `directive`."""
    rng = np.random.default_rng(3)
    walls = pra.Material({"coeffs": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4],
                          "center_freqs": [125, 250, 500, 1000, 2000, 4000, 8000]}, 0.1)
    room = pra.ShoeBox([4.0, 3.0, 2.5], fs=FS, materials=walls, max_order=2,
                       air_absorption=air, ray_tracing=True)
    dirs = grids.fibonacci_directions(60)
    src_dir = grids.measured_directivity(dirs, rng.standard_normal((60, 128)), FS) \
        if directive else None
    room.add_soundsource(pra.SoundSource([1.0, 1.0, 1.2], directivity=src_dir))
    room.add_soundsource(pra.SoundSource([3.0, 2.2, 1.0]))
    room.set_ray_tracing(n_rays=2000, receiver_radius=0.5, time_thres=0.3)
    room.unset_ray_tracing()
    mic_dir = grids.measured_directivity(dirs, rng.standard_normal((60, 128)), FS) \
        if directive else None
    room.add_microphone_array(np.array([[2.0, 1.5, 1.1], [2.2, 1.5, 1.1]]).T,
                              directivity=[mic_dir, mic_dir] if directive else None)
    room.set_ray_tracing(n_rays=2000, receiver_radius=0.5, time_thres=0.3)
    pra.random.seed(numpy=5, libroom=5)
    room.image_source_model()
    room.ray_tracing()
    return room


@pytest.mark.parametrize(("directive", "air"), [(True, True), (True, False), (False, False)])
def test_compute_rirs_equals_pyroomacoustics(no_hpf, directive, air):
    room = _room(directive, air)
    pra.random.seed(numpy=11, libroom=11)
    room.compute_rir()
    pra.random.seed(numpy=11, libroom=11)
    ours = assembly.compute_rirs(room)
    for m in range(2):
        for s in range(2):
            ref = np.asarray(room.rir[m][s])
            assert ours[m][s].shape == ref.shape
            err = np.max(np.abs(ours[m][s] - ref)) / np.max(np.abs(ref))
            assert err < 1e-9, (m, s, err)
    # The same random draws were used up: the next one agrees.
    after = pra.random.get_rng().uniform()
    pra.random.seed(numpy=11, libroom=11)
    room.compute_rir()
    assert pra.random.get_rng().uniform() == after


def test_poisson_times_draw_like_pyroomacoustics():
    for t0, volume in ((0.004, 30.0), (0.02, 2000.0)):
        pra.random.seed(numpy=7)
        _, ref = pra_rt.poisson_sequence(volume, 0.4, 343.0, t0=t0)
        ref_next = pra.random.get_rng().uniform()
        pra.random.seed(numpy=7)
        ours = assembly.poisson_times(pra.random.get_rng(), volume, 0.4, 343.0, t0)
        np.testing.assert_array_equal(ours, ref)
        assert pra.random.get_rng().uniform() == ref_next


def test_band_split_equals_the_filter_bank():
    from pyroomacoustics.acoustics import AntoniOctaveFilterBank

    bank = AntoniOctaveFilterBank(base_frequency=125.0, fs=FS, n_fft=512)
    x = np.random.default_rng(2).standard_normal(3000)
    ours = assembly.band_split(bank, x, bank.n_bands - 1)
    ref = np.stack([bank.analysis(x, band=b) for b in range(bank.n_bands - 1)])
    assert ours.shape == ref.shape
    assert np.max(np.abs(ours - ref)) < 1e-10 * np.max(np.abs(ref))


def test_lazy_energies_are_computed_when_read():
    dirs = grids.fibonacci_directions(40)
    d = grids.measured_directivity(dirs, np.random.default_rng(4).standard_normal((40, 128)), FS)
    assert "energies" not in vars(d) and "areas" not in vars(d)
    _, energies = d.sample_rays(100)
    assert energies.shape == (100, d.energies.shape[1]) and "areas" not in vars(d)
    assert d.energy_distribution.sample(size=5, rng=np.random.default_rng(0)).shape == (5, 3)


def test_room_engine_output_does_not_depend_on_pyroomacoustics_threads():
    from sim import room as R
    from sim.scene_io import load_scene

    scene = load_scene("default")
    old = pra.constants.get("num_threads")
    try:
        irs = []
        for n in (1, 3):
            pra.constants.set("num_threads", n)
            irs.append(R.room_result(scene, early_only=True, cache=R.RirCache()).ir)
    finally:
        pra.constants.set("num_threads", old)
    np.testing.assert_array_equal(irs[0], irs[1])
    assert pra.constants.get("num_threads") == old


def test_directivities_built_on_a_cached_grid_equal_cold_ones():
    from sim.freefield import driver_frames
    from sim.scene_io import load_scene

    scene = load_scene("default")
    dev = scene.device
    frames = driver_frames(dev)
    moved = scene.with_listener(0, position_m=(2.3, 2.6, 1.1))

    def build(sc):
        li = sc.listeners[0]
        ears = grids.ear_directivities(li, dev.driver_positions(), 48000, 343.0)
        drv = grids.driver_directivity(dev, 0, frames[0], np.asarray(li.position_m)[None],
                                       48000, 343.0)
        return [ears[0]._irs, ears[1]._irs, drv[0]._irs]

    grids._DIRECTIVITY_CACHE.clear()
    grids._GRID_CACHE.clear()
    cold = build(moved)
    grids._DIRECTIVITY_CACHE.clear()
    grids._GRID_CACHE.clear()
    build(scene)  # fills the grid cache at another position
    assert len(grids._GRID_CACHE) == 2
    warm = build(moved)
    for a, b in zip(cold, warm, strict=True):
        np.testing.assert_array_equal(a, b)
