"""Chapter 3's per-network analysis: populations, balance and robustness, cached per run.

Combines :mod:`lib.analysis.populations` (G_+, G_−, G_a, G_s by the decision-state and by the
choice-selectivity definition, per context, and the balance index) with
:mod:`lib.analysis.robustness` (accuracy under recurrent noise, perturbation of W_rec, ablation of
random units and of each population) so that every chapter-3 number of a network is computed
once and read back from the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lib.analysis.dynamics import leak_version
from lib.analysis.populations import (
    ACTIVITY_THRESHOLD,
    POPULATION_SEED,
    POPULATION_TRIALS,
    SELECTIVITY_ALPHA,
    decision_states,
    population_table,
    populations,
)
from lib.analysis.robustness import (
    noise_curve,
    population_ablation,
    random_ablation_curve,
    robustness_summary,
    weight_perturbation_curve,
)
from lib.analysis.stats import compare_groups, spearman_ci
from lib.store.runs import Store, StoredRun, cached

__all__ = [
    "balance_delta_trend",
    "balance_robustness",
    "network_balance",
    "BALANCE_COLUMNS",
    "BALANCE_VERSION",
    "BalanceConfig",
    "balance_analysis",
    "balance_by_delta",
    "compute_balance",
]

BALANCE_VERSION = "1"


@dataclass(frozen=True)
class BalanceConfig:
    """Settings of the populations and robustness analysis (stored with each result)."""

    n_trials: int = POPULATION_TRIALS
    seed: int = POPULATION_SEED
    threshold: float = ACTIVITY_THRESHOLD
    alpha: float = SELECTIVITY_ALPHA
    robustness_trials: int = 500
    noise_levels: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)
    weight_eps: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.4)
    ablation_fractions: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.4)
    n_draws: int = 3
    n_control_draws: int = 3
    contexts: tuple[int, ...] = field(default=(0, 1))

    def __post_init__(self) -> None:
        for name in ("n_trials", "robustness_trials", "n_draws"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f"BalanceConfig.{name} must be an int >= 1")
        if not self.noise_levels or not self.weight_eps or not self.ablation_fractions:
            raise ValueError("BalanceConfig level grids must not be empty")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields."""
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def compute_balance(run: StoredRun, cfg: BalanceConfig) -> dict[str, pd.DataFrame]:
    """Populations, balance and robustness of one network (no caching)."""
    net, task = run.network(), run.spec.task
    try:
        pops = population_table(run, cfg.contexts, cfg.n_trials, cfg.seed, cfg.threshold, cfg.alpha)
    except ValueError as e:  # e.g. an untrained network makes no correct choice of one kind
        pops = pd.DataFrame(
            [
                {
                    "run_id": run.path.name,
                    "algorithm": run.spec.algorithm,
                    "seed": run.spec.seed,
                    "context": c + 1,
                    "definition": d,
                    "method": "undefined",
                    "n_plus": np.nan,
                    "n_minus": np.nan,
                    "n_a": np.nan,
                    "n_s": np.nan,
                    "balance": float("nan"),
                    "reason": str(e),
                }
                for c in cfg.contexts
                for d in ("decision_states", "selectivity")
            ]
        )
    curves = []
    for name, df in (
        (
            "noise",
            noise_curve(
                net, task, cfg.noise_levels, cfg.robustness_trials, cfg.seed, n_draws=cfg.n_draws
            ),
        ),
        (
            "weights",
            weight_perturbation_curve(
                net, task, cfg.weight_eps, cfg.robustness_trials, cfg.seed, cfg.n_draws
            ),
        ),
        (
            "ablation",
            random_ablation_curve(
                net, task, cfg.ablation_fractions, cfg.robustness_trials, cfg.seed, cfg.n_draws
            ),
        ),
    ):
        curves.append(df.assign(perturbation=name))
    curve_tab = pd.concat(curves, ignore_index=True)
    summary = pd.DataFrame(
        [
            {"perturbation": p, "robustness": robustness_summary(g)}
            for p, g in curve_tab.groupby("perturbation")
        ]
    )
    # ablate each population of the first context (decision-state definition)
    try:
        ds = decision_states(run, cfg.contexts[0], cfg.n_trials, cfg.seed)
        p = populations(ds.h_plus, ds.h_minus, cfg.threshold)
        masks = {"G+": p.g_plus, "G-": p.g_minus, "Ga": p.g_a, "Gs": p.g_s}
    except ValueError:  # decision states undefined (untrained network): intact accuracy only
        masks = {"none": np.zeros(net.hidden, dtype=bool)}
    pop_abl = population_ablation(
        net, task, masks, cfg.robustness_trials, cfg.seed, n_control_draws=cfg.n_control_draws
    )
    return {
        "populations": pops,
        "curves": curve_tab,
        "robustness": summary,
        "population_ablation": pop_abl,
    }


