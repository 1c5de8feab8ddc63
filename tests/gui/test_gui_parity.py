"""Parity of the two faces (issue 11): every option of `awb enhance`, `awb dred simulate`,
`awb design`, `awb render` and `awb chain` maps to a control of the panel (and dialog) that
runs the same job, and every control there maps to an option — or a table below says why not.

The options come from awb's own parser, the controls from the live widgets: adding an option
or a control without a line here fails, and so does a line naming one that no longer exists.
"""

from dataclasses import dataclass

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QListWidget,
    QScrollBar,
    QTabBar,
    QWidget,
)

from dsp.export import format_names
from dsp.listening import PATHS
from sim import device_library
from workbench.cli.main import build_parser
from workbench.gui.audio.clip_audition import ClipAudition
from workbench.gui.audio.meters import LevelMeters
from workbench.gui.design.export_dialog import ExportDialog
from workbench.gui.design.target_curve_editor import TargetCurveEditor
from workbench.gui.device.canvas import DeviceCanvas
from workbench.gui.device.library_dialogs import LibraryDialog, SaveDeviceDialog
from workbench.gui.device.table import ParameterForm, PartsTable
from workbench.gui.plots.polar import PolarView
from workbench.gui.plots.programme import ProgrammeView
from workbench.gui.render.render_dialog import RenderChoice, RenderDialog

INPUTS = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractSlider, QListWidget)
COMPOSITES = (ClipAudition, TargetCurveEditor, ProgrammeView, LevelMeters, PolarView,
              PartsTable, ParameterForm, DeviceCanvas)
"""Widgets of ours that count as one control (their own buttons are theirs)."""

SCENE_SOURCE = ("the scene source (the talker, and noise, simulated at a device microphone): the "
                "command line takes audio files (`awb simulate --talkers` gives the responses)")
RUNS_IT = "starts the job: the command line runs it when called"
CANCELS = "cancels the job: Ctrl+C on the command line"
LISTENING = "listening through the audio device: the command line writes files"
OPEN_SCENE = "the panel works on the window's open scene (File ▸ Open, or the scene editor)"
QUIET = "progress shows in the panel's progress bar"
DEVICE_EDIT = ("edits the scene's device (one undo step each): the command line reads device "
               "files, written by Device ▸ Save Device As… (or by hand), and `awb scene "
               "validate` checks them as every edit here is checked")

@dataclass(frozen=True)
class Face:
    """One command and the GUI that runs the same job.

    cli_to_gui: option (positional: its name) → the controls that set it; cli_only / gui_only:
    option or control → why the other face has none. Controls are the panel's attribute names,
    "dialog." + the dialog's, and "name[key]" for a dict of controls.
    """

    command: tuple[str, ...]
    cli_to_gui: dict[str, tuple[str, ...]]
    cli_only: dict[str, str]
    gui_only: dict[str, str]


