"""The one writer of every file the project writes, and the guard that keeps outputs off inputs.

It lives in sim/, the lowest layer, because sim/ (scenes, caches), dsp/ (audio, exports) and
workbench/ (reports, autosave) all write files and all may import sim/.

Contract of `write_file(path, fill)`:
- `fill(tmp)` writes the whole content to `tmp`, a fresh file in the target's own folder whose name
  ends in the target's suffix (so format-guessing writers such as soundfile or sofar see `.wav`,
  `.sofa`); then the temp file is fsynced and renamed over the target (atomic on POSIX), and the
  folder is fsynced. A reader, or a run killed at any instant, sees the old file or the new one,
  never a truncated or empty one; a failed `fill` leaves nothing new behind.
- The target keeps its mode when it exists; a new file gets 0666 less the umask (mkstemp's 0600
  would otherwise leak into every output).
- A read-only target (no write bit for anybody: 0444) is refused with `OutputError` naming it, also
  for root, who could otherwise replace it; so is a target that is a folder.
- Errors name the target, never the internal temp file.

`batch()` makes several writes one: inside the block every `write_file` checks its target and
fills and fsyncs its temp file but renames nothing; when the block ends without an exception
the temps replace their targets (in the order written), else they are all removed and no
target changes. So a multi-file run (a render folder, an export of all formats) that fails
anywhere, a refused read-only target included, writes nothing new; a kill during the renames
leaves each file whole, old or new.

`refuse_overwrite(outputs, inputs)` raises `OutputError` when an output would land on an input:
the same path, the same file through links or hard links, or a path below an input folder that a
folder mode reads from.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["OutputError", "batch", "refuse_overwrite", "write_bytes", "write_file", "write_npz",
           "write_text"]

_STAGED: contextvars.ContextVar[list[tuple[Path, Path]] | None] = contextvars.ContextVar(
    "_STAGED", default=None)
"""(temp, target) pairs of the open `batch` of this thread/context; None outside one."""


class OutputError(OSError):
    """An output that must not or could not be written; `filename` is the target."""

    def __init__(self, path: str | os.PathLike, reason: str, code: int = errno.EPERM):
        super().__init__(code, reason, str(path))

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _target_mode(path: Path) -> int:
    """The mode the written file gets: the existing file's, else 0666 less the umask."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return 0o666 & ~_umask()
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(path, "is a folder, expected a file", errno.EISDIR)
    if not st.st_mode & 0o222:
        raise OutputError(path, "is read-only; not replaced (make it writable or choose another"
                                " name)", errno.EACCES)
    return stat.S_IMODE(st.st_mode)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot fsync a folder; the data is safe
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_file(path: str | os.PathLike, fill: Callable[[Path], None]) -> Path:
    """Write `path` atomically through `fill(tmp)` (see the module docstring); return the path.
    Inside a `batch` the rename waits for the end of the block."""
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(path, f"folder {path.parent} does not exist", errno.ENOENT)
    mode = _target_mode(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}",
                                        dir=path.parent)
    except OSError as e:
        raise OutputError(path, f"cannot write there ({e.strerror})",
                          e.errno or errno.EIO) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        fill(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        staged = _STAGED.get()
        if staged is not None:
            staged.append((tmp, path))
            return path
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OutputError):
            raise
        raise OutputError(path, e.strerror or str(e), e.errno or errno.EIO) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Make the writes inside the block one: all replace their targets when it ends without an
    exception, none otherwise (see the module docstring). A nested batch joins the outer one."""
    if _STAGED.get() is not None:
        yield
        return
    staged: list[tuple[Path, Path]] = []
    token = _STAGED.set(staged)
    done = False
    try:
        yield
        done = True
    finally:
        _STAGED.reset(token)
        if not done:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
    _commit(staged)


def _commit(staged: list[tuple[Path, Path]]) -> None:
    """Rename each staged temp over its target; on a failure remove the temps not yet renamed."""
    for k, (tmp, path) in enumerate(staged):
        try:
            os.replace(tmp, path)
        except OSError as e:
            for rest, _ in staged[k:]:
                rest.unlink(missing_ok=True)
            raise OutputError(path, e.strerror or str(e), e.errno or errno.EIO) from None
    for folder in dict.fromkeys(path.parent for _, path in staged):
        _fsync_dir(folder)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    return write_file(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_npz(path: str | os.PathLike, arrays: Mapping[str, Any],
              compressed: bool = False) -> Path:
    """Write `arrays` (name → array) as an .npz (numpy.savez, or savez_compressed) atomically."""
    import numpy as np

    save = np.savez_compressed if compressed else np.savez

    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: savez would add ".npz" to another suffix
            save(f, **arrays)

    return write_file(path, fill)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()  # follows links: a link to an input is that input
    except OSError:
        return None
    return st.st_dev, st.st_ino


def refuse_overwrite(outputs: Iterable[str | os.PathLike],
                     inputs: Iterable[str | os.PathLike]) -> None:
    """Raise OutputError if any output is one of the inputs (path, link, hard link) or lies
    inside an input folder."""
    ins = [Path(p) for p in inputs]
    in_ids = {ident: p for p in ins if (ident := _identity(p)) is not None}
    in_resolved = {p.resolve(): p for p in ins}
    for out in (Path(p) for p in outputs):
        src = in_ids.get(_identity(out)) or in_resolved.get(out.resolve())
        if src is None:
            src = next((p for r, p in in_resolved.items() if r.is_dir() and r in
                        out.resolve().parents), None)
        if src is not None:
            what = "inside the input folder" if src.is_dir() else "the input file"
            raise OutputError(out, f"would overwrite {what} {src}; choose another output",
                              errno.EEXIST)
