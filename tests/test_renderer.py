"""Renderer and listening paths (issue #4 items 2–3): network set-up and alignment, streaming ==
offline for every block size, reported latency, A/B/X time alignment by cross-correlation,
loudness matching, B vs X interaural cues and A narrower than B, free field and living room
(steady-state and first-wavefront cues; networks designed in free field and in the room's
early response)."""

import numpy as np
import pytest

from dsp.listening import (
    PATHS,
    PathStream,
    build_paths,
    cue_report,
    drivers_to_ears,
    interaural_cues,
    match_loudness,
    onset_window,
    reference_scene,
    render_path,
    stream_path,
)
from dsp.loudness import integrated_loudness
from dsp.renderer import (
    RenderError,
    RenderParams,
    build_network,
    ear_response,
    matrix_mix_gains,
    render_drivers,
    stream_drivers,
    xcorr_lag,
)
from dsp.signals import music_like, pink_noise, speech_like
from sim.scene_io import load_scene
from sim.transfer import simulate

FS = 48000


@pytest.fixture(scope="module")
def soundbar():
    scene = load_scene("design-soundbar-8")
    net = build_network(scene)
    return scene, net, build_paths(scene, net)


@pytest.fixture(scope="module")
def living_room():
    # echo-studio-like in the living room; the early-reflection room engine keeps this fast.
    scene = load_scene("default")
    net = build_network(scene)
    return scene, net, build_paths(scene, net, engine="room", early_only=True)


@pytest.fixture(scope="module")
def living_room_designed_in_room():
    # The same scene and listening paths, the network designed on the room's early response.
    scene = load_scene("default")
    net = build_network(scene, RenderParams(design_space="room_early"))
    return scene, net, build_paths(scene, net, engine="room", early_only=True)


@pytest.fixture(scope="module")
def programme():
    s = speech_like(FS, 1.5, seed=1)
    return np.stack([s + music_like(FS, 1.5, seed=2), s + music_like(FS, 1.5, seed=3)], 1) * 0.1


def test_network_methods_and_shapes(soundbar):
    _scene, net, _ = soundbar
    assert net.methods == {"LR": "virtualizer", "C": "beam", "space": "freefield"}
    assert net.filters.fir.shape[:2] == (3, 8)
    assert net.filters.input_names == ["L", "R", "C"]
    assert net.latency == net.upmix.latency + net.network_delay
    two = load_scene("design-stereo-2")
    n2 = build_network(two)
    assert n2.methods["C"] == "phantom"  # two drivers cannot beam
    np.testing.assert_allclose(n2.filters.fir[2], (n2.filters.fir[0] + n2.filters.fir[1])
                               / np.sqrt(2), atol=1e-15)
    with pytest.raises(RenderError, match="beam' needs ≥ 3 drivers"):
        build_network(two, RenderParams(c_method="beam"))
    with pytest.raises(RenderError, match="lr_method"):
        build_network(two, RenderParams(lr_method="magic"))


def test_centre_is_phase_aligned_with_the_phantom_centre(soundbar):
    # After alignment, C's ear response and L+R's line up at lag 0 (they were 15 samples apart).
    scene, net, _ = soundbar
    ir = simulate(scene, "freefield").ir[:, 0]
    fir = net.filters.fir
    mid = ear_response((fir[0] + fir[1]) / np.sqrt(2), ir)
    assert net.align_samples[2] == 0 and net.align_samples[0] > 0
    assert xcorr_lag(mid, ear_response(fir[2], ir), max_lag=500) == 0


def test_matrix_mix_pans_by_lateral_position():
    g = matrix_mix_gains(load_scene("design-stereo-2"))
    np.testing.assert_allclose(g, np.eye(2), atol=1e-12)  # "left" driver is on the left
    g8 = matrix_mix_gains(load_scene("design-soundbar-8"))
    np.testing.assert_allclose(g8.sum(axis=1), 1.0)
    np.testing.assert_allclose(g8[0], g8[1][::-1])
    assert g8[0, 0] > g8[0, -1] == 0.0