def balance_analysis(
    run: StoredRun,
    cfg: BalanceConfig | None = None,
    store: Store | None = None,
    *,
    compute: bool = True,
) -> dict[str, pd.DataFrame]:
    """Chapter 3's tables for one run, from the store's cache or computed and cached.

    ``populations`` (per context and definition: sizes, balance, method), ``curves``
    (accuracy per perturbation, level and draw), ``robustness`` (normalised area under each
    curve), ``population_ablation`` (accuracy with each population ablated, and size-matched
    random controls).
    """
    cfg = cfg or BalanceConfig()
    version = leak_version(BALANCE_VERSION, run.spec.network.alpha)
    return cached(run, store, "balance", version, "balance", cfg, compute_balance, compute)


#: Per-network balance columns of :func:`lib.pipelines.sweep.summary_table`, by population definition.
BALANCE_COLUMNS = {"decision_states": "balance_ds", "selectivity": "balance_sel"}


def balance_by_delta(tab: pd.DataFrame) -> pd.DataFrame:
    """RL against SL balance at each δ, for each population definition (Mann-Whitney).

    ``tab`` is a sweep summary table (:func:`lib.pipelines.sweep.summary_table`: ``algorithm``,
    ``delta`` and the :data:`BALANCE_COLUMNS`). One row per definition column and δ where both
    algorithms have at least two networks: ``definition`` (the column name), ``delta``,
    ``n_RL``, ``n_SL``, ``mean_RL``, ``mean_SL``, ``rank_biserial`` (> 0: RL more balanced)
    and ``p`` (NaN when all values are equal), from :func:`lib.analysis.stats.compare_groups`.
    """
    keys = ("n_RL", "n_SL", "mean_RL", "mean_SL", "rank_biserial", "p")
    rows = []
    for col in (c for c in BALANCE_COLUMNS.values() if c in tab.columns):
        for dl, g in tab.groupby("delta"):
            a, b = g[g.algorithm == "ppo"][col].dropna(), g[g.algorithm == "sl"][col].dropna()
            if len(a) >= 2 and len(b) >= 2:
                r = compare_groups(a, b, ("RL", "SL"))
                rows.append({"definition": col, "delta": dl, **{k: r[k] for k in keys}})
    return pd.DataFrame(rows, columns=["definition", "delta", *keys])


def network_balance(pops: pd.DataFrame) -> pd.DataFrame:
    """A network's balance per population definition: the mean over its contexts of the
    ``populations`` tables (:func:`balance_analysis`), one row per (algorithm, seed,
    definition)."""
    return pops.groupby(["algorithm", "seed", "definition"]).balance.mean().reset_index()


def balance_robustness(
    balance: pd.DataFrame, rob: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decision-state balance per network against each robustness summary (claim 4b).

    ``balance`` is :func:`network_balance` (or the same columns from a sweep), ``rob`` the
    ``robustness`` tables with ``algorithm`` and ``seed``. Returns the merged rows (one per
    network and perturbation) and per perturbation ``n``, Spearman's ``spearman_rho`` with its
    ``ci_low`` / ``ci_high`` and ``p`` (:func:`lib.analysis.stats.spearman_ci`).
    """
    b = balance[balance.definition == "decision_states"]
    br = rob.merge(b, on=["algorithm", "seed"])
    rows = []
    for p, g in br.groupby("perturbation"):
        rho, lo, hi, pv = spearman_ci(g.balance, g.robustness)
        rows.append(
            {
                "perturbation": p,
                "n": len(g),
                "spearman_rho": rho,
                "ci_low": lo,
                "ci_high": hi,
                "p": pv,
            }
        )
    cols = ["perturbation", "n", "spearman_rho", "ci_low", "ci_high", "p"]
    return br, pd.DataFrame(rows, columns=cols)


def balance_delta_trend(
    tab: pd.DataFrame, algorithms: Sequence[str] = ("ppo", "sl")
) -> pd.DataFrame:
    """Spearman's ρ of balance against δ per population definition and algorithm, over the
    networks of a sweep summary (:func:`lib.pipelines.sweep.summary_table`): ``definition``
    (column name), ``algorithm``, ``n``, ``spearman_rho``, ``ci_low``, ``ci_high``, ``p``."""
    rows = []
    for col in (c for c in BALANCE_COLUMNS.values() if c in tab.columns):
        for alg in algorithms:
            d = tab[tab.algorithm == alg]
            if d.empty:
                continue
            rho, lo, hi, pv = spearman_ci(d.delta, d[col])
            rows.append(
                {
                    "definition": col,
                    "algorithm": alg,
                    "n": len(d),
                    "spearman_rho": rho,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p": pv,
                }
            )
    return pd.DataFrame(rows)
