"""The one reader of model weight files (numpy .npz archives) for every runtime model.

A weight file holds named float arrays and, optionally, a JSON string array named ``meta``.
Every way such a file can be broken (missing, truncated, not a zip, a bad member, bad JSON)
ends in the caller's own error class with the path in the message, never in a zipfile,
EOF or JSON error from deep inside numpy.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np


def read_weights(path: str | Path, error: type[Exception], what: str,
                 hint: str = "") -> tuple[dict[str, np.ndarray], dict]:
    """Arrays (name -> array, ``meta`` left out) and the decoded ``meta`` dict ({} if absent).

    error: the exception class raised for every failure; what: the model's name in messages
    ("PLC weights"); hint: appended to the not-found message (how to make the file).
    """
    p = Path(path)
    if not p.is_file():
        raise error(f"{what} not found: {p}" + (f" ({hint})" if hint else ""))
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        # json.JSONDecodeError is a ValueError
        raise error(f"cannot read {what} {p}: {exc}") from exc
    if not isinstance(meta, dict):
        raise error(f"cannot read {what} {p}: meta is {type(meta).__name__}, expected an object")
    return arrays, meta