@pytest.mark.parametrize("block", [64, 128, 256, 512, 1000, 1024])
def test_streaming_drivers_equal_offline_for_every_block_size(soundbar, programme, block):
    _, net, _ = soundbar
    x = programme[:FS // 2]
    offline = render_drivers(x, net)
    streamed = stream_drivers(x, net, block)
    assert streamed.shape == offline.shape
    assert np.max(np.abs(streamed - offline)) < 1e-6


def test_reported_latency_holds_for_a_centred_impulse(soundbar):
    # L = R = δ(n − k) is pure centre: C = √2·δ after the upmix's latency, so the driver feeds
    # are √2 × the C column, exactly `latency` samples late (closed form).
    _, net, _ = soundbar
    k = 700
    x = np.zeros((4000, 2))
    x[k] = 1.0
    d = render_drivers(x, net)
    c = np.sqrt(2) * net.filters.fir[2].T            # (taps, N)
    start = k + net.upmix.latency
    np.testing.assert_allclose(d[start:start + len(c)], c, atol=1e-12)
    assert np.max(np.abs(d[:start])) < 1e-12
    # The C column's main tap sits at the network delay (the beam is distortionless on axis).
    assert abs(int(np.argmax(np.abs(c).sum(axis=1))) - net.network_delay) <= 60


def test_abx_are_time_aligned_by_cross_correlation(soundbar):
    # A centred programme through A, B and X: each path's ears line up with X's (lag 0 ± 1),
    # and input → ears equals the reported latency (±2 samples: the ears sit ±a/c around the
    # head centre and the filters are not pure delays).
    _, _, paths = soundbar
    s = pink_noise(FS, seed=4) * 0.1
    x = np.stack([s, s], 1)
    ears = {k: render_path(x, paths, k)[:FS + 4000] for k in PATHS}
    for k in ("A", "B"):
        assert abs(xcorr_lag(ears[k].T, ears["X"].T, 400)) <= 1, k
    for k in PATHS:
        lag = xcorr_lag(ears[k][:, 0] + ears[k][:, 1], s, max_lag=paths.latency + 500)
        assert abs(lag - paths.latency) <= 2, (k, lag, paths.latency)
    assert paths.latency == max(paths.arrival.values())
    assert paths.delays["B"] == 0  # B (upmix + filters) is the slow path; A and X wait for it


def test_abx_first_arrivals_are_aligned_in_the_living_room(living_room):
    # In a room the whole-signal cross-correlation is pulled around by reflections, which
    # differ between the device and the reference pair; what sets when an image appears is the
    # first wavefront (precedence), so check that: a centred click reaches the ears through
    # A, B and X at the same sample (first crossing of a quarter of the ear response's peak).
    _, _, paths = living_room
    x = np.zeros((2000, 2))
    x[100] = 1.0
    onsets = {}
    for k in PATHS:
        e = np.abs(render_path(x, paths, k)).sum(axis=1)
        onsets[k] = int(np.argmax(e > 0.25 * e.max())) - 100
    print("first arrivals:", onsets, "reported latency:", paths.latency)
    assert max(onsets.values()) - min(onsets.values()) <= 2
    assert abs(onsets["X"] - paths.latency) <= 6  # ± the head: ears vs head centre


def test_streaming_paths_equal_offline(soundbar, programme):
    _, _, paths = soundbar
    x = programme[:FS // 3]
    for k in PATHS:
        a = render_path(x, paths, k)
        b = stream_path(x, paths, k, block=256)
        assert np.max(np.abs(a - b)) < 1e-6, k


def test_audition_b_equals_export_b(soundbar, programme):
    # The audition engine runs B as folded ear filters (3 → 2); the export renders driver
    # feeds and then convolves them with the IRs. Both must give the same ears.
    _, net, paths = soundbar
    x = programme[:FS // 3]
    folded = render_path(x, paths, "B")
    via_drivers = drivers_to_ears(render_drivers(x, net), paths, block=512)
    n = min(len(folded), len(via_drivers))
    assert np.max(np.abs(folded[:n] - via_drivers[:n])) < 1e-9


def test_path_stream_matches_offline_paths(soundbar, programme):
    _, _, paths = soundbar
    x = programme[:FS // 5]
    ps = PathStream(paths, block=512)
    n = 30 * 512
    xx = np.zeros((n, 2))
    xx[:len(x)] = x
    out = np.concatenate([ps.process(xx[i:i + 512]) for i in range(0, n, 512)], axis=1)
    for i, k in enumerate(PATHS):
        ref = render_path(x, paths, k)[:n]
        assert np.max(np.abs(out[i, :len(ref)] - ref)) < 1e-6, k


def test_loudness_matching_gives_the_input_loudness(soundbar, programme):
    _, _, paths = soundbar
    gains = match_loudness(paths, programme)
    target = integrated_loudness(programme, FS)
    for k in PATHS:
        assert integrated_loudness(render_path(programme, paths, k), FS) == pytest.approx(
            target, abs=0.05), (k, gains)
    paths.gains_db = dict.fromkeys(PATHS, 0.0)


def test_b_tracks_x_cues_and_a_is_narrower_in_free_field(soundbar, programme):
    _, _, paths = soundbar
    rep = cue_report(paths, seconds=1.5, programme=programme)
    for stim in ("left", "right"):
        err = rep["errors"][stim]["B"]
        print(stim, "B−X:", err, "A−X:", rep["errors"][stim]["A"])
        assert abs(err["itd_us"]) <= 50.0 and abs(err["ild_db"]) <= 1.0
        # A (plain device) is far off: its ITD is a small fraction of the reference's.
        assert abs(rep["stimuli"][stim]["A"]["itd_us"]) < 0.25 * abs(
            rep["stimuli"][stim]["X"]["itd_us"])
    iacc = rep["iacc"]
    print("IACC wide:", iacc["wide"], "programme:", iacc["programme"])
    assert iacc["wide"]["A"] - iacc["wide"]["B"] >= 0.1
    assert iacc["programme"]["A"] > iacc["programme"]["B"]


def test_living_room_cues_reported_and_a_narrower_than_b(living_room):
    _, _, paths = living_room
    rep = cue_report(paths, seconds=1.5)
    for stim, sign in (("left", 1), ("right", -1)):
        cues = rep["stimuli"][stim]
        print(stim, {k: (round(v["itd_us"]), round(v["ild_db"], 1)) for k, v in cues.items()},
              "B−X", rep["errors"][stim]["B"], "onset B−X", rep["onset"]["errors"][stim]["B"])
        # In the room B's image is on the same side as the reference pair's...
        assert np.sign(cues["B"]["itd_us"]) == np.sign(cues["X"]["itd_us"]) == sign
        # ...and clearly more lateral than the plain device's.
        assert abs(cues["B"]["itd_us"]) > 2 * abs(cues["A"]["itd_us"])
        # The free-field network's steady-state ITD overshoots the reference pair's by
        # ≈ 240 µs here (reflections); its first wavefront tracks it (measured 13 µs, 1.4 dB),
        # and A's first wavefront stays central.
        onset = rep["onset"]["errors"][stim]
        assert abs(onset["B"]["itd_us"]) <= 40.0 and abs(onset["B"]["ild_db"]) <= 2.5
        assert abs(onset["A"]["itd_us"]) > 200.0
    assert rep["design_space"] == "freefield" and rep["onset"]["window_ms"] == 5.0
    print("IACC wide:", rep["iacc"]["wide"])
    assert rep["iacc"]["wide"]["A"] - rep["iacc"]["wide"]["B"] >= 0.1


def test_room_early_design_tracks_the_steady_state_itd_in_the_living_room(
        living_room, living_room_designed_in_room):
    # Designed on the room's early response below 2 kHz, B's steady-state ITD error against
    # the reference pair drops from ≈ 240 µs (free-field design: the 200–1500 Hz correlation
    # has two near-equal peaks at ±520 µs) to ≈ 15 µs (measured −16 / +14 µs), evaluated in
    # the room model it was designed on. The ILD (1.5–8 kHz, above the room design's band)
    # stays as it was (≈ ∓3 dB), and A stays narrower than B.
    _, net, paths = living_room_designed_in_room
    assert net.methods["space"] == "room_early" and not net.warnings
    room = cue_report(paths, seconds=1.5)
    free = cue_report(living_room[2], seconds=1.5)
    for stim, sign in (("left", 1), ("right", -1)):
        err, before = room["errors"][stim]["B"], free["errors"][stim]["B"]
        print(stim, "room-early B−X:", err, "free-field B−X:", before,
              "onset:", room["onset"]["errors"][stim]["B"])
        assert abs(before["itd_us"]) > 150.0
        assert abs(err["itd_us"]) <= 60.0
        assert np.sign(room["stimuli"][stim]["B"]["itd_us"]) == sign
        assert abs(err["ild_db"]) <= abs(before["ild_db"]) + 0.5
        assert abs(room["onset"]["errors"][stim]["B"]["itd_us"]) <= 40.0
    print("IACC wide:", room["iacc"]["wide"])
    assert room["iacc"]["wide"]["A"] - room["iacc"]["wide"]["B"] >= 0.1
    assert room["design_space"] == "room_early"


def test_room_early_ears_equal_the_free_field_design_below_the_crossover():
    # Independent references: the room IRs' DTFT summed directly, the free-field plant from
    # the analytic engine, FIR responses by dsp.fir. Below the crossover the room-early
    # filters through the room give the free-field filters' free-field ears (within −20 dB);
    # above it they are the free-field filters.
    from dsp.design import design_in_room
    from dsp.fir import fir_response
    from dsp.plant import room_early_irs
    from dsp.renderer import _lr_network
    from sim.freefield import ear_transfer_at
    from sim.transfer import T0_SAMPLES

    scene = load_scene("default")
    free_fs, _, _ = _lr_network(scene, RenderParams())
    irs = room_early_irs(scene, 0, 20.0)
    room_fs, err = design_in_room(scene, free_fs, irs, 18.0, max_hz=2000.0)
    assert err < -20.0 and room_fs.meta["design_space"] == "room_early"
    li = scene.listeners[0]
    f = np.array([250.0, 500.0, 800.0, 1200.0])
    n = np.arange(irs.ir.shape[-1])
    h_room = np.einsum("det,ft->fde", irs.ir, np.exp(-2j * np.pi * np.outer(f, n - T0_SAMPLES)
                                                      / FS))  # (F, N, 2)
    h_free = ear_transfer_at(scene, f, np.asarray(li.position_m)[None], li.yaw_deg, li)[:, :, 0]
    for k in range(2):
        c_room = fir_response(room_fs.fir[k], FS, f).T  # (F, N)
        c_free = fir_response(free_fs.fir[k], FS, f).T
        ears_room = np.einsum("fde,fd->fe", h_room, c_room)
        ears_free = np.einsum("fde,fd->fe", h_free, c_free)
        rel = np.sum(np.abs(ears_room - ears_free) ** 2, axis=1) / np.sum(np.abs(ears_free)
                                                                       ** 2, axis=1)
        print("input", k, "ear error dB:", np.round(10 * np.log10(rel), 1))
        assert np.all(rel < 0.01)
        hf = np.array([6000.0, 10000.0])
        diff = fir_response(room_fs.fir[k] - free_fs.fir[k], FS, hf)
        assert np.max(np.abs(diff)) < 1e-3 * np.max(np.abs(fir_response(free_fs.fir[k], FS, hf)))


def test_room_early_bad_settings_get_one_reason():
    room = load_scene("default")
    with pytest.raises(RenderError, match="anechoic"):
        build_network(load_scene("design-stereo-2"), RenderParams(design_space="room_early"))
    with pytest.raises(RenderError, match="design_space = 'cave'"):
        build_network(room, RenderParams(design_space="cave"))
    with pytest.raises(RenderError, match="past the room engine's early part"):
        build_network(room, RenderParams(design_space="room_early", early_window_ms=45.0))
    with pytest.raises(RenderError, match="room_max_hz = 50 Hz"):
        build_network(room, RenderParams(design_space="room_early", room_max_hz=50.0))
    with pytest.raises(RenderError, match="use more taps"):
        build_network(room, RenderParams(design_space="room_early", n_taps=256))


def test_onset_window_follows_the_first_wavefront():
    # Closed form: a direct click from the left (right ear 12 samples later, 6 dB down) and,
    # 10 ms later, a stronger reflection from the right. The whole response's cues follow the
    # reflection; the 5 ms onset window's are the direct sound's: +250 µs, +6.02 dB.
    n = 4000
    ears = np.zeros((n, 2))
    ears[1000, 0], ears[1012, 1] = 1.0, 0.5
    ears[1480 + 12, 0], ears[1480, 1] = 0.8, 2.0
    whole = interaural_cues(ears, FS)
    assert whole["itd_us"] < 0 and whole["ild_db"] < 0
    onset = interaural_cues(onset_window(ears, 1000 - 48, FS, 6.0), FS)
    assert onset["itd_us"] == pytest.approx(12 / FS * 1e6, abs=5.0)
    assert onset["ild_db"] == pytest.approx(20 * np.log10(2), abs=0.1)
    with pytest.raises(RenderError, match="outside"):
        onset_window(ears, n + 10, FS)


def test_interaural_cues_of_a_pure_delay_and_gain():
    # Closed form: right ear = left delayed 12 samples and 6 dB down → ITD 250 µs, ILD 6 dB.
    s = pink_noise(FS, seed=2)
    ears = np.stack([s, 0.5 * np.concatenate([np.zeros(12), s[:-12]])], 1)
    c = interaural_cues(ears, FS)
    assert c["itd_us"] == pytest.approx(12 / FS * 1e6, abs=2.0)
    assert c["ild_db"] == pytest.approx(20 * np.log10(2), abs=0.05)
    assert c["iacc"] > 0.99


def test_reference_pair_geometry():
    scene = load_scene("default")
    ref, dist = reference_scene(scene)
    assert dist == 2.5
    head = np.asarray(scene.listeners[0].position_m)
    pos = ref.device.driver_positions()
    np.testing.assert_allclose(np.linalg.norm(pos - head, axis=1), 2.5, atol=1e-9)
    nose = np.deg2rad(scene.listeners[0].yaw_deg)
    fwd = np.array([np.cos(nose), np.sin(nose), 0])
    ang = np.degrees(np.arccos((pos - head) @ fwd / 2.5))
    np.testing.assert_allclose(ang, 30.0, atol=1e-9)
    left = np.array([-np.sin(nose), np.cos(nose), 0])
    assert (pos[0] - head) @ left > 0 > (pos[1] - head) @ left  # "left" on the listener's left
    # Each driver's axis points at the head.
    np.testing.assert_allclose(np.einsum("ij,ij->i", ref.device.driver_axes(),
                                         (head - pos) / 2.5), 1.0, atol=1e-9)


def test_reference_pair_moves_in_when_the_room_is_small():
    from dataclasses import replace

    scene = load_scene("default")
    li = replace(scene.listeners[0], position_m=(2.5, 2.0, 1.0))  # 2 m from the far wall
    ref, dist = reference_scene(scene.with_listener(0, position_m=li.position_m))
    assert 1.0 <= dist < 2.5
    assert all(ref.room.contains(p) for p in ref.device.driver_positions())


def _stream_swapping_at_10(stream, process, new, programme, block, blocks):
    """The programme (cut or zero-padded to `blocks` blocks) through `process(block)`, with
    `stream.set_network(new)` before block 10; returns (input, output)."""
    x = np.zeros((blocks * block, 2))
    x[:len(programme)] = programme[:blocks * block]
    out = []
    for k in range(blocks):
        if k == 10:
            stream.set_network(new)
        out.append(process(x[k * block:(k + 1) * block]))
    return x, np.concatenate(out)


def test_network_swap_while_streaming_crossfades_to_the_new_filters(soundbar, programme):
    # A new design (lower effort cap) while playing: the drivers crossfade, and once the fade
    # is over the stream is exactly the new network's offline render.
    scene, net, _ = soundbar
    new = build_network(scene, RenderParams(max_effort_db=10.0))
    from dsp.renderer import Renderer

    r = Renderer(net, block=256, crossfade=2048)
    x, y = _stream_swapping_at_10(r, r.process, new, programme, 256, 40)
    after = 10 * 256 + 2048
    ref_new = render_drivers(x, new)[:len(y)]
    ref_old = render_drivers(x, net)[:len(y)]
    assert np.max(np.abs(y[after:] - ref_new[after:])) < 1e-9
    assert np.max(np.abs(y[:2560] - ref_old[:2560])) < 1e-9


def test_path_stream_network_swap_keeps_alignment(soundbar, programme):
    _, _net, paths = soundbar
    scene = load_scene("design-soundbar-8")
    new = build_network(scene, RenderParams(max_effort_db=10.0))
    from dataclasses import replace as dc_replace

    p = dc_replace(paths, filters=dict(paths.filters), gains_db=dict(paths.gains_db))
    ps = PathStream(p, block=512, crossfade=2048)
    x, y = _stream_swapping_at_10(ps, lambda block: ps.process(block)[1], new, programme, 512,
                                  60)
    ref = render_path(x, p, "B")[:len(y)]  # p now holds the new folded filters
    after = 10 * 512 + 2048
    assert np.max(np.abs(y[after:] - ref[after:])) < 1e-9
    # Still aligned with X: a centred click arrives at the same sample as before.
    click = np.zeros((2000, 2))
    click[100] = 1.0
    e = np.abs(render_path(click, p, "B")).sum(axis=1)
    ex = np.abs(render_path(click, p, "X")).sum(axis=1)
    assert abs(int(np.argmax(e > 0.25 * e.max())) - int(np.argmax(ex > 0.25 * ex.max()))) <= 2