FACES = {
    "enhance": Face(
        ("enhance",),
        cli_to_gui={
            "files": ("radio_file", "noisy_edit", "browse_noisy", "save_button"),
            "--oracle": ("clean_edit", "browse_clean", "oracle_check"),
            "--no-postfilter": ("postfilter_check",),
            "--postfilter-strength": ("strength_spin",),
            "--postfilter-gate": ("gate_check",),
            "--no-comb": ("comb_check",),
            "--int8": ("int8_check",),
        },
        cli_only={
            "--in-dir": "a batch over a folder: the panel enhances one input at a time",
            "--out-dir": "a batch over a folder: the panel enhances one input at a time",
        },
        gui_only={
            **dict.fromkeys(("radio_scene", "mic_combo", "engine_combo", "talker_combo",
                             "noise_list", "seconds_spin"), SCENE_SOURCE),
            "process_button": RUNS_IT, "cancel_button": CANCELS, "audition": LISTENING,
        }),
    "dred": Face(
        ("dred", "simulate"),
        cli_to_gui={
            "clean": ("radio_file", "file_edit", "browse_file"),
            "--out": ("save_button",),
            "--loss": ("loss_combo",),
            "--loss-trace": ("loss_combo", "browse_trace"),
            "--bitrate": ("bitrate_spin",),
            "--lbrr": ("lbrr_check",),
            "--dred-ms": ("depth_spin",),
            "--dred-kbps": ("budget_spin",),
            "--no-dred": ("dred_check",),
            "--no-neural-plc": ("plc_check",),
            "--expected-loss": ("expect_spin",),
            "--seconds": ("seconds_spin",),
            "--seed": ("seed_spin",),
        },
        cli_only={
            "--report": "the panel shows the report's figures in its table and info line",
            "--quiet": QUIET,
        },
        gui_only={
            **dict.fromkeys(("radio_scene", "mic_combo", "engine_combo", "talker_combo"),
                            SCENE_SOURCE),
            "process_button": RUNS_IT, "cancel_button": CANCELS, "audition": LISTENING,
        }),
    "chain": Face(
        ("chain",),
        cli_to_gui={
            "--talker": ("talker_edit", "browse_talker"),
            "--noise": ("noise_edit", "browse_noise"),
            "--snr": ("snr_spin",),
            "--loss": ("loss_combo", "loss_spin", "burst_spin"),
            "--loss-trace": ("trace_edit", "browse_trace"),
            "--bitrate": ("bitrate_spin",),
            "--no-lbrr": ("lbrr_check",),
            "--dred-ms": ("depth_spin",),
            "--no-percepnet": ("bypass_checks[percepnet]",),
            "--no-dred": ("dred_check",),
            "--dred-kbps": ("budget_spin",),
            "--no-neural-plc": ("plc_check",),
            "--percepnet-strength": ("strength_spin",),
            "--engine": ("engine_combo",),
            "--bypass": tuple(f"bypass_checks[{s}]" for s in ("room", "sender", "network",
                                                              "receiver", "playback")),
            "--seed": ("seed_spin",),
            "--out": ("save_run_button",),
        },
        cli_only={"scene": OPEN_SCENE},
        gui_only={
            **{f"tap_buttons[{t}]": "which tap is heard: the command line writes every tap"
               for t in ("clean", "mic", "enhanced", "coded", "lossy", "output", "ears")},
            **{f"spec_combos[{k}]": "which taps the spectrograms show: the command line writes "
                                    "every tap" for k in ("a", "b")},
            "noise_check": "silences the noise while listening live: on the command line "
                           "--snr sets its level",
            "quality_spin": "the live scores' window: the command line scores the whole run",
            "start_button": LISTENING, "stop_button": LISTENING,
            "cancel_save_button": CANCELS,
        }),
    "design": Face(
        ("design",),
        cli_to_gui={
            "--method": ("method_combo",),
            "--taps": ("taps_combo",),
            "--delay": ("delay_spin",),
            "--max-effort-db": ("effort_slider",),
            "--target-curve": ("target_editor",),
            "--robust-cm": ("robust_spin",),
            "--listener": ("listener_combo",),
            "--null-angles": ("null_edit",),
            "--lobe-half-width": ("lobe_spin",),
            "--null-gain-db": ("null_gain_spin",),
            "--virtual-angle": ("virtual_spin",),
            "--probe-cm": ("probe_spin",),
            "--measured-plant": ("plant_button", "simulated_button"),
            "--out": ("export_button", "dialog.folder_edit"),
            "--stem": ("dialog.stem_edit",),
            "--format": tuple(f"dialog.checks[{f}]" for f in format_names()),
        },
        cli_only={
            "scene": OPEN_SCENE,
            "--report": "the export always writes report.json beside the filters",
            "--plant-timing": "Design ▸ Keep Measured Timing Between Drivers, beside Design ▸ "
                              "Use Measured Plant…: a menu toggle (remembered), as Automatic "
                              "Redesign",
        },
        gui_only={
            "redesign_button": "redesigns now when automatic redesign is off: the command line "
                               "designs once per call",
        }),
    "render": Face(
        ("render",),
        cli_to_gui={
            "input": ("open_button",),
            "--out": ("render_button", "audio_render_button", "dialog.folder_edit"),
            "--path": tuple(f"dialog.path_checks[{p}]" for p in PATHS),
            "--block": ("block_combo",),
            "--engine": ("mode_combo",),
            "--early-only": ("mode_combo",),
            "--lr-method": ("lr_combo",),
            "--c-method": ("c_combo",),
            "--design-space": ("space_combo",),
            "--no-cues": ("dialog.cues_check",),
            "--centre-width": ("width_slider",),
            "--smoothing-ms": ("smoothing_spin",),
            "--ambience": ("ambience_slider",),
            "--centre-gain-db": ("centre_gain_spin",),
            "--floor-db": ("floor_spin",),
            "--frame": ("frame_combo",),
            "--taps": ("taps_combo",),
            "--max-effort-db": ("effort_spin",),
            "--early-window-ms": ("early_window_spin",),
            "--room-max-hz": ("room_max_spin",),
            "--listener": ("listener_combo",),
        },
        cli_only={"scene": OPEN_SCENE, "--quiet": QUIET},
        gui_only={
            **{f"path_buttons[{p}]": "which path is heard (A/B/X listening): the files are "
                                     "--path" for p in PATHS},
            **dict.fromkeys(("play_button", "stop_button", "position_slider", "loop_check",
                             "loop_start", "loop_end", "device_combo", "rescan_button",
                             "meters", "view"), LISTENING),
            "rebuild_button": "rebuilds the paths after a scene edit: the command line builds "
                              "them per call",
            "build_cancel": CANCELS, "render_cancel": CANCELS,
        }),
    "device editor": Face(
        ("scene", "validate"),
        cli_to_gui={},
        cli_only={"scene": "a device file is checked as a whole; the editor checks the "
                           "scene's device on every edit (the reason shows under the table)"},
        gui_only={
            **dict.fromkeys(("table", "params", "top_view", "front_view", "add_driver_button",
                             "add_mic_button", "remove_button"), DEVICE_EDIT),
            "polar": "the polar map of the selected part: `awb design` reports the design's",
            "close_button": "closes the editor window",
            "save_button": "Device ▸ Save Device As…: the library file `awb presets list` "
                           "lists",
        }),
    "device library": Face(
        ("presets", "list"),
        cli_to_gui={},
        cli_only={"--kind": "the dialog offers devices only: scenes are File ▸ New from Preset"},
        gui_only={
            "device_list": "picks the device to put in the scene; the command line lists the "
                           "same devices (a scene file names one by its path)",
            "ok_button": "replaces the scene's device (one undo step)",
            "cancel_button": "closes the dialog",
            **dict.fromkeys(("dialog.name_edit", "dialog.description_edit", "dialog.ok_button",
                             "dialog.cancel_button"),
                            "Device ▸ Save Device As… writes the library file that `awb "
                            "presets list` then lists with its path"),
        }),
}


