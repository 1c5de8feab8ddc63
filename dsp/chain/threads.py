"""One BLAS thread for the chain: its matrix products are tiny (a GRU step, a 20 ms block), and
OpenBLAS's worker threads cost more to wake than they save. On a loaded 2-core machine they made
a DRED gap's block take up to 200 ms instead of 35 ms (the mean block 8 ms instead of 2.7 ms).

:func:`single_blas_thread` sets every OpenBLAS the process has loaded (numpy's and scipy's) to one
thread, at run time (``OPENBLAS_NUM_THREADS`` only works before numpy is imported). Process-wide:
the live runner calls it, as does ``awb chain``.

:func:`raise_thread_priority` lowers the nice value of the calling thread (the audio engine's
worker that drives the live graph), so that on a busy machine the scheduler runs it before other
processes' work: the live ring is short (``dsp.chain.live.LIVE_RING_MS``) and a worker held off
the CPU for longer than the ring holds is an underrun.
"""

from __future__ import annotations

import ctypes
import os
import threading

WORKER_NICE = -10

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")


def _loaded_openblas() -> list[str]:
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:  # not Linux: leave the thread count alone
        return []
    return sorted(p for p in paths if p.startswith("/"))


def single_blas_thread() -> int:
    """Set each loaded OpenBLAS to one thread; returns how many libraries were set."""
    done = 0
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
        if setter is not None:
            setter(1)
            done += 1
    return done


def raise_thread_priority(nice: int = WORKER_NICE) -> bool:
    """Set the calling thread's nice value (Linux schedules threads one by one); False where that
    is not allowed (lowering it needs CAP_SYS_NICE or an RLIMIT_NICE) or not supported."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (OSError, AttributeError):
        return False
    return True
