r"""Statistics of a network's recurrent weights, before and after training, cached per run.

Every chapter that tabulates networks (:func:`lib.pipelines.sweep.summary_table`, the predictors
of chapter 9b) needs the spectral radius of :math:`W_{rec}` before and after training and the
size and effective rank of the change :math:`\Delta W = W_{rec} - W_{rec}(0)`. They depend on
the weights only, cost two 250 × 250 eigenvalue problems, one SVD and the rebuilding of the
initial network from its seed, and were recomputed by every chapter for every network. They
are now one cached analysis per run (``data/analyses/<run_id>/weights-<key>/``, written as every
analysis is, by :func:`lib.store.runs.cached`), computed by ``python -m lib weights``.

:func:`weight_stats_or_compute` serves readers that must never write (the book): the stored
entry, or the same numbers computed in memory when the store lacks it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lib.store.runs import CorruptRunError, Store, StoredRun, cached

__all__ = [
    "WEIGHTS_COLUMNS",
    "WEIGHTS_VERSION",
    "WeightsConfig",
    "compute_weight_stats",
    "effective_rank",
    "initial_w_rec",
    "weight_stats",
    "weight_stats_or_compute",
]

#: Bump when the weight statistics change what they compute.
WEIGHTS_VERSION = "1"

#: The columns of the ``weights`` table (one row per network).
WEIGHTS_COLUMNS = ("spectral_radius_before", "spectral_radius_after", "dw_norm", "dw_eff_rank")


@dataclass(frozen=True)
class WeightsConfig:
    """Settings of the weight statistics: none (the key is the version alone)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields (empty)."""
        return dataclasses.asdict(self)


def effective_rank(M: np.ndarray) -> float:
    r"""Effective rank of a matrix as the participation ratio of its squared singular values,
    :math:`(\sum_i \sigma_i^2)^2 / \sum_i \sigma_i^4`: *k* for a matrix with *k* equal
    non-zero singular values, between 1 and *k* when they are unequal; NaN for a zero matrix.
    """
    s2 = np.linalg.svd(np.asarray(M, dtype=float), compute_uv=False) ** 2
    den = float((s2**2).sum())
    return float(s2.sum() ** 2 / den) if den > 0 else float("nan")


def initial_w_rec(run: StoredRun) -> np.ndarray:
    """``W_rec`` before training, rebuilt from the run's spec and seed exactly as the trainers
    draw it (:meth:`lib.store.runs.StoredRun.initial_network`: ``RNN(network, generator)``
    seeded by :func:`lib.train.training.seeded_generators`), as float64."""
    return run.initial_network().W_rec.detach().double().numpy()


def _spectral_radius(W: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvals(W)).max())


def compute_weight_stats(
    run: StoredRun, cfg: WeightsConfig | None = None
) -> dict[str, pd.DataFrame]:
    """The weight statistics of one stored network (no caching).

    Parameters
    ----------
    run : StoredRun
        The network (its trained weights: ``model.pt`` and ``weights.npz``).
    cfg : WeightsConfig, optional
        Settings (none).

    Returns
    -------
    dict of DataFrames
        ``weights``: one row, :data:`WEIGHTS_COLUMNS`: the spectral radius of ``W_rec`` before
        (rebuilt from the seed, :func:`initial_w_rec`) and after training (``model.pt``),
        ‖ΔW‖ (Frobenius) and :func:`effective_rank` of ΔW, with ``W_rec`` from
        ``weights.npz``.
    """
    W0 = initial_w_rec(run)
    W1 = run.network().W_rec.detach().double().numpy()
    dW = np.load(run.path / "weights.npz")["W_rec"].astype(float) - W0
    row = {
        "spectral_radius_before": _spectral_radius(W0),
        "spectral_radius_after": _spectral_radius(W1),
        "dw_norm": float(np.linalg.norm(dW)),
        "dw_eff_rank": effective_rank(dW),
    }
    return {"weights": pd.DataFrame([row], columns=list(WEIGHTS_COLUMNS))}


def weight_stats(
    run: StoredRun,
    cfg: WeightsConfig | None = None,
    store: Store | None = None,
    *,
    compute: bool = True,
) -> dict[str, pd.DataFrame]:
    """The weight statistics of one network, from the store's cache or computed (and cached
    under ``analyses/<run id>/weights-<key>/``); see :func:`compute_weight_stats`.

    ``compute=False`` only reads: a missing entry raises ``FileNotFoundError``, a corrupt or
    stale one :class:`lib.store.runs.CorruptRunError`.
    """
    cfg = cfg or WeightsConfig()
    return cached(
        run, store, "weights", WEIGHTS_VERSION, "weights", cfg, compute_weight_stats, compute
    )


def weight_stats_or_compute(run: StoredRun, store: Store | None = None) -> dict[str, float]:
    """:data:`WEIGHTS_COLUMNS` of one network as floats: the stored entry when complete,
    otherwise computed in memory and **not** written (for readers of a store that must stay
    as it is, such as the book)."""
    try:
        tab = weight_stats(run, store=store, compute=False)["weights"]
    except (FileNotFoundError, CorruptRunError):
        tab = compute_weight_stats(run)["weights"]
    return {c: float(tab[c].iloc[0]) for c in WEIGHTS_COLUMNS}
