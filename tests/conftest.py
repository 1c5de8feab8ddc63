"""Shared test set-up: headless Qt, the shared data folder, small helpers."""

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

import pytest

from sim.task import TaskState

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AWB_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path, monkeypatch):
    """Every test's per-user data folder (the device library) is its own temporary one."""
    from sim.user_data import ENV_VAR

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "user-data"))
    return tmp_path / "user-data"


def jack_output_or_skip() -> int:
    """The JACK server's output device (PortAudio index), or skip naming what is missing:
    PortAudio itself, or a JACK server running when PortAudio started."""
    from workbench.gui.audio.engine import jack_output_device
    from workbench.gui.audio.portaudio import portaudio_problem

    problem = portaudio_problem()
    if problem:
        pytest.skip(problem)
    device = jack_output_device()
    if device is None:
        pytest.skip("no JACK server (CI starts: jackd --no-realtime -d dummy -r 48000 -p 512)")
    return device


def shared_file(relative: str) -> Path:
    """A file in ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"shared data not available: {path} (set AWB_SHARED_DATA)")
    return path


def check_weights_file_errors(load, error: type[Exception], tmp_path: Path,
                              unreadable: str) -> None:
    """`load(path)` of a model's weights raises `error` for a missing file (saying "not found")
    and for a file that is not a zip archive (matching `unreadable`)."""
    with pytest.raises(error, match="not found"):
        load(tmp_path / "missing.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(error, match=unreadable):
        load(corrupt)


def play_blocks(player, blocks: int, events: dict | None = None):
    """`player.next_block()` `blocks` times, concatenated; events {block index:
    callable(player)} run just before that block."""
    import numpy as np

    out = []
    for k in range(blocks):
        if events and k in events:
            events[k](player)
        out.append(player.next_block())
    return np.concatenate(out)


def cancel_latencies(job, fractions) -> list[float]:
    """Seconds of the job's own CPU time from its last progress report before `state.cancel()`
    to it raising `Cancelled`, one per progress fraction: an upper bound of the work between two
    cancellation points that a loaded machine (other processes taking the cores) cannot inflate,
    as it would a wall-clock time.

    job(state) runs in a worker thread (as the GUI's JobRunner runs it); the test thread waits
    until the job's progress reaches the fraction (so each cancel lands in a known stage on any
    machine), cancels, and the worker notes its thread CPU time when Cancelled reached it.
    """
    import threading
    import time

    from sim.task import Cancelled

    out = []
    for fraction in fractions:
        reached, caught, last = threading.Event(), [], [0.0]

        def on_progress(f, _message, fraction=fraction, reached=reached, last=last):
            last[0] = time.thread_time()  # runs in the worker; never after the cancel
            if f >= fraction:
                reached.set()

        state = TaskState(on_progress)

        def work(state=state, caught=caught):
            try:
                job(state)
            except Cancelled:
                caught.append(time.thread_time())

        worker = threading.Thread(target=work)
        worker.start()
        assert reached.wait(60), f"the job never reached {fraction}"
        state.cancel()
        worker.join(60)
        assert caught, f"the job did not stop (cancelled at {fraction})"
        out.append(caught[0] - last[0])
    return out
