"""Screenshots of the main window for the docs.

    python scripts/screenshots.py [--out docs/screenshots] [--no-simulate] [--size 1440x900]
                                  [--design-scene design-soundbar-8] [--design-method beam]
                                  [--renderer-scene soundbar-8-studio]
                                  [--dred-speech FILE]
                                  [--only main|design|renderer|dred|device|chain ...]

Runs offscreen (no display needed) with throw-away settings. main-dark.png and main-light.png:
the default scene with the listener selected and, unless --no-simulate, a free-field
simulation in the transfer plots. design-dark.png: a design scene with its filter design
(Design panel, cancellation, polar plot, azimuth-frequency map, listening-zone overlay).
renderer-dark.png: the Renderer panel with a generated programme loaded (speech in the centre,
music hard left and right, 44.1 kHz so it is resampled), its L/R/C levels, a loop region, and
meters and position from about 2.5 s of offline playback (an offscreen machine has no sound card:
the picture shows the panel as it is with an output device). dred-dark.png: the DRED panel after
a real run (DRED + neural PLC against Opus LBRR + PLC, Gilbert–Elliott bursts) on a LibriSpeech
test-other utterance from ../shared/data when present, else on generated speech-like sound.
device-dark.png: the Device Editor on the design scene's device with a tweeter made a 2.5 cm
baffled piston aimed 30° (top and front views, the table, the live polar map at 8 kHz).
chain-dark.png: the Voice Chain panel about 10 s into a live run (on the real-time clock; no
sound card offscreen) of the DRED speech against a shared noise recording at 5 dB SNR, 20 %
bursty loss, with its spectrograms, packet timeline and per-tap scores.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ("main", "design", "renderer", "dred", "device", "chain")
CHAIN_NOISE = (ROOT.parent / "shared" / "data" / "noise"
               / "berlinnoise_market_square_bells_64710754.wav")
DRED_SPEECH = (ROOT.parent / "shared" / "data" / "speech" / "librispeech_test-other" / "2033"
               / "2033-164914-0000.flac")


def _window_size(text: str) -> tuple[int, int]:
    """"WxH" in pixels → (width, height)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WxH, e.g. 1440x900") from None
    return width, height


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--no-simulate", action="store_true",
                        help="skip the free-field simulation (empty plots)")
    parser.add_argument("--size", type=_window_size, default="1440x900",
                        help="window size WxH in pixels")
    parser.add_argument("--scene", default="default", help="scene file or preset")
    parser.add_argument("--design-scene", default="design-soundbar-8",
                        help="scene of design-dark.png")
    parser.add_argument("--design-method", default="beam",
                        choices=("ctc", "nullsteer", "beam", "virtualizer"))
    parser.add_argument("--renderer-scene", default="soundbar-8-studio",
                        help="scene of renderer-dark.png")
    parser.add_argument("--dred-speech", type=Path, default=DRED_SPEECH,
                        help="speech file of dred-dark.png (generated speech when missing)")
    parser.add_argument("--only", action="append", choices=SHOTS,
                        help="write only these screenshots (repeatable; default: all)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    width, height = args.size

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from workbench.gui.app import configure_application
    from workbench.gui.shell import recovery

    scratch = Path(tempfile.mkdtemp(prefix="awb-screenshots-"))
    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    recovery.default_recovery_dir = lambda: scratch / "recovery"
    args.out.mkdir(parents=True, exist_ok=True)

    def settle(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    wanted = set(args.only or SHOTS)
    shots = [("main", functools.partial(main_screenshot, theme="dark")),
             ("main", functools.partial(main_screenshot, theme="light")),
             ("design", design_screenshot), ("renderer", renderer_screenshot),
             ("dred", dred_screenshot), ("device", device_screenshot),
             ("chain", chain_screenshot)]
    written = []
    for name, shot in shots:
        if name not in wanted:
            continue
        path = shot(args, app, settle, scratch, width, height)
        if path is None:
            return 1
        written.append(path)
    for path in written:
        print(path)
    return 0


def main_screenshot(args, app, settle, scratch: Path, width: int, height: int, theme: str
                    ) -> Path | None:
    """main-THEME.png: `args.scene` with the listener selected and, unless --no-simulate, a
    free-field simulation in the transfer plots."""
    from PySide6.QtCore import QEventLoop, QTimer

    from workbench.gui.app import build_window
    from workbench.gui.shell.theme import apply_theme

    apply_theme(app, theme)
    window = build_window(args.scene, recovery_dir=scratch / "recovery", offer_recovery=False)
    window.set_theme(theme)
    window.resize(width, height)
    window.show()
    settle()
    window.view.fit_to_room()
    if window.document.scene.listeners:
        window.view.select(("listener", 0))
    if not args.no_simulate:
        loop = QEventLoop()
        window.runner.done.connect(loop.quit)
        QTimer.singleShot(60000, loop.quit)
        if window.simulate("freefield"):
            loop.exec()
        if window.transfer_view.result is None:
            print(f"note: no simulation shown ({window.transfer_view.message_label.text()})")
        else:
            window.transfer_view.driver_combo.setCurrentIndex(
                max(window.transfer_view.driver_combo.findText("tweeter"), 0))
    window.view.cursorMoved.emit(*window.view.room_point(window.view.viewport().rect().center()))
    settle()
    return _save_and_close(window, args.out / f"main-{theme}.png", settle)


def _save_and_close(window, path: Path, settle, widget=None) -> Path | None:
    """Grab the window (or `widget`, one of its windows) into `path` (through
    `sim.outputs.write_file`), then close the window without a save prompt."""
    from sim.outputs import OutputError, write_file

    def grab(tmp: Path) -> None:
        if not (widget or window).grab().save(str(tmp)):  # the format follows tmp's suffix (.png)
            raise OSError("Qt could not write the image")

    try:
        write_file(path, grab)
    except OutputError as e:
        print(f"error: could not write {e}", file=sys.stderr)
        path = None
    window.document.undo_stack.setClean()
    window.close()
    settle(0.1)
    return path


def design_screenshot(args, app, settle, scratch: Path, width: int, height: int) -> Path | None:
    """design-dark.png: the design of `args.design_scene` with `args.design_method`."""

    window = _dark_window(app, settle, scratch, args.design_scene, width, height)
    controller = window.design.controller
    controller.set_params(method=args.design_method)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
            controller.outcome is not None and controller.outcome.current
            and not controller.is_busy) and not controller.error:
        settle(0.1)
    if controller.error:
        print(f"note: the design was refused: {controller.error}")
    window.design.cancellation_dock.raise_()
    window.view.fit_to_room()
    if window.document.scene.listeners:
        window.view.select(("listener", 0))
    window.view.cursorMoved.emit(*window.view.room_point(window.view.viewport().rect().center()))
    settle()
    return _save_and_close(window, args.out / "design-dark.png", settle)


def renderer_screenshot(args, app, settle, scratch: Path, width: int,
                        height: int) -> Path | None:
    """renderer-dark.png: the Renderer panel with a generated programme."""
    import numpy as np
    from PySide6.QtCore import QSettings

    from dsp.audio_io import write_audio
    from dsp.signals import music_like, speech_like
    from workbench.gui.app import build_window
    from workbench.gui.audio import engine as audio_engine
    from workbench.gui.shell.theme import apply_theme

    fs, seconds = 44100, 8.0
    speech = speech_like(fs, seconds, seed=11)
    x = 0.1 * np.stack([speech + 0.8 * music_like(fs, seconds, seed=12),
                        speech + 0.8 * music_like(fs, seconds, seed=13)], 1)
    programme = scratch / "speech-and-music.wav"
    write_audio(programme, x, fs, subtype="PCM_24")

    audio_engine.output_problem = lambda *a, **k: None  # as with a sound card (see above)
    apply_theme(app, "dark")
    QSettings().remove("window/state")
    window = build_window(args.renderer_scene, recovery_dir=scratch / "recovery",
                          offer_recovery=False)
    window.set_theme("dark")
    window.resize(width, height)
    window.show()
    settle(0.5)
    workspace = window.renderer
    c, panel = workspace.controller, workspace.panel
    workspace.open_audio(programme)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and c.is_busy:
        settle(0.1)
    if c.player is None:
        print(f"error: the programme did not load: {c.error}", file=sys.stderr)
        return None
    panel.loop_check.setChecked(True)
    panel.loop_start.setValue(2.0)
    panel.loop_end.setValue(6.0)
    # 2.5 s of playback rendered offline (then on to a moment with speech in C) give the
    # meters and the position real values.
    player = c.player
    player.play()
    player.render(round(2.5 * player.fs_hz))
    for _ in range(round(2.0 * player.fs_hz / player.block)):
        if player.meter.lrc_rms_dbfs[2] > -28.0:
            break
        player.next_block()
    panel.meters.set_meter(player.meter)
    panel._show_position(player.position_s)
    panel._show_hearing("B", heard=False)
    window.view.fit_to_room()
    if window.document.scene.listeners:
        window.view.select(("listener", 0))
    workspace.show_dock()
    settle()
    return _save_and_close(window, args.out / "renderer-dark.png", settle)


def _dark_window(app, settle, scratch: Path, scene: str, width: int, height: int):
    """The dark window on `scene` in the default dock layout (not the last window's)."""
    from PySide6.QtCore import QSettings

    from workbench.gui.app import build_window
    from workbench.gui.shell.theme import apply_theme

    apply_theme(app, "dark")
    QSettings().remove("window/state")
    window = build_window(scene, recovery_dir=scratch / "recovery", offer_recovery=False)
    window.set_theme("dark")
    window.resize(width, height)
    window.show()
    settle(0.5)
    return window


def _bottom_panel_window(args, app, settle, scratch: Path, width: int, height: int):
    """The dark window on `args.scene` with the design's plot docks stepped aside, so a bottom
    panel gets the row's width."""
    window = _dark_window(app, settle, scratch, args.scene, width, height)
    for dock in (window.design.polar_dock, window.design.map_dock):
        dock.hide()
    return window


def dred_screenshot(args, app, settle, scratch: Path, width: int, height: int) -> Path | None:
    """dred-dark.png: the DRED panel after a real run on `args.dred_speech`."""
    import numpy as np

    from dsp.audio_io import write_audio
    from dsp.signals import speech_like
    from workbench.gui.audio import engine as audio_engine

    speech = args.dred_speech
    if not speech.is_file():
        print(f"note: {speech} not found: generated speech-like sound instead")
        speech = scratch / "speech.wav"
        write_audio(speech, 0.2 * speech_like(16000, 6.0, seed=5), 16000, subtype="PCM_16")
    audio_engine.output_problem = lambda *a, **k: None  # as with a sound card
    window = _bottom_panel_window(args, app, settle, scratch, width, height)
    workspace = window.dred
    panel = workspace.panel
    workspace.show_dock()
    panel.radio_file.setChecked(True)
    panel.file_edit.setText(str(speech))
    panel.seconds_spin.setValue(6.0)
    panel.loss_combo.setCurrentText("ge:0.2,10")
    panel.seed_spin.setValue(2)
    if not panel.process():
        print(f"error: the DRED run did not start: {panel.error_label.text()}", file=sys.stderr)
        return None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and panel.runner.is_running:
        settle(0.1)
    if panel.outcome is None:
        print(f"error: the DRED run failed: {panel.error_label.text()}", file=sys.stderr)
        return None
    run = panel.outcome.run
    # Two seconds into the DRED clip and on to a word, as when listening (played offline: no
    # sound card here).
    audition = panel.audition
    player = audition.player
    player.play()
    player.render(round(2.0 * player.fs_hz))
    for _ in range(round(2.0 * player.fs_hz / player.block)):
        if max(player.meter.rms_dbfs) > -30.0:
            break
        player.next_block()
    audition.meters.set_meter(player.meter)
    audition._show_position(player.position_s)
    print(f"DRED run: {run.counters}, {run.kbps['total']:.1f} kb/s, PESQ-WB"
          f" {np.round([panel.outcome.metrics[k]['pesq_wb'] for k in ('baseline', 'run')], 2)}")
    window.view.fit_to_room()
    workspace.show_dock()
    settle()
    return _save_and_close(window, args.out / "dred-dark.png", settle)


def device_screenshot(args, app, settle, scratch: Path, width: int, height: int) -> Path | None:
    """device-dark.png: the Device Editor with one driver made a 2.5 cm piston aimed 30°."""
    from dataclasses import replace

    from sim.directivity import Piston

    window = _dark_window(app, settle, scratch, args.design_scene, width, height)
    scene = window.document.scene
    drivers = list(scene.device.drivers)
    drivers[0] = replace(drivers[0], directivity=Piston(radius_m=0.025), axis_deg=(30.0, 0.0))
    window.document.push(scene.with_device(drivers=tuple(drivers)), "Piston aimed 30°")
    window.registry["actionDeviceEditor"].trigger()
    editor = window.device_tools.editor
    editor.select(("driver", 0))
    editor.polar.choice_combo.setCurrentIndex(5)  # 8 kHz
    settle(0.5)
    return _save_and_close(window, args.out / "device-dark.png", settle, widget=editor)



def chain_screenshot(args, app, settle, scratch: Path, width: int, height: int) -> Path | None:
    """chain-dark.png: the Voice Chain panel about 10 s into a live run."""
    import numpy as np

    from dsp.audio_io import write_audio
    from dsp.signals import speech_like

    talker, noise = args.dred_speech, CHAIN_NOISE
    if not talker.is_file() or not noise.is_file():
        print("note: shared speech/noise not found: generated sound instead")
        talker, noise = scratch / "talker.wav", scratch / "noise.wav"
        write_audio(talker, 0.2 * speech_like(16000, 12.0, seed=5), 16000)
        write_audio(noise, 0.05 * np.random.default_rng(1).standard_normal(160000), 16000)
    window = _bottom_panel_window(args, app, settle, scratch, width, height)
    window.chain.show_dock()
    panel = window.chain.panel
    panel.talker_edit.setText(str(talker))
    panel.noise_edit.setText(str(noise))
    panel.start_button.click()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (panel.session.graph is None
                                           or panel.session.graph.index < 500):
        settle(0.1)
    while time.monotonic() < deadline and panel.tap_table.item(5, 1).text() == "—":
        settle(0.1)  # the scores of the last seconds
    if panel.session.graph is None:
        print(f"error: the chain did not start: {panel.error_label.text()}", file=sys.stderr)
        return None
    window.view.fit_to_room()
    settle()
    return _save_and_close(window, args.out / "chain-dark.png", settle)


if __name__ == "__main__":
    sys.exit(main())

