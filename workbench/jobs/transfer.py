"""The transfer job: driver → ear impulse responses of a scene (and, with talkers, talker/noise →
device microphone), free field or room. Behind `awb simulate` and the Simulate menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.scene import Scene
from sim.task import TaskState
from sim.transfer import TransferResult


@dataclass(frozen=True)
class TransferRequest:
    """engine: "freefield" | "room"; fs_hz: rate in Hz (None: the scene's); talkers: also the
    talker/noise → microphone responses; early_only: room engine, first reflections only."""

    scene: Scene
    engine: str = "freefield"
    fs_hz: int | None = None
    talkers: bool = False
    early_only: bool = False


def run(request: TransferRequest, state: TaskState | None = None) -> TransferResult:
    """`sim.transfer.simulate` of the request (looked up at call time: tests stand in an
    engine there); the outcome is its `TransferResult`."""
    from sim import transfer

    return transfer.simulate(request.scene, request.engine, fs_hz=request.fs_hz,
                             talkers=request.talkers, early_only=request.early_only, state=state)
