r"""What each unit of a trained network carries about the task, and how units co-vary.

For one network, hidden states of real (noisy) trials are pooled over time steps and, per
unit, the Gaussian-copula mutual information (:mod:`lib.analysis.information`) is estimated with

* **context** (discrete), **choice** (the correct choice, discrete), **relevant** and
  **irrelevant coherence** (signed, continuous): over the stimulus and delay steps;
* **period** (fixation / stimulus / delay / decision, discrete): over all steps.

Significance: a null from circular shifts of the task variable by whole trials or more
(``min_shift`` = longest trial). With ~200 units, Holm's correction needs p-values far below
1/(number of shifts), so each unit's p-value is the upper tail of a normal fitted to its
shift null, :math:`p = 1 - \Phi((I - \mu_0)/\sigma_0)` (the plain permutation p-value,
resolution 1/(shifts + 1), is reported too); Holm over units per variable.

Functional connectivity: unit-unit MI of the *residual* activity (each step's state minus
the mean over trials at that step and in that condition: context × correct choice), so that
an edge is shared trial-to-trial variability rather than the shared task-locked response;
1-D Gaussian-copula MI :math:`-\tfrac12\log_2(1-\rho^2)`; an edge where it exceeds the
``fc_quantile`` of a null made by circularly shifting the population against itself; then
density, degrees and modularity (:func:`lib.analysis.information.graph_stats`).

Cached in the store like every analysis (:func:`unit_information`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm

from lib.analysis.information import (
    circular_shift_null,
    copnorm,
    gcmi_units_cc,
    gcmi_units_cd,
    graph_stats,
    holm,
    permutation_pvalues,
)
from lib.analysis.stats import compare_groups
from lib.core.network import run_trials
from lib.core.task import PERIOD_DELAY, PERIOD_STIMULUS, sample_trials
from lib.store.runs import Store, StoredRun, cached

__all__ = [
    "FC_MEASURES",
    "rl_sl_comparisons",
    "INFO_VERSION",
    "InfoConfig",
    "VARIABLES",
    "compute_unit_information",
    "unit_information",
]

INFO_VERSION = "1"
VARIABLES = ("context", "choice", "relevant_coh", "irrelevant_coh", "period")


@dataclass(frozen=True)
class InfoConfig:
    """Settings of the information analysis (stored with each result).

    Parameters
    ----------
    n_trials : int
        Real trials simulated (with input noise).
    n_shuffles : int
        Circular shifts per variable for the per-unit null.
    n_fc_shuffles : int
        Population shifts for the functional-connectivity null.
    alpha : float
        Significance level after Holm correction.
    fc_quantile : float
        Quantile of the null unit-unit MI above which a pair is an edge.
    active_threshold : float
        Units whose activity never exceeds this are silent and left out.
    seed : int
        Seed of the trials and the shuffles.
    """

    n_trials: int = 400
    n_shuffles: int = 100
    n_fc_shuffles: int = 20
    alpha: float = 0.01
    fc_quantile: float = 0.99
    active_threshold: float = 1e-6
    seed: int = 31

    def __post_init__(self) -> None:
        for name in ("n_trials", "n_shuffles", "n_fc_shuffles"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"InfoConfig.{name} must be an int >= 1, got {v!r}")
        if not (0 < self.alpha < 1 and 0 < self.fc_quantile < 1):
            raise ValueError("InfoConfig.alpha and fc_quantile must lie in (0, 1)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields."""
        return dataclasses.asdict(self)


