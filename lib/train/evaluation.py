"""Greedy evaluation of a network on fresh trials, and psychometric summaries."""

from __future__ import annotations

import numpy as np
import torch

from lib.core.network import RNN, run_trials
from lib.core.task import PERIOD_DECISION, TaskConfig, Trials, sample_trials

__all__ = ["greedy_choices", "evaluate", "psychometric"]


def greedy_choices(logits: torch.Tensor, trials: Trials) -> torch.Tensor:
    """The choice of the greedy policy in each trial, ``[B]``.

    The first non-fixate argmax action inside the decision period (as in the environment,
    where it ends the trial), or 0 when the policy fixates throughout.
    """
    act = logits.argmax(-1)  # [T, B]
    moved = (act != 0) & (trials.period == PERIOD_DECISION)
    any_move = moved.any(0)
    first = moved.float().argmax(0)  # first True (0 if none)
    chosen = act.gather(0, first.unsqueeze(0)).squeeze(0)
    return torch.where(any_move, chosen, torch.zeros_like(chosen))


@torch.no_grad()
def evaluate(
    net: RNN,
    task: TaskConfig,
    n_trials: int = 1000,
    seed: int = 0,
    *,
    batch: int = 1000,
    **fixed: torch.Tensor,
) -> dict[str, np.ndarray | float]:
    """Greedy accuracy on ``n_trials`` fresh trials drawn from a private generator.

    Parameters
    ----------
    net : RNN
    task : TaskConfig
    n_trials : int
        Number of trials (the paper's accuracy uses at least 500).
    seed : int
        Seed of the evaluation generator (independent of any training generator).
    batch : int
        Trials per forward pass. In the continuous regime (``task.trials``) the trials of a
        pass run back to back in streams of about 20 (:func:`lib.core.network.run_trials`).
    **fixed
        Optional per-trial ``context``, ``coh1``, ``coh2``, ``delay_steps`` of length
        ``n_trials``.

    Returns
    -------
    dict
        ``accuracy`` (float), and per-trial arrays ``choice``, ``correct``, ``context``,
        ``coh1``, ``coh2``, ``delay_steps``.
    """
    if n_trials <= 0:
        raise ValueError(f"n_trials must be positive, got {n_trials}")
    gen = torch.Generator().manual_seed(int(seed))
    out: dict[str, list[np.ndarray]] = {
        k: [] for k in ("choice", "correct", "context", "coh1", "coh2", "delay_steps")
    }
    for start in range(0, n_trials, batch):
        n = min(batch, n_trials - start)
        part = {k: v[start : start + n] for k, v in fixed.items()}
        tr = sample_trials(task, n, gen, **part)
        _, logits, _ = run_trials(net, tr, task.trials)
        out["choice"].append(greedy_choices(logits, tr).numpy())
        for k in ("correct", "context", "coh1", "coh2", "delay_steps"):
            out[k].append(getattr(tr, k).numpy())
    res: dict[str, np.ndarray | float] = {k: np.concatenate(v) for k, v in out.items()}
    res["accuracy"] = float(np.mean(res["choice"] == res["correct"]))
    return res


def psychometric(
    choice: np.ndarray, coherence: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fraction of choice 1 per coherence value, with its binomial standard error.

    Trials without a choice (0) count as not choosing 1.

    Returns
    -------
    levels, p_choice1, sem, n : arrays (one entry per distinct coherence, sorted)
    """
    levels = np.unique(coherence)
    idx = np.searchsorted(levels, coherence)
    n = np.bincount(idx, minlength=len(levels))
    k = np.bincount(idx, weights=(choice == 1).astype(float), minlength=len(levels))
    p = k / np.maximum(n, 1)
    sem = np.sqrt(p * (1 - p) / np.maximum(n, 1))
    return levels, p, sem, n
