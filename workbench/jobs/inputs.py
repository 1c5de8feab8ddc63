"""The files a job reads, so that none of its outputs may land on one of them.

A job that writes files refuses, before any work, an output that would replace a file it reads
(`sim.outputs.refuse_overwrite`: the same path, the same file through a link or a hard link, a
path inside an input folder), with `sim.outputs.OutputError` naming the output and the input.
What a job reads is its request's own files (audio, a reference, a loss trace), the files its
scene refers to (`scene_files`), and the request's `reads`: what the caller read to make the
request (the scene file, a target curve), which the request cannot know by itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sim.outputs import refuse_overwrite
from sim.scene import Scene


def scene_files(scene: Scene | None) -> tuple[Path, ...]:
    """The files a scene refers to (absolute, as loaded): source signals that are files, the
    listeners' SOFA HRTFs, the drivers' and microphones' SOFA directivities and FRD folders
    (no output may land inside one)."""
    if scene is None:
        return ()
    files = [s.signal for s in scene.sources if not s.signal.startswith("builtin:")]
    files += [li.hrtf.file for li in scene.listeners if li.hrtf.file]
    parts = (*scene.device.drivers, *scene.device.microphones)
    files += [t.directivity.file for t in parts if t.directivity.file]
    return tuple(dict.fromkeys(Path(f) for f in files))


def scene_inputs(ref: str | os.PathLike, scene: Scene) -> tuple[Path, ...]:
    """The scene file `ref` names (nothing for a preset name) and `scene_files(scene)`."""
    path = Path(ref)
    return ((path,) if path.is_file() else ()) + scene_files(scene)


def refuse_outputs_on_inputs(outputs: Iterable[str | os.PathLike | None],
                             inputs: Iterable[str | os.PathLike | None]) -> None:
    """`sim.outputs.refuse_overwrite` with the unset ones (None, "") left out of both lists."""
    refuse_overwrite([p for p in outputs if p], [p for p in inputs if p])