@torch.no_grad()
def _activity(run: StoredRun, cfg: InfoConfig) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """Hidden states of real trials, pooled over valid steps (trial by trial), and the task
    variables per sample; also the longest trial (for the shift of the null)."""
    task = run.spec.task
    tr = sample_trials(task, cfg.n_trials, torch.Generator().manual_seed(cfg.seed))
    hs, _, _ = run_trials(run.network(), tr, task.trials)
    H = hs.permute(1, 0, 2).double().numpy()  # [B, T, N]
    mask = tr.mask.T.numpy()  # [B, T]
    per = tr.period.T.numpy()

    def per_sample(v: torch.Tensor) -> np.ndarray:
        return np.broadcast_to(v.numpy()[:, None], mask.shape)[mask]

    variables = {
        "context": per_sample(tr.context),
        "choice": per_sample(tr.correct) - 1,
        "relevant_coh": per_sample(tr.relevant_coh),
        "irrelevant_coh": per_sample(tr.irrelevant_coh),
        "period": per[mask],
    }
    # residuals: minus the mean over trials of the same condition at the same step
    cond = (tr.context * 2 + (tr.correct - 1)).numpy()
    R = H.copy()
    for c in np.unique(cond):
        sel = cond == c
        m = mask[sel][..., None]
        mean = (H[sel] * m).sum(0) / np.maximum(m.sum(0), 1)
        R[sel] -= mean[None]
    variables["residual"] = R[mask]
    return H[mask], variables, int(tr.length.max())


