"""Where and with what a result was computed: code version, library versions, machine.

A leaf module (it imports nothing from :mod:`lib`), so that the store can record it without
depending on the analyses (:mod:`lib.report.provenance` builds the settings table from those).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "THREADS_ENV",
    "code_version",
    "compute_threads",
    "cpu_model",
    "environment_info",
    "torch_threads",
]

#: Environment variable: torch threads of every training run and cached analysis (default 1).
THREADS_ENV = "CTXDM_THREADS"

_REPO = Path(__file__).resolve().parents[2]


def code_version() -> str:
    """``git describe``-style commit of the repository (``+dirty`` if modified), or "unknown"."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=_REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "lib"],
            cwd=_REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else :func:`platform.processor`).

    Stored with every result because training with the same seed is bit-identical on one
    machine but was measured to differ between machines (most likely BLAS kernels).
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment_info() -> dict[str, Any]:
    """Library versions, code version, machine and time of a result (stored, not hashed)."""
    import numpy
    import scipy
    import torch

    return {
        "code_version": code_version(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def compute_threads() -> int:
    """Torch threads for computing a result: ``$CTXDM_THREADS``, or 1.

    One thread is the default because it is the fastest measured setting for this project's
    shapes (250 units; minibatches of 64 sequences, grids of a few thousand orbits) on the
    2-core machine: PPO end to end 1.2–1.45× faster than on two threads, SL 1.1–1.4×, the
    orbit census 1.1–1.2× (``benchmarks/README.md``), and the results are the same bit for bit
    (``tests/store/test_threads.py``). It also leaves the second core to a second process
    (``make book`` executes two chapters at a time).

    Raises
    ------
    ValueError
        If the variable is set but is not a positive integer.
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return 1
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{THREADS_ENV} must be a positive integer, got {raw!r}")
    return n


@contextlib.contextmanager
def torch_threads(n: int | None = None) -> Iterator[int]:
    """Run the block with ``n`` torch threads (default :func:`compute_threads`), then restore
    the caller's setting. Yields the number of threads used."""
    import torch

    n = compute_threads() if n is None else n
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"torch threads must be a positive int, got {n!r}")
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
