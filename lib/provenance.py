"""Provenance: library versions and code version of a result, and the settings table.

Every default of the companion lives in a frozen config dataclass whose fields carry
``metadata={"source": ..., "why": ...}``; :func:`provenance_table` turns them into the
methods chapter's table, so the book cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["code_version", "environment_info", "provenance_table"]

_REPO = Path(__file__).resolve().parent.parent


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
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def _rows(prefix: str, cfg: Any) -> list[dict[str, Any]]:
    rows = []
    for f in dataclasses.fields(cfg):
        meta = f.metadata or {}
        rows.append(
            {
                "setting": f"{prefix}.{f.name}",
                "value": getattr(cfg, f.name),
                "source": meta.get("source", "companion"),
                "reason": meta.get("why", ""),
            }
        )
    return rows


def provenance_table():  # -> pandas.DataFrame
    """Every setting of a default run: value, source (paper / NeuroGym / companion) and why.

    Also lists the derived quantities a reader checks first: period lengths in steps, the
    per-step noise, the ideal observer's accuracy and the stopping criterion.
    """
    import pandas as pd

    from .network import NetworkConfig
    from .ppo import PPOConfig
    from .supervised import SLConfig
    from .task import TaskConfig, ideal_observer_accuracy
    from .training import FINAL_EVAL_TRIALS, criterion_accuracy

    task, net = TaskConfig(), NetworkConfig()
    rows = (
        _rows("task", task)
        + _rows("network", net)
        + _rows("ppo", PPOConfig())
        + _rows("sl", SLConfig())
    )
    lo, hi = task.delay_steps_range
    derived = [
        (
            "task.steps",
            f"fixation {task.n_fixation}, stimulus {task.n_stimulus}, delay {lo}-{hi}, decision {task.n_decision}",
            "NeuroGym",
            "durations floored to multiples of dt",
        ),
        ("task.noise_std_per_step", round(task.noise_std, 4), "NeuroGym", "sigma / sqrt(dt)"),
        (
            "network.expected_spectral_radius",
            round(net.expected_spectral_radius, 3),
            "companion",
            "delta * sqrt(N/3), circular law",
        ),
        (
            "ideal_observer_accuracy",
            round(ideal_observer_accuracy(task), 4),
            "companion",
            "analytic, lib.task.ideal_observer_accuracy",
        ),
        (
            "criterion_accuracy",
            round(criterion_accuracy(task, SLConfig().criterion_fraction), 4),
            "companion",
            "criterion_fraction x ideal observer; the paper's literal 95 % is above the ideal observer",
        ),
        (
            "final_eval_trials",
            FINAL_EVAL_TRIALS,
            "companion",
            "independent trials for the recorded final accuracy",
        ),
    ]
    rows += [{"setting": s, "value": v, "source": src, "reason": why} for s, v, src, why in derived]
    df = pd.DataFrame(rows)
    df["value"] = df["value"].map(str)
    return df