def cli_options(command: tuple[str, ...]) -> set[str]:
    """The subcommand's options (long form) and positionals (their names), --help left out."""
    parser = build_parser()
    for word in command:
        sub = next(a for a in parser._actions if a.dest in ("command", "action") and a.choices)
        parser = sub.choices[word]
    return {max(a.option_strings, key=len) if a.option_strings else a.dest
            for a in parser._actions if a.dest != "help"}


def controls(obj: QWidget, prefix: str = "") -> dict[str, QWidget]:
    """The controls an object holds as attributes (a dict of them: name[key])."""
    out = {}
    for name, value in vars(obj).items():
        if isinstance(value, INPUTS + COMPOSITES):
            out[prefix + name] = value
        elif isinstance(value, dict):
            out.update({f"{prefix}{name}[{k}]": v for k, v in value.items()
                        if isinstance(v, INPUTS)})
    return out


def unnamed_controls(obj: QWidget, named: dict[str, QWidget]) -> list[QWidget]:
    """Input widgets inside obj that no attribute names (those inside a named control, a tab
    bar's or a table's own buttons and scroll bars are part of those)."""
    ids = {id(w) for w in named.values()}

    def inside_named(w):
        p = w.parentWidget()
        while p is not None and p is not obj:
            if id(p) in ids or isinstance(p, QTabBar | QAbstractItemView):
                return True
            p = p.parentWidget()
        return False

    return [w for w in obj.findChildren(QWidget) if isinstance(w, INPUTS)
            and not isinstance(w, QScrollBar) and id(w) not in ids and not inside_named(w)]


@pytest.fixture
def gui(window, qtbot, tmp_path):
    """feature → (panel, dialog or None)."""
    export = ExportDialog(window, tmp_path, list(format_names()), "filters")
    render = RenderDialog(window, RenderChoice(tmp_path))
    for d in (export, render):
        qtbot.addWidget(d)
    library = LibraryDialog(device_library.scan(), window)
    save_device = SaveDeviceDialog("a device", window)
    for d in (library, save_device):
        qtbot.addWidget(d)
    return {"enhance": (window.enhance.panel, None), "dred": (window.dred.panel, None),
            "chain": (window.chain.panel, None),
            "design": (window.design.panel, export), "render": (window.renderer.panel, render),
            "device editor": (window.device_tools.open_editor(), None),
            "device library": (library, save_device)}


@pytest.mark.parametrize("feature", FACES)
def test_every_option_has_a_control_and_every_control_an_option(gui, feature):
    face = FACES[feature]
    panel, dialog = gui[feature]
    named = controls(panel) | (controls(dialog, "dialog.") if dialog is not None else {})
    assert not unnamed_controls(panel, named), "a control the parity tables cannot name"
    options = cli_options(face.command)
    assert not set(face.cli_to_gui) & set(face.cli_only)
    assert options == set(face.cli_to_gui) | set(face.cli_only), (
        f"awb {' '.join(face.command)}: options without a control or a reason: "
        f"{sorted(options - set(face.cli_to_gui) - set(face.cli_only))}; lines for options "
        f"that do not exist: {sorted((set(face.cli_to_gui) | set(face.cli_only)) - options)}")
    mapped = {c for cs in face.cli_to_gui.values() for c in cs}
    assert all(face.cli_to_gui.values()) and not mapped & set(face.gui_only)
    assert set(named) == mapped | set(face.gui_only), (
        f"{feature}: controls without an option or a reason: "
        f"{sorted(set(named) - mapped - set(face.gui_only))}; lines for controls that do not "
        f"exist: {sorted((mapped | set(face.gui_only)) - set(named))}")
    assert all(reason.strip() for reason in (*face.cli_only.values(), *face.gui_only.values()))


def test_the_parity_check_fails_on_an_option_without_a_control(monkeypatch):
    """Keeps the test honest: a new `awb enhance` option with no line here is caught."""
    from workbench.cli import enhance

    register = enhance.register

    def with_extra(subparsers):
        register(subparsers)
        subparsers.choices["enhance"].add_argument("--new-knob", type=float)

    monkeypatch.setattr(enhance, "register", with_extra)
    face = FACES["enhance"]
    assert cli_options(face.command) - set(face.cli_to_gui) - set(face.cli_only) == {
        "--new-knob"}