def compute_unit_information(run: StoredRun, cfg: InfoConfig) -> dict[str, pd.DataFrame]:
    """Per-unit MI with the task variables and the functional-connectivity graph of a run."""
    X, var, max_len = _activity(run, cfg)
    active = X.max(0) > cfg.active_threshold
    rng = np.random.default_rng(cfg.seed)
    in_task = np.isin(var["period"], (PERIOD_STIMULUS, PERIOD_DELAY))
    rows = []
    for name in VARIABLES:
        sel = np.ones(len(X), bool) if name == "period" else in_task
        Xs, y = X[sel][:, active], var[name][sel]
        if name in ("relevant_coh", "irrelevant_coh"):
            fn = gcmi_units_cc
            obs = gcmi_units_cc(Xs, y.astype(float))
            yy = y.astype(float)
        else:
            fn = gcmi_units_cd
            codes = np.unique(y, return_inverse=True)[1].reshape(-1)
            obs = gcmi_units_cd(Xs, codes)
            yy = codes
        null = circular_shift_null(Xs, yy, cfg.n_shuffles, rng, fn=fn, min_shift=max_len)
        p_perm = permutation_pvalues(obs, null)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN nulls of degenerate units
            mu, sd = np.nanmean(null, 0), np.nanstd(null, 0, ddof=1)
        p = norm.sf((obs - mu) / np.where(sd > 0, sd, np.inf))
        padj = holm(p)
        units = np.flatnonzero(active)
        for j, u in enumerate(units):
            rows.append(
                {
                    "unit": int(u),
                    "variable": name,
                    "mi_bits": float(obs[j]),
                    "null_mean_bits": float(mu[j]),
                    "p_permutation": float(p_perm[j]),
                    "p": float(p[j]),
                    "p_holm": float(padj[j]),
                    "significant": bool(padj[j] < cfg.alpha),
                }
            )
    units_tab = pd.DataFrame(rows)

    # functional connectivity: residual activity, 1-D Gaussian-copula MI from correlations
    R = var["residual"][:, active]
    C = copnorm(R)
    C = (C - C.mean(0)) / np.where(C.std(0) > 0, C.std(0), 1.0)
    n = len(C)

    def mi_from(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        rho = np.clip(a.T @ b / n, -1 + 1e-12, 1 - 1e-12)
        return -0.5 * np.log2(1 - rho**2)

    M = mi_from(C, C)
    np.fill_diagonal(M, 0.0)
    iu = np.triu_indices(C.shape[1], 1)
    null_vals = [
        mi_from(C, np.roll(C, int(rng.integers(max_len, n - max_len)), axis=0))[iu]
        for _ in range(cfg.n_fc_shuffles)
    ]
    thr = float(np.quantile(np.concatenate(null_vals), cfg.fc_quantile))
    g = graph_stats(M, threshold=thr)
    fc = pd.DataFrame(
        [
            {
                "n_active_units": int(active.sum()),
                "n_units": int(X.shape[1]),
                "threshold_bits": thr,
                "n_edges": g.n_edges,
                "density": g.density,
                "mean_degree": float(np.mean(g.degree)) if len(g.degree) else 0.0,
                "modularity": g.modularity,
                "n_communities": int(len(np.unique(g.communities))) if len(g.communities) else 0,
                "mean_mi_bits": float(M[iu].mean()) if len(iu[0]) else float("nan"),
            }
        ]
    )
    degrees = pd.DataFrame(
        {"unit": np.flatnonzero(active), "degree": g.degree, "community": g.communities}
    )
    return {"units": units_tab, "fc": fc, "degrees": degrees}


def unit_information(
    run: StoredRun,
    cfg: InfoConfig | None = None,
    store: Store | None = None,
    *,
    compute: bool = True,
) -> dict[str, pd.DataFrame]:
    """The information analysis of a run, from the store's cache or computed and cached.

    Returns ``units`` (unit × variable: MI in bits, p, Holm-adjusted p, significant),
    ``fc`` (one row: graph density, mean degree, modularity, threshold) and ``degrees``
    (per active unit: degree and community).
    """
    cfg = cfg or InfoConfig()
    return cached(
        run, store, "information", INFO_VERSION, "info", cfg, compute_unit_information, compute
    )


#: The graph statistics of :func:`unit_information`'s ``fc`` table compared between algorithms.
FC_MEASURES = ("density", "mean_degree", "modularity", "mean_mi_bits")
_TEST_COLUMNS = ("n_RL", "n_SL", "mean_RL", "mean_SL", "rank_biserial", "p")


def rl_sl_comparisons(info: Mapping[tuple[str, int], Mapping[str, pd.DataFrame]]) -> pd.DataFrame:
    """RL against SL on every network-level summary of the information analysis.

    Parameters
    ----------
    info : mapping
        ``{(algorithm, seed): unit_information(...)}`` for networks of both algorithms.

    Returns
    -------
    pandas.DataFrame
        One row per comparison (:func:`lib.analysis.stats.compare_groups`, one value per network):
        ``variable`` (a task variable of :data:`VARIABLES`, or ``"graph"``), ``measure``
        (``mean_mi``: mean MI over active units, ``frac_sig``: fraction of units with significant
        MI, or a graph statistic of :data:`FC_MEASURES`), ``n_RL``, ``n_SL``, ``mean_RL``,
        ``mean_SL``, ``rank_biserial`` (> 0: larger under RL) and ``p`` (Mann-Whitney U,
        two-sided, uncorrected). Empty unless both algorithms are present.
    """
    cols = ["variable", "measure", *_TEST_COLUMNS]
    if not {"ppo", "sl"} <= {a for a, _ in info}:
        return pd.DataFrame(columns=cols)
    units = pd.concat(
        [v["units"].assign(algorithm=a, seed=s) for (a, s), v in info.items()], ignore_index=True
    )
    fc = pd.concat(
        [v["fc"].assign(algorithm=a, seed=s) for (a, s), v in info.items()], ignore_index=True
    )
    per_net = (
        units.groupby(["algorithm", "seed", "variable"])
        .agg(mean_mi=("mi_bits", "mean"), frac_sig=("significant", "mean"))
        .reset_index()
    )
    rows = []
    for var in VARIABLES:
        d = per_net[per_net.variable == var]
        for col in ("mean_mi", "frac_sig"):
            r = compare_groups(
                d[d.algorithm == "ppo"][col], d[d.algorithm == "sl"][col], ("RL", "SL")
            )
            rows.append({"variable": var, "measure": col, **{k: r[k] for k in _TEST_COLUMNS}})
    for col in FC_MEASURES:
        r = compare_groups(
            fc[fc.algorithm == "ppo"][col], fc[fc.algorithm == "sl"][col], ("RL", "SL")
        )
        rows.append({"variable": "graph", "measure": col, **{k: r[k] for k in _TEST_COLUMNS}})
    return pd.DataFrame(rows, columns=cols)
