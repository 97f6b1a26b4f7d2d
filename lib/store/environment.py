"""Where and with what a result was computed: code version, library versions, machine.

A leaf module (it imports nothing from :mod:`lib`), so that the store can record it without
depending on the analyses (:mod:`lib.report.provenance` builds the settings table from those).
"""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["code_version", "cpu_model", "environment_info"]

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
