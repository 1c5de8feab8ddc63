"""Clip A/B playback (`dsp.clip_paths`) through the audition Player: the output is the selected
clip itself, sample for sample, away from switches; switches stay within the crossfade bound;
the limiter holds its ceiling; seek, loop and end of programme keep every clip in step;
loudness matching; bad clips get ClipError."""

import numpy as np
import pytest
from conftest import play_blocks

from dsp.audition import crossfade_bound
from dsp.clip_paths import ClipError, ClipStream, clip_player, make_clips
from dsp.loudness import integrated_loudness

FS = 16000
BLOCK = 256


def _tone(f_hz, seconds, amp, phase=0.0):
    t = np.arange(round(seconds * FS)) / FS
    return amp * np.sin(2 * np.pi * f_hz * t + phase)


def _three(seconds=3.0):
    """Three clips that differ a lot from each other while each one's own steps are small (a
    switch without crossfade would show)."""
    return make_clips({"Noisy": _tone(150, seconds, 0.2),
                       "Enhanced": np.stack([_tone(230, seconds, 0.15),
                                             _tone(230, seconds, 0.15, np.pi)], 1),
                       "Clean": _tone(310, seconds, 0.25, 1.0)}, FS, match_loudness=False)


def test_output_is_the_selected_clip_and_switches_obey_the_crossfade_bound():
    clips = _three()
    player = clip_player(clips, block=BLOCK, ceiling_db=0.0, path="Noisy")
    assert player.names == ("Noisy", "Enhanced", "Clean") and player.latency == \
        player.limiter.latency
    player.play()
    switches = {40: "Enhanced", 80: "Clean", 81: "Noisy", 120: "Enhanced"}  # 81: mid-fade
    y = play_blocks(player, 170, {k: (lambda p, q=q: p.select(q)) for k, q in switches.items()})
    mix = y[player.limiter.latency:]
    sig = clips.signals
    n = len(mix)
    # Away from switches: exactly one clip, at the programme position (no processing latency).
    np.testing.assert_allclose(mix[5 * BLOCK:40 * BLOCK], sig[0, 5 * BLOCK:40 * BLOCK],
                               atol=1e-12)
    np.testing.assert_allclose(mix[130 * BLOCK:n], sig[1, 130 * BLOCK:n], atol=1e-12)
    # Everywhere: steps ≤ the clips' own steps + 2·peak/T.
    natural = max(np.max(np.abs(np.diff(s, axis=0))) for s in sig)
    peak = float(np.max(np.abs(sig)))
    bound = natural + crossfade_bound(peak, player.switch_samples)
    jump = float(np.max(np.abs(np.diff(mix[player.fade_samples:], axis=0))))
    assert jump <= bound + 1e-12
    assert [p for _, p in player.switch_log] == ["Enhanced", "Clean", "Noisy", "Enhanced"]
    assert player.switch_log[0][0] == 40 * BLOCK
    # A switch takes switch_samples: halfway through, both clips weigh one half.
    mid = 40 * BLOCK + player.switch_samples // 2
    np.testing.assert_allclose(mix[mid], 0.5 * (sig[0, mid] + sig[1, mid]), atol=2e-3)
    # The bound is not vacuous: a 1-sample "crossfade" breaks it.
    hard = clip_player(clips, block=BLOCK, ceiling_db=0.0, switch_ms=1000.0 / FS)
    hard.play()
    yh = play_blocks(hard, 170, {k: (lambda p, q=q: p.select(q)) for k, q in switches.items()})
    assert np.max(np.abs(np.diff(yh[hard.fade_samples:], axis=0))) > 3 * bound


def test_limiter_holds_the_ceiling_with_20_db_more_and_meters_report_it():
    loud = make_clips({"A": 10 * _tone(200, 2.0, 0.3), "B": 10 * _tone(440, 2.0, 0.25)}, FS,
                      match_loudness=False)
    player = clip_player(loud, block=BLOCK)
    player.play()
    y = play_blocks(player, 100, {50: lambda p: p.select("B")})
    assert 20 * np.log10(np.max(np.abs(y))) <= -1.0
    m = player.meter
    # 2.5 peak into a −1 dBFS ceiling: about −9 dB of gain reduction.
    assert m.path == "B" and m.gain_reduction_db < -8.0 and m.peak_dbfs[0] <= -1.0
    assert m.lrc_rms_dbfs == ()  # clips have no upmix


def test_seek_loop_and_end_keep_every_clip_in_step():
    clips = _three(2.0)
    player = clip_player(clips, block=BLOCK, ceiling_db=0.0, path="Clean")
    player.seek(1.0)
    player.play()
    y = play_blocks(player, 20)
    lat = player.limiter.latency
    start = FS  # 1.0 s
    got = y[lat + player.fade_samples:20 * BLOCK]
    want = clips.signals[2, start + player.fade_samples:start + 20 * BLOCK - lat]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert player.meter.position_s == pytest.approx(1.0 + 19 * BLOCK / FS)
    # Switching clips mid-programme continues at the same programme time.
    player.select("Noisy")
    y2 = play_blocks(player, 10)
    t = start + 20 * BLOCK
    np.testing.assert_allclose(y2[-BLOCK:], clips.signals[0, t + 9 * BLOCK - lat:t + 10 * BLOCK
                                                          - lat], atol=1e-12)
    # A loop region wraps every clip together.
    player.set_loop(0.25, 0.75)
    play_blocks(player, 200)
    assert 0.25 * FS <= player.transport.position < 0.75 * FS and player.state == "playing"
    # Without a loop the programme ends, rings out and stops back at the start.
    player.set_loop(None)
    play_blocks(player, round(2.0 * FS / BLOCK) + 4)
    assert player.state == "stopped" and player.position_s == 0.0
    assert np.max(np.abs(play_blocks(player, 4))) == 0.0


