"""int8 weight quantization: symmetric, one scale per output row.

``W ≈ q · s[:, None]`` with ``q = round(W / s)`` in [−127, 127] and ``s = max|W_row| / 127``.
Only matrices (ndim ≥ 2) are quantized; vectors (biases, input normalisation) stay float32.
At load time the weights are expanded back to float32 (numpy has no fast int8 GEMV), so int8
saves storage (≈ 4× vs float32) and shows the quality cost; it does not change the speed.
"""

from __future__ import annotations

import numpy as np

Q_SUFFIX, S_SUFFIX = "__q", "__s"


def quantize_int8(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Quantized storage dict: matrices → name__q (int8) + name__s (float32 per row)."""
    out: dict[str, np.ndarray] = {}
    for k, w in weights.items():
        w = np.asarray(w, dtype=np.float32)
        if w.ndim < 2:
            out[k] = w
            continue
        flat = w.reshape(w.shape[0], -1)
        s = np.abs(flat).max(axis=1) / 127.0
        s[s == 0] = 1.0
        q = np.clip(np.rint(flat / s[:, None]), -127, 127).astype(np.int8)
        out[k + Q_SUFFIX] = q.reshape(w.shape)
        out[k + S_SUFFIX] = s.astype(np.float32)
    return out


def dequantize(stored: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Inverse of `quantize_int8` (float32); plain float arrays pass through as float32."""
    out: dict[str, np.ndarray] = {}
    for k, v in stored.items():
        if k.endswith(S_SUFFIX):
            continue
        if k.endswith(Q_SUFFIX):
            name = k[: -len(Q_SUFFIX)]
            s = stored[name + S_SUFFIX].astype(np.float32)
            out[name] = (v.astype(np.float32).reshape(v.shape[0], -1) * s[:, None]).reshape(v.shape)
        else:
            out[k] = np.asarray(v, dtype=np.float32)
    return out