def test_loudness_matching_gives_every_clip_the_first_clips_loudness():
    quiet = _tone(300, 2.0, 0.02)
    loud = np.stack([_tone(500, 2.0, 0.3), _tone(700, 2.0, 0.3)], 1)
    clips = make_clips({"Ref": _tone(400, 2.0, 0.1), "Quiet": quiet, "Loud": loud}, FS)
    target = integrated_loudness(np.repeat(_tone(400, 2.0, 0.1)[:, None], 2, 1), FS)
    assert clips.gains_db[0] == 0.0
    assert clips.gains_db[1] == pytest.approx(20 * np.log10(0.1 / 0.02), abs=0.3)
    for name in clips.names:
        p = clip_player(clips, block=BLOCK, path=name, ceiling_db=0.0)
        p.play()
        y = p.render(round(1.9 * FS))[p.fade_samples + p.limiter.latency:]
        assert integrated_loudness(y, FS) == pytest.approx(target, abs=0.1), name
    plain = make_clips({"Ref": quiet, "Other": loud}, FS, match_loudness=False)
    assert plain.gains_db == (0.0, 0.0)
    # Mono clips are heard on both ears.
    stream = ClipStream(plain)
    block = stream.process(np.concatenate([plain.signals[0, :8], plain.signals[1, :8]], 1))
    np.testing.assert_array_equal(block[0, :, 0], block[0, :, 1])


def test_resampling_keeps_duration_and_pitch():
    clips = make_clips({"A": _tone(1000, 1.0, 0.3), "B": _tone(2000, 1.0, 0.3)}, FS)
    up = clips.resampled(48000)
    assert up.fs_hz == 48000 and up.signals.shape == (2, 48000, 2)
    assert up.duration_s == pytest.approx(clips.duration_s)
    spec = np.abs(np.fft.rfft(up.signals[1, :, 0]))
    assert np.argmax(spec) * 48000 / 48000 == pytest.approx(2000, abs=1)
    assert clips.resampled(FS) is clips


def test_bad_clips_and_paths_get_clear_errors():
    good = _tone(200, 1.0, 0.1)
    with pytest.raises(ClipError, match="one length"):
        make_clips({"A": good, "B": good[:-10]}, FS)
    bad = good.copy()
    bad[5] = np.nan
    with pytest.raises(ClipError, match=r"'B'.*NaN"):
        make_clips({"A": good, "B": bad}, FS)
    with pytest.raises(ClipError, match=r"\(n,\) or \(n, 2\)"):
        make_clips({"A": np.zeros((10, 3))}, FS)
    with pytest.raises(ClipError, match="no clips"):
        make_clips({}, FS)
    with pytest.raises(ClipError, match="empty"):
        make_clips({"A": np.zeros(0)}, FS)
    player = clip_player(make_clips({"A": good, "B": good}, FS))
    with pytest.raises(ValueError, match="must be one of A, B"):
        player.select("X")


@pytest.mark.audio
def test_clip_player_streams_through_jack():
    """2 s of three clips through a real PortAudio stream (JACK dummy backend), switched from
    the caller's thread: what the worker produced is each clip in turn, within the ceiling."""
    import time

    from workbench.gui.audio.engine import AudioEngine, jack_output_device

    device = jack_output_device()
    if device is None:
        pytest.skip("no JACK server (CI starts: jackd --no-realtime -d dummy -r 48000 -p 512)")
    clips = _three(3.0).resampled(48000)  # JACK runs at 48 kHz
    player = clip_player(clips, block=512, path="Noisy")
    engine = AudioEngine(player, device=device, record=True)
    engine.play()
    try:
        engine.start()
        time.sleep(0.7)
        engine.select("Clean")
        time.sleep(0.7)
        engine.select("Enhanced")
        time.sleep(0.7)
    finally:
        engine.close()
    stats = engine.stats()
    played = engine.recorded()
    assert engine.worker_error is None and stats["frames_played"] >= 1.5 * 48000
    assert [p for _, p in player.switch_log] == ["Clean", "Enhanced"]
    assert 20 * np.log10(np.max(np.abs(played))) <= -1.0
    # Between the switches the output is the selected clip at its programme time.
    lat, fade = player.limiter.latency, player.fade_samples
    first = player.switch_log[0][0]
    seg = slice(lat + fade, first)
    np.testing.assert_allclose(played[seg], clips.signals[0, fade:first - lat], atol=1e-12)
