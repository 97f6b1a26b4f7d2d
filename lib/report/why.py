"""Why the landscapes differ (chapter 9, issue 22): the ablations one ingredient at a time,
a verdict per hypothesis, and what predicts the QP fraction across every stored network.

Two parts, both read from the store and never trained or censused here:

* **Ablations.** The networks of the ``why`` sweep (:func:`lib.pipelines.sweep.why_sweep`:
  continuous regime, δ = 0.1, 250 units, seeds 0–9) in *cells*: the baseline, the leaky
  variant (α = 0.5) and the ablations of :data:`lib.pipelines.profiles.ABLATIONS`. Per cell
  and algorithm, the QP fraction of the orbit census and its change from the baseline of the
  same algorithm (:func:`ablation_table`); per cell, the RL − SL gap (:func:`gap_table`); per
  hypothesis a verdict with a stated rule (:func:`hypothesis_verdicts`).
* **Predictors.** One row per stored network of every paper-profile sweep, both trial
  regimes (:func:`predictors_table`): the spectral radius of ``W_rec`` before and after
  training, ‖ΔW‖ and the effective rank of ΔW, trials to criterion, accuracy, the fraction of
  units active and the fixed points per grid point; their rank correlations with the QP
  fraction (:func:`predictor_correlations`) and a model of the QP fraction fitted on seeds
  0–6 and scored on seeds 7–9 (:func:`qp_model`).

Networks are the unit of every statistic; confidence intervals are percentile bootstraps
over networks (seeds), seeded so that a rebuild gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from lib.analysis.census import census
from lib.analysis.information import holm
from lib.analysis.sculpting import populations_analysis
from lib.analysis.stats import bootstrap_ci, compare_groups, spearman_ci
from lib.analysis.weights import effective_rank, initial_w_rec, weight_stats_or_compute
from lib.core.task import level_of
from lib.pipelines.profiles import (
    ABLATION_HYPOTHESES,
    ABLATION_REGIME,
    ABLATIONS,
    AUX_CE_LAMBDA,
    DEFAULT_DELTA,
    LEAK_ALPHA,
    OVERTRAIN,
    ablation_algorithms,
    census_config,
    populations_config,
)
from lib.pipelines.sweep import summary_table
from lib.store.runs import CorruptRunError, Store, StoredRun

__all__ = [
    "decider_sentence",
    "CELLS",
    "CELL_LABELS",
    "CELL_ALPHA",
    "CELL_CHANGES",
    "cells_description",
    "EXPECTED",
    "ALPHA_TEST",
    "PREDICTORS",
    "CENSUS_PREDICTORS",
    "TRAIN_SEEDS",
    "ablation_networks",
    "compare_to_baseline",
    "ablation_table",
    "gap_table",
    "hypothesis_verdicts",
    "sign_summary",
    "in_short",
    "cell_costs",
    "effective_rank",
    "initial_w_rec",
    "network_predictors",
    "predictors_table",
    "predictor_correlations",
    "strongest_predictor",
    "seed_split",
    "rank_features",
    "qp_model",
]

#: The cells of chapter 9 in the order shown: the baseline, the leak as a trend in α (α = 0.5
#: is chapter 8's ``leaky`` variant, α = 0.2 an ablation), then the other ablations in the
#: order of :data:`lib.pipelines.profiles.ABLATIONS`.
CELLS: tuple[str, ...] = (
    "baseline",
    "leaky",
    "leaky_0.2",
    *(a for a in ABLATIONS if a != "leaky_0.2"),
)
#: α = dt/τ of the leak cells.
CELL_ALPHA: dict[str, float] = {
    "baseline": 1.0,
    "leaky": LEAK_ALPHA,
    "leaky_0.2": float(ABLATIONS["leaky_0.2"]["network"]["alpha"]),
}
#: How a cell is named in figures and tables.
CELL_LABELS: dict[str, str] = {
    "baseline": "baseline (α = 1)",
    "leaky": f"leak α = {LEAK_ALPHA:g}",
    "leaky_0.2": f"leak α = {CELL_ALPHA['leaky_0.2']:g}",
    "sl_decision_only": "SL with CE on the decision step only",
    "sl_ppo_optimiser": "SL with PPO's optimiser",
    "sl_distilled": "SL distilled from PPO",
    "ppo_no_entropy": "PPO without entropy bonus",
    "a2c": "A2C (no clipping, one epoch)",
    "ppo_aux_ce": "PPO + auxiliary CE",
    "past_criterion": "both trained to 3× criterion",
}
#: What each cell changes from the continuous-regime baseline, in words (the settings are
#: :data:`lib.pipelines.profiles.ABLATIONS` and :data:`lib.pipelines.profiles.VARIANTS`).
CELL_CHANGES: dict[str, str] = {
    "baseline": "nothing: the default run in the continuous regime (δ = 0.1, 250 units)",
    "leaky": f"a leak for both algorithms, α = dt/τ = {LEAK_ALPHA:g} (τ = 200 ms)",
    "leaky_0.2": f"a leak for both algorithms, α = {CELL_ALPHA['leaky_0.2']:g} (τ = 500 ms)",
    "sl_decision_only": "SL's cross-entropy on the decision step only (fixation steps weighted 0)",
    "sl_ppo_optimiser": "SL with PPO's learning rate ({lr:g}), gradient-norm clip ({grad_clip:g}) "
    "and minibatch window ({window} steps)".format(**ABLATIONS["sl_ppo_optimiser"]["sl"]),
    "sl_distilled": "SL targets: the action probabilities of the stored PPO baseline network of "
    "the same seed",
    "ppo_no_entropy": "PPO's entropy coefficient 0",
    "a2c": "policy gradient with a value baseline: no clipping, one epoch per rollout",
    "ppo_aux_ce": f"PPO's loss plus {AUX_CE_LAMBDA:g} × cross-entropy on every step",
    "past_criterion": f"both trained on to {OVERTRAIN:g}× their own trials to criterion",
}
#: What each ablation predicts for the algorithm(s) it trains, under its hypothesis
#: (:data:`lib.pipelines.profiles.ABLATION_HYPOTHESES`): ``towards`` the other algorithm's
#: baseline QP fraction, ``either`` direction (the hypothesis names no sign), or ``leak`` (the
#: trend of the RL − SL gap in α; see :func:`hypothesis_verdicts`).
EXPECTED: dict[str, str] = {
    "sl_decision_only": "towards",
    "sl_ppo_optimiser": "towards",
    "sl_distilled": "towards",
    "ppo_no_entropy": "either",
    "a2c": "towards",
    "ppo_aux_ce": "towards",
    "past_criterion": "either",
    "leaky_0.2": "leak",
}
#: Significance level of every test of this chapter (two-sided, per hypothesis).
ALPHA_TEST = 0.05

#: The predictors of :func:`predictors_table`, with their names in words.
PREDICTORS: dict[str, str] = {
    "spectral_radius_before": "spectral radius before training",
    "spectral_radius_after": "spectral radius after training",
    "dw_norm": "‖ΔW‖ (Frobenius)",
    "dw_eff_rank": "effective rank of ΔW",
    "trials_to_criterion": "trials to criterion",
    "final_accuracy": "final accuracy",
    "frac_active": "fraction of units active",
    "fixed_points_per_point": "fixed points per grid point",
}
#: Predictors read from the same census as the QP fraction (a landscape measure, not a
#: property of the weights or of training): left out of the "training-side" model.
CENSUS_PREDICTORS: tuple[str, ...] = ("fixed_points_per_point",)
#: Seeds whose networks fit the model of :func:`qp_model`; the other seeds score it.
TRAIN_SEEDS: tuple[int, ...] = tuple(range(7))

_NET_COLUMNS = [
    "cell",
    "run_id",
    "algorithm",
    "seed",
    "converged",
    "qp_fraction",
    "final_accuracy",
    "trials_to_criterion",
    "wall_seconds",
    "census_seconds",
    "populations_seconds",
]


# ---- ablations ---------------------------------------------------------------------------


def cells_description() -> pd.DataFrame:
    """One row per cell (:data:`CELLS`): its name, the algorithms it trains, what it changes
    and the hypothesis it tests (the baseline and α = 0.5 test none of their own)."""
    rows = []
    for c in CELLS:
        algs = ablation_algorithms(c) if c in ABLATIONS else ("ppo", "sl")
        rows.append(
            {
                "cell": CELL_LABELS[c],
                "trains": " + ".join("RL" if a == "ppo" else "SL" for a in algs),
                "change": CELL_CHANGES[c],
                "hypothesis": ABLATION_HYPOTHESES.get(
                    c, "the reference" if c == "baseline" else "the leak's trend (with α = 0.2)"
                ),
            }
        )
    return pd.DataFrame(rows)


def ablation_networks(store: str | Path | None = None) -> pd.DataFrame:
    """One row per stored network of the ``why`` sweep, with its ``cell`` (:data:`CELLS`,
    ordered) and the sweep summary's columns (:func:`lib.pipelines.sweep.summary_table`,
    without the spectral radii). Nothing is computed; an empty frame (with the columns) when
    nothing of the sweep is stored."""
    tab = summary_table("why", "paper", store, trials=ABLATION_REGIME, spectra=False)
    if tab.empty:
        return pd.DataFrame(columns=_NET_COLUMNS)
    tab = tab[tab.variant.isin(CELLS)].copy()
    tab.insert(0, "cell", pd.Categorical(tab.pop("variant"), CELLS, ordered=True))
    tab = tab.reindex(columns=[*_NET_COLUMNS, *(c for c in tab.columns if c not in _NET_COLUMNS)])
    return tab.sort_values(["cell", "algorithm", "seed"]).reset_index(drop=True)


def _diff_ci(
    a: np.ndarray, b: np.ndarray, n_boot: int = 10000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap 95 % CI of mean(a) − mean(b), the groups resampled independently."""
    if a.size < 2 or b.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    ma = a[rng.integers(0, a.size, (n_boot, a.size))].mean(1)
    mb = b[rng.integers(0, b.size, (n_boot, b.size))].mean(1)
    d = ma - mb
    return float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))


def compare_to_baseline(
    cell: pd.DataFrame, base: pd.DataFrame, min_pairs: int = 5
) -> dict[str, float | str | int]:
    """The change of QP fraction of one cell from its baseline (same algorithm).

    Paired by seed where at least ``min_pairs`` seeds are in both (the same seed gives the
    same initial weights and training data generator in every cell): the mean of the per-seed
    differences, its bootstrap CI (seeds resampled) and the two-sided Wilcoxon signed-rank
    test. Otherwise unpaired: difference of means, independent bootstrap, two-sided
    Mann–Whitney (:func:`lib.analysis.stats.compare_groups`).

    Returns
    -------
    dict
        ``diff``, ``diff_ci_low``, ``diff_ci_high``, ``p``, ``test`` (its name) and ``n_test``
        (pairs, or networks in both groups together).
    """
    a = cell.dropna(subset=["qp_fraction"]).set_index("seed").qp_fraction
    b = base.dropna(subset=["qp_fraction"]).set_index("seed").qp_fraction
    common = sorted(set(a.index) & set(b.index))
    nan = float("nan")
    if len(common) >= min_pairs:
        d = (a.loc[common] - b.loc[common]).to_numpy(float)
        lo, hi = bootstrap_ci(d)
        p = float(_st.wilcoxon(d).pvalue) if np.any(d != 0) else nan
        return {
            "diff": float(d.mean()),
            "diff_ci_low": lo,
            "diff_ci_high": hi,
            "p": p,
            "test": "Wilcoxon signed-rank, paired by seed",
            "n_test": len(common),
        }
    if len(a) < 2 or len(b) < 2:
        return {
            "diff": nan,
            "diff_ci_low": nan,
            "diff_ci_high": nan,
            "p": nan,
            "test": "none (n too small)",
            "n_test": len(a) + len(b),
        }
    r = compare_groups(a, b)
    lo, hi = _diff_ci(a.to_numpy(float), b.to_numpy(float))
    return {
        "diff": float(a.mean() - b.mean()),
        "diff_ci_low": lo,
        "diff_ci_high": hi,
        "p": float(r["p"]),
        "test": "Mann–Whitney U, unpaired",
        "n_test": len(a) + len(b),
    }


def ablation_table(nets: pd.DataFrame) -> pd.DataFrame:
    """Per cell (:data:`CELLS` order) and algorithm: the networks stored and reaching
    criterion, the median QP fraction with its bootstrap 95 % CI (seeds as the unit), the mean,
    and the change from the baseline of the same algorithm (:func:`compare_to_baseline`; the
    baseline's own row has none). ``p_holm`` adjusts the p-values of every comparison of the
    table together (Holm). All stored networks count, whether or not they reached criterion.

    Parameters
    ----------
    nets
        :func:`ablation_networks`.
    """
    cols = ["cell", "algorithm", "n", "n_criterion", "median_qp", "median_ci_low"]
    cols += ["median_ci_high", "mean_qp", "diff", "diff_ci_low", "diff_ci_high", "p"]
    cols += ["p_holm", "test", "n_test"]
    if nets.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for cell in CELLS:
        for alg in ("ppo", "sl"):
            d = nets[(nets.cell == cell) & (nets.algorithm == alg)]
            if d.empty:
                continue
            q = d.qp_fraction.dropna().to_numpy(float)
            lo, hi = bootstrap_ci(q, stat=np.median)
            row = {
                "cell": cell,
                "algorithm": alg,
                "n": len(d),
                "n_criterion": int(d.converged.astype(bool).sum()),
                "median_qp": float(np.median(q)) if q.size else float("nan"),
                "median_ci_low": lo,
                "median_ci_high": hi,
                "mean_qp": float(q.mean()) if q.size else float("nan"),
            }
            base = nets[(nets.cell == "baseline") & (nets.algorithm == alg)]
            if cell != "baseline" and len(base):
                row.update(compare_to_baseline(d, base))
            rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=cols)
    ok = out.p.notna()
    out.loc[ok, "p_holm"] = holm(out.p[ok].to_numpy(float))
    return out


def gap_table(nets: pd.DataFrame) -> pd.DataFrame:
    """Per cell: the RL − SL gap of the mean QP fraction, its bootstrap 95 % CI (groups
    resampled independently) and the two-sided Mann–Whitney p.

    A cell that trains one algorithm only is compared with the *baseline* of the other
    (``other_side`` says which networks stand in): e.g. SL distilled from PPO against the PPO
    baseline. ``sign`` is ``RL > SL``, ``RL < SL`` (the CI excludes 0) or ``no difference``.
    """
    cols = ["cell", "rl_from", "sl_from", "n_rl", "n_sl", "mean_rl", "mean_sl", "gap"]
    cols += ["gap_ci_low", "gap_ci_high", "p", "sign", "divergent_rl", "divergent_sl"]
    if nets.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for cell in CELLS:
        c = nets[nets.cell == cell]
        if c.empty:
            continue
        side = {}
        for alg in ("ppo", "sl"):
            own = c[c.algorithm == alg]
            side[alg] = (
                (own, "this cell")
                if len(own)
                else (nets[(nets.cell == "baseline") & (nets.algorithm == alg)], "baseline")
            )
        a = side["ppo"][0].qp_fraction.dropna().to_numpy(float)
        b = side["sl"][0].qp_fraction.dropna().to_numpy(float)
        if not a.size or not b.size:
            continue
        lo, hi = _diff_ci(a, b)
        gap = float(a.mean() - b.mean())
        sign = (
            "RL > SL" if lo > 0 else ("RL < SL" if hi < 0 else "no difference")
        )  # NaN CI: no difference claimed
        rows.append(
            {
                "cell": cell,
                "rl_from": side["ppo"][1],
                "sl_from": side["sl"][1],
                "n_rl": a.size,
                "n_sl": b.size,
                "mean_rl": float(a.mean()),
                "mean_sl": float(b.mean()),
                "gap": gap,
                "gap_ci_low": lo,
                "gap_ci_high": hi,
                "p": compare_groups(a, b)["p"],
                "sign": sign,
                "divergent_rl": _mean_divergent(side["ppo"][0]),
                "divergent_sl": _mean_divergent(side["sl"][0]),
            }
        )
    return pd.DataFrame(rows, columns=cols)


#: A side whose networks' orbits diverge on more than this mean fraction of the grid has no
#: landscape to compare: its QP fraction is 0 because its orbits run away, not because fixed
#: points took the place of QP attractors.
DIVERGENT_SIDE = 0.5


def _mean_divergent(d: pd.DataFrame) -> float:
    """Mean divergent fraction of the census over the networks ``d`` (NaN without the column)."""
    if "divergent_fraction" not in d or d.divergent_fraction.isna().all():
        return float("nan")
    return float(d.divergent_fraction.mean())


def divergent_side(row: Any) -> str | None:
    """``"RL"`` or ``"SL"`` when that side of a :func:`gap_table` row diverges on more than
    :data:`DIVERGENT_SIDE` of the grid (its QP fraction then says nothing about the landscape),
    else None."""
    for side, col in (("RL", "divergent_rl"), ("SL", "divergent_sl")):
        v = getattr(row, col, float("nan"))
        if v is not None and np.isfinite(v) and v > DIVERGENT_SIDE:
            return side
    return None


def _f(x: float, digits: int = 2) -> str:
    return f"{x:+.{digits}f}" if np.isfinite(x) else "–"


def _ci(lo: float, hi: float) -> str:
    return f"[{lo:+.2f}, {hi:+.2f}]" if np.isfinite(lo) and np.isfinite(hi) else "[not defined]"


def _p(p: float) -> str:
    if not np.isfinite(p):
        return "p not defined"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _verdict_change(
    diff: float, lo: float, hi: float, p: float, expect: float | None, gap: float, alpha: float
) -> str:
    """The rule of :func:`hypothesis_verdicts` for one change (``expect``: +1 / −1 for a
    directional hypothesis, None for either direction)."""
    if not (np.isfinite(p) and np.isfinite(lo) and np.isfinite(hi)):
        return "inconclusive"
    if p < alpha:
        if expect is None or np.sign(diff) == expect:
            return "supported"
        return "not supported"
    if expect is None:
        return "not supported" if (-abs(gap) < lo and hi < abs(gap)) else "inconclusive"
    reach = max(
        expect * lo, expect * hi
    )  # the largest move in the expected direction the CI allows
    return "not supported" if reach < abs(gap) else "inconclusive"


def hypothesis_verdicts(
    table: pd.DataFrame, gaps: pd.DataFrame, alpha: float = ALPHA_TEST
) -> pd.DataFrame:
    """One verdict per hypothesis of :data:`lib.pipelines.profiles.ABLATION_HYPOTHESES`:
    ``supported``, ``not supported`` or ``inconclusive``, with the numbers and one sentence.

    The rule (a companion choice, written once here). Let *G* be the baseline's RL − SL gap
    of the mean QP fraction (:func:`gap_table`) and Δ, with its 95 % CI, the change of a cell
    from the baseline of the same algorithm (:func:`ablation_table`: paired by seed, Wilcoxon
    signed-rank, two-sided, at ``alpha`` uncorrected; the Holm-adjusted p is reported beside
    it).

    * **Towards the other algorithm** (``EXPECTED == "towards"``: an SL ablation that should
      make SL RL-like, a PPO ablation that should make PPO SL-like): *supported* when Δ is
      significant and points from this algorithm's baseline towards the other's; *not
      supported* when it is significant the other way, or not significant and its CI
      excludes a move as large as \\|G\\| in the predicted direction; else *inconclusive*.
    * **Either direction** (``"either"``: the hypothesis names no sign): *supported* when Δ
      is significant; *not supported* when it is not and its CI lies inside (−\\|G\\|,
      \\|G\\|); else *inconclusive*. With both algorithms trained (past criterion) each is
      tested at ``alpha``/2 (Bonferroni), *supported* when either changes, *not supported*
      when both are excluded as above.
    * **The leak** (``"leak"``: "the leak closes the gap"), on the RL − SL gaps at α = 1, 0.5
      and 0.2: *supported* when the CI of the gap at the smallest α contains 0 and \\|gap\\|
      does not grow as α falls; *not supported* when the gap at the smallest α is
      significant (its CI excludes 0; the sentence says when its sign is reversed); else
      *inconclusive*.

    Parameters
    ----------
    table, gaps
        :func:`ablation_table` and :func:`gap_table` of the same networks.
    alpha
        Significance level (two-sided).

    Returns
    -------
    DataFrame
        One row per hypothesis whose cell is stored: ``cell``, ``hypothesis``, ``algorithm``
        (those the cell trains, "+"-joined), ``expected``, ``diff``, CI, ``p``, ``p_holm``,
        ``test``, ``n``, ``verdict`` and ``sentence``.
    """
    cols = ["cell", "hypothesis", "algorithm", "expected", "diff", "diff_ci_low"]
    cols += ["diff_ci_high", "p", "p_holm", "test", "n", "verdict", "sentence"]
    if table.empty or gaps.empty or not (gaps.cell == "baseline").any():
        return pd.DataFrame(columns=cols)
    g0 = gaps[gaps.cell == "baseline"].iloc[0]
    G = float(g0.gap)
    base = {r.algorithm: r for r in table[table.cell == "baseline"].itertuples()}
    rows = []
    for cell in CELLS:
        if cell not in ABLATION_HYPOTHESES:
            continue
        t = table[(table.cell == cell) & table["diff"].notna()]
        if t.empty:
            continue
        kind = EXPECTED[cell]
        hyp = ABLATION_HYPOTHESES[cell]
        label = CELL_LABELS[cell]
        if kind == "leak":
            rows.append(_leak_verdict(cell, hyp, t, gaps, G))
            continue
        parts, verdicts = [], []
        a_level = alpha / len(t) if kind == "either" else alpha
        for r in t.itertuples():
            other = "sl" if r.algorithm == "ppo" else "ppo"
            expect = None
            if kind == "towards" and other in base and r.algorithm in base:
                expect = float(np.sign(base[other].mean_qp - base[r.algorithm].mean_qp))
            v = _verdict_change(r.diff, r.diff_ci_low, r.diff_ci_high, r.p, expect, G, a_level)
            verdicts.append(v)
            who = "RL" if r.algorithm == "ppo" else "SL"
            frac = ""
            if expect is not None and other in base:
                span = base[other].mean_qp - base[r.algorithm].mean_qp
                if span != 0:
                    frac = f", {r.diff / span:.0%} of the way to {'RL' if other == 'ppo' else 'SL'}'s baseline"
            parts.append(
                f"{who}'s mean QP fraction changes by {_f(r.diff)} "
                f"{_ci(r.diff_ci_low, r.diff_ci_high)} from its baseline ({r.test}, n = "
                f"{int(r.n_test)} {'pairs' if 'paired' in r.test else 'networks'}, {_p(r.p)}, "
                f"Holm-adjusted {_p(r.p_holm)}{frac})"
            )
        if kind == "either" and len(verdicts) > 1:
            if "supported" in verdicts:
                verdict = "supported"
            elif all(v == "not supported" for v in verdicts):
                verdict = "not supported"
            else:
                verdict = "inconclusive"
        else:
            verdict = verdicts[0]
        why = {
            "supported": "",
            "not supported": "",
            "inconclusive": f"; the CI does not exclude a change as large as the baseline gap "
            f"|G| = {abs(G):.2f}",
        }[verdict]
        if verdict == "not supported" and any(
            r.p < a_level for r in t.itertuples() if np.isfinite(r.p)
        ):
            why = "; the change is significant but away from the other algorithm"
        elif verdict == "not supported":
            its = "their CIs exclude" if len(t) > 1 else "its CI excludes"
            why = f"; {its} a change as large as the baseline gap |G| = {abs(G):.2f}"
        if len(t) > 1:
            why += f" (each algorithm tested at α = {a_level:g}, Bonferroni)"
        sentence = (
            f"**{label}.** Hypothesis: {hyp}. Verdict: **{verdict}**. "
            + "; ".join(parts)
            + why
            + "."
        )
        r0 = t.iloc[0]
        rows.append(
            {
                "cell": cell,
                "hypothesis": hyp,
                "algorithm": "+".join(t.algorithm),
                "expected": kind,
                "diff": r0["diff"] if len(t) == 1 else float("nan"),
                "diff_ci_low": r0.diff_ci_low if len(t) == 1 else float("nan"),
                "diff_ci_high": r0.diff_ci_high if len(t) == 1 else float("nan"),
                "p": float(t.p.min()),
                "p_holm": float(t.p_holm.min()),
                "test": r0.test + (f" (each at α = {a_level:g})" if len(t) > 1 else ""),
                "n": int(t.n_test.sum()),
                "verdict": verdict,
                "sentence": sentence,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _leak_verdict(cell: str, hyp: str, t: pd.DataFrame, gaps: pd.DataFrame, G: float) -> dict:
    """The leak's verdict (rule in :func:`hypothesis_verdicts`)."""
    trend = [c for c in ("baseline", "leaky", "leaky_0.2") if (gaps.cell == c).any()]
    g = gaps.set_index("cell").loc[trend]
    last = g.iloc[-1]
    mags = g.gap.abs().to_numpy()
    monotone = bool(np.all(np.diff(mags) <= 0))
    closes = bool(last.gap_ci_low <= 0 <= last.gap_ci_high)
    if not (np.isfinite(last.gap_ci_low) and np.isfinite(last.gap_ci_high)):
        verdict = "inconclusive"
    elif closes and monotone:
        verdict = "supported"
    elif not closes:
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    steps = "; ".join(
        f"α = {CELL_ALPHA[c]:g}: {_f(r.gap)} {_ci(r.gap_ci_low, r.gap_ci_high)} "
        f"(n = {int(r.n_rl)} + {int(r.n_sl)}, Mann–Whitney {_p(r.p)})"
        for c, r in g.iterrows()
    )
    tail = ""
    div = divergent_side(last)
    if div is not None:
        verdict = "inconclusive"
        col = "divergent_rl" if div == "RL" else "divergent_sl"
        closed = [
            f"α = {CELL_ALPHA[c]:g}"
            for c, r in g.iterrows()
            if c != "baseline" and r.gap_ci_low <= 0 <= r.gap_ci_high
        ]
        tail = (
            f": at α = {CELL_ALPHA[trend[-1]]:g} the {div} networks' orbits diverge on "
            f"{getattr(last, col):.0%} of the grid (mean), so their QP fraction of "
            f"{last.mean_sl if div == 'SL' else last.mean_rl:.2f} reflects runaway orbits, not "
            "fixed points in place of QP; the gap there cannot test the hypothesis"
            + (f" (it closes at {', '.join(closed)})" if closed else "")
        )
    elif verdict == "not supported":
        reversed_ = np.sign(last.gap) != np.sign(G)
        tail = (
            f": at α = {CELL_ALPHA[trend[-1]]:g} the gap does not close but reverses its sign "
            f"({'RL > SL' if last.gap > 0 else 'RL < SL'})"
            if reversed_
            else f": at α = {CELL_ALPHA[trend[-1]]:g} the gap is still significant"
        )
    elif verdict == "inconclusive":
        tail = ": the gap at the smallest α is not distinguishable from 0, but |gap| does not shrink monotonically"
    sentence = (
        f"**{CELL_LABELS[cell]}.** Hypothesis: {hyp}. Verdict: **{verdict}**{tail}. RL − SL "
        "gap of the mean QP "
        f"fraction, bootstrap 95 % CI: {steps}."
    )
    return {
        "cell": cell,
        "hypothesis": hyp,
        "algorithm": "+".join(t.algorithm),
        "expected": "leak",
        "diff": float(last.gap - G),
        "diff_ci_low": float("nan"),
        "diff_ci_high": float("nan"),
        "p": float(last.p),
        "p_holm": float("nan"),
        "test": "RL − SL gap per α, bootstrap CI; Mann–Whitney per α",
        "n": int(g.n_rl.sum() + g.n_sl.sum()),
        "verdict": verdict,
        "sentence": sentence,
    }


def sign_summary(gaps: pd.DataFrame) -> dict[str, list[str]]:
    """Which cells keep, close or reverse the baseline's sign of the RL − SL gap
    (:func:`gap_table`): ``reversed`` (the CI excludes 0 with the opposite sign), ``closed``
    (the CI contains 0) and ``kept`` (the CI excludes 0 with the baseline's sign). Cells other
    than the baseline; empty lists when the baseline is not stored."""
    out: dict[str, list[str]] = {"reversed": [], "closed": [], "kept": []}
    if gaps.empty or not (gaps.cell == "baseline").any():
        return out
    s0 = np.sign(float(gaps[gaps.cell == "baseline"].gap.iloc[0]))
    for r in gaps[gaps.cell != "baseline"].itertuples():
        if r.sign == "no difference":
            out["closed"].append(r.cell)
        elif np.sign(r.gap) == s0:
            out["kept"].append(r.cell)
        else:
            out["reversed"].append(r.cell)
    return out


def _names(cells: Sequence[str]) -> str:
    names = [CELL_LABELS[c] for c in cells]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


#: Below this mean QP fraction on both sides, a cell whose gap closes has (almost) no QP left
#: in either algorithm: the gap closes because QP vanishes, which the sentence says.
FEW_QP = 0.1


def decider_sentence(gaps: pd.DataFrame) -> str:
    """The ingredient(s) that decide the sign of the RL − SL QP gap, in one sentence: the cells
    that reverse or close the baseline's gap (:func:`sign_summary` of :func:`gap_table`); the
    claims chapter's "In short" and this chapter's share it. Empty without a stored baseline."""
    if gaps.empty or not (gaps.cell == "baseline").any():
        return ""
    b = gaps[gaps.cell == "baseline"].iloc[0]
    ss = sign_summary(gaps)
    leak = [c for c in ("leaky", "leaky_0.2") if c in ss["reversed"] + ss["closed"]]
    other = [c for c in ss["reversed"] + ss["closed"] if c not in CELL_ALPHA]
    deciders = []
    g = gaps.set_index("cell")
    if leak:
        was, now = ("SL > RL", "RL > SL") if b.gap < 0 else ("RL > SL", "SL > RL")
        div = divergent_side(g.loc["leaky_0.2"]) if "leaky_0.2" in g.index else None
        if div is not None and "leaky" in ss["closed"]:
            deciders.append(
                f"the leak: at α = {CELL_ALPHA['leaky']:g} the gap closes; at "
                f"α = {CELL_ALPHA['leaky_0.2']:g} it reads {now}, but there the {div} networks' "
                f"orbits diverge on {g.loc['leaky_0.2', 'divergent_' + div.lower()]:.0%} of the "
                "grid, so that reversal is runaway activity, not a landscape"
            )
        elif leak and all(max(g.loc[c, "mean_rl"], g.loc[c, "mean_sl"]) < FEW_QP for c in leak):
            at = ", ".join(
                f"α = {CELL_ALPHA[c]:g}: RL {g.loc[c, 'mean_rl']:.2f}, SL {g.loc[c, 'mean_sl']:.2f}"
                for c in leak
            )
            deciders.append(
                "the leak, by removing QP from both landscapes rather than by moving it from "
                f"one algorithm to the other (mean QP fraction {at}; without a leak RL "
                f"{b.mean_rl:.2f}, SL {b.mean_sl:.2f}): leaky networks of both algorithms hold "
                "fixed points almost everywhere"
            )
        elif "leaky_0.2" in ss["reversed"]:
            deciders.append(
                f"the leak (α: the gap moves from {was} through zero to {now} as α falls)"
            )
        else:
            deciders.append("the leak (α)")
    if "sl_distilled" in other:
        deciders.append(
            "and, on the SL side, the solution PPO finds rather than how it finds it: SL trained to "
            "reproduce the PPO network's action probabilities has PPO's QP fraction"
        )
    if deciders:
        deciders[0] = deciders[0].removeprefix("and, ")
        real_reversal = [c for c in ss["reversed"] if divergent_side(g.loc[c]) is None]
        head = (
            "What decides the sign is "
            if real_reversal
            else "No ingredient changed here gives RL more QP than SL with both landscapes "
            "intact; what closes the gap is "
        )
        return head + "; ".join(deciders) + "."
    return "No single ingredient changed here reverses or closes the gap."


def in_short(
    gaps: pd.DataFrame,
    verdicts: pd.DataFrame,
    corr: pd.DataFrame | None = None,
    model: pd.DataFrame | None = None,
    n_networks: int = 0,
) -> str:
    """The chapter's "In short" paragraph, every number from its arguments: the baseline's
    RL − SL gap, the cells that reverse, close or keep its sign (:func:`sign_summary`), the
    verdicts (:func:`hypothesis_verdicts`), and, when given, the strongest predictor
    (:func:`strongest_predictor` of :func:`predictor_correlations`) and the held-out R² of
    :func:`qp_model` with and without the algorithm. A sentence saying what is missing when
    the baseline is not stored."""
    if gaps.empty or not (gaps.cell == "baseline").any():
        return "No network of the ablation sweep is stored yet (`python -m lib sweep why`)."
    b = gaps[gaps.cell == "baseline"].iloc[0]
    g = gaps.set_index("cell")

    def gap_of(c: str) -> str:
        r = g.loc[c]
        return f"{_f(r.gap)} {_ci(r.gap_ci_low, r.gap_ci_high)}"

    text = (
        f"In the continuous regime at δ = {DEFAULT_DELTA:g} the baseline's SL networks have "
        f"{'more' if b.gap < 0 else 'fewer'} QP attractors than its RL networks (mean QP "
        f"fraction RL {b.mean_rl:.2f} vs SL {b.mean_sl:.2f}; RL − SL gap {gap_of('baseline')}, "
        f"n = {int(b.n_rl)} + {int(b.n_sl)})."
    )
    ss = sign_summary(gaps)
    if ss["reversed"]:
        text += (
            f" Of the {len(gaps) - 1} other cells, only {_names(ss['reversed'])} "
            f"{'reverses' if len(ss['reversed']) == 1 else 'reverse'} the sign (gap "
            + "; ".join(f"{CELL_LABELS[c]}: {gap_of(c)}" for c in ss["reversed"])
            + ")"
        )
    else:
        text += f" None of the {len(gaps) - 1} other cells reverses the sign"
    if ss["closed"]:
        text += (
            f", {_names(ss['closed'])} close{'s' if len(ss['closed']) == 1 else ''} the gap (the "
            "CI contains 0: "
            + "; ".join(f"{CELL_LABELS[c]} {gap_of(c)}" for c in ss["closed"])
            + ")"
        )
    if ss["kept"]:
        text += f", and the {len(ss['kept'])} others keep SL's QP fraction above RL's"
    text += "."
    text += " " + decider_sentence(gaps)
    lv = verdicts[verdicts.cell == "leaky_0.2"] if len(verdicts) else verdicts
    if "leaky_0.2" in ss["reversed"] and len(lv) and lv.verdict.iloc[0] == "not supported":
        text += (
            " (The leak's hypothesis as stated, that it *closes* the gap, is therefore not "
            "supported: at the smallest α the gap reverses.)"
        )
    if len(verdicts):
        by = {
            v: [CELL_LABELS[c] for c in verdicts[verdicts.verdict == v].cell]
            for v in ("supported", "not supported", "inconclusive")
        }
        parts = [f"{v}: {', '.join(n)}" for v, n in by.items() if n]
        text += " Hypotheses " + "; ".join(parts) + "."
    if corr is not None and len(corr):
        top = strongest_predictor(corr)
        side = strongest_predictor(corr, exclude=CENSUS_PREDICTORS)
        if top is not None:
            text += (
                f" Across {n_networks} stored networks of both regimes the strongest single "
                f"predictor of the QP fraction is the {top['name']} (Spearman ρ = {top.rho:+.2f} "
                f"{_ci(top.ci_low, top.ci_high)}"
                + (
                    "; read from the same census as the QP fraction, it describes the landscape "
                    "rather than explains it)"
                    if top.predictor in CENSUS_PREDICTORS
                    else ")"
                )
            )
            if side is not None and side.predictor != top.predictor:
                text += (
                    f", and among the properties of the weights and of training the {side['name']} "
                    f"(ρ = {side.rho:+.2f} {_ci(side.ci_low, side.ci_high)})"
                )
            text += "."
    if model is not None and len(model):
        m = model.set_index("model")
        if {"predictors", "predictors + algorithm", "algorithm alone"} <= set(m.index):
            a, w = m.loc["predictors + algorithm"], m.loc["predictors"]
            text += (
                f" Fitted on seeds {TRAIN_SEEDS[0]}–{TRAIN_SEEDS[-1]} and scored on the others "
                f"({int(w.n_test)} networks), the predictors explain R² = {w.r2_test:.2f} of the "
                f"held-out QP fraction, the algorithm alone {m.loc['algorithm alone'].r2_test:.2f}; "
                f"adding the algorithm to the predictors changes R² by {a.alg_gain:+.3f} "
                f"{_ci3(a.alg_gain_ci_low, a.alg_gain_ci_high)}: "
                + (
                    "once they are known, the algorithm adds almost nothing."
                    if abs(a.alg_gain) < 0.02
                    else "the algorithm still matters once they are known."
                )
            )
    return text


def _ci3(lo: float, hi: float) -> str:
    return f"[{lo:+.3f}, {hi:+.3f}]" if np.isfinite(lo) and np.isfinite(hi) else "[not defined]"


def cell_costs(nets: pd.DataFrame) -> pd.DataFrame:
    """The compute of each cell × algorithm from the wall times stored with each result:
    networks, median minutes per network of training, census and populations, and the total
    in worker-minutes (one worker is one single-threaded process). A stage not stored counts
    as missing, not as zero. The distilled SL networks' cost excludes their teachers (the
    PPO baseline networks, counted there)."""
    cols = ["cell", "algorithm", "n", "training_min", "census_min", "populations_min"]
    cols += ["total_worker_min"]
    if nets.empty:
        return pd.DataFrame(columns=cols)
    stages = {"training": "wall_seconds", "census": "census_seconds"}
    stages["populations"] = "populations_seconds"
    rows = []
    for (cell, alg), d in nets.groupby(["cell", "algorithm"], observed=True, sort=True):
        row = {"cell": cell, "algorithm": alg, "n": len(d)}
        tot = 0.0
        for k, c in stages.items():
            x = pd.to_numeric(d[c], errors="coerce") if c in d else pd.Series(dtype=float)
            row[f"{k}_min"] = float(x.median() / 60) if x.notna().any() else float("nan")
            tot += float(x.sum() / 60) if x.notna().any() else 0.0
        row["total_worker_min"] = tot
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


# ---- predictors --------------------------------------------------------------------------


def network_predictors(run: StoredRun, store: Store) -> dict[str, float]:
    """The weight- and analysis-side predictors of one stored network (nothing computed but
    linear algebra on its weights).

    ``dw_norm``: ‖W_rec − W_rec(0)‖ (Frobenius), with W_rec from ``weights.npz`` and W_rec(0)
    from :func:`initial_w_rec`; ``dw_eff_rank``: :func:`effective_rank` of that ΔW (both the
    stored weight statistics, :func:`lib.analysis.weights.weight_stats_or_compute`);
    ``frac_active``: 1 − silent units / units of the stored populations analysis (silent: mean
    activity at most its threshold in both choices on real trials; the mean over both contexts
    and definitions; NaN when not stored); ``fixed_points_per_point`` and ``qp_fraction``: the
    mean number of fixed points and the fraction of grid points with a QP attractor of its
    stored census (NaN when not stored). Both analyses are read through
    :meth:`lib.store.runs.Store.analysis_entry` with the sweeps' settings, never computed.
    """
    w = weight_stats_or_compute(run, store)
    out = {
        "dw_norm": w["dw_norm"],
        "dw_eff_rank": w["dw_eff_rank"],
        "frac_active": float("nan"),
        "fixed_points_per_point": float("nan"),
        "qp_fraction_census": float("nan"),
    }
    cc, pc = census_config("paper"), populations_config("paper")
    e = store.analysis_entry(lambda s: census(run, cc, s))
    if e.state == "complete":
        g = pd.read_csv(e.path / "grid.csv", usecols=["n_fixed", "has_qp"])
        out["fixed_points_per_point"] = float(g.n_fixed.mean())
        out["qp_fraction_census"] = float(g.has_qp.astype(bool).mean())
    e = store.analysis_entry(lambda s: populations_analysis(run, pc, s))
    if e.state == "complete":
        p = pd.read_csv(e.path / "populations.csv", usecols=["n_units", "n_s"]).dropna()
        if len(p):
            out["frac_active"] = float((1 - p.n_s / p.n_units).mean())
    return out


def _cell_of(variant: object, level: object, delta: float) -> str:
    if isinstance(variant, str) and variant:
        return variant
    if isinstance(level, str) and level != "standard":
        return f"level {level}"
    if not np.isclose(delta, DEFAULT_DELTA):
        return "δ grid"
    return "baseline"


def predictors_table(
    store: str | Path | None = None, max_runs: int | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per stored network of every paper-profile sweep summary (both trial regimes,
    every variant and ablation), with the predictors of :data:`PREDICTORS` and the QP
    fraction.

    The networks are the union of ``<store>/sweeps/*-paper*.csv`` (the sweeps' summaries,
    :func:`lib.pipelines.sweep.write_summary`), deduplicated by run id; the spectral radii
    before and after training are those summaries' (eigenvalues of ``W_rec`` computed by the
    sweep from the store); the rest is read from the store: the run's ``metrics.json`` (trials
    to criterion, NaN when not reached; final accuracy), its spec (algorithm, regime, α, δ)
    and :func:`network_predictors`. ``cell`` names the variant or ablation (``baseline``,
    ``δ grid``, ``level <name>`` for the initialisation and complexity sweeps' other cells).

    Parameters
    ----------
    store
        Store root (None: the repository's ``data/``).
    max_runs
        Read at most this many networks (a quick look; None: all).

    Returns
    -------
    (DataFrame, dict)
        The table, and counts: ``rows`` (summary rows read), ``networks`` (distinct run ids),
        ``not_loadable`` (not in the store, or failing its checks), ``dropped_nonfinite``
        (a QP fraction or predictor not finite), ``kept``, and ``failed_recorded`` (sweep
        failure records, whose networks were never stored).
    """
    st = Store(store)
    files = sorted((st.root / "sweeps").glob("*-paper*.csv"))
    fails = st.root / "sweeps" / "failures"
    counts = {"rows": 0, "networks": 0, "not_loadable": 0, "dropped_nonfinite": 0, "kept": 0}
    counts["failed_recorded"] = len(list(fails.glob("*.json"))) if fails.is_dir() else 0
    cols = ["run_id", "algorithm", "seed", "regime", "cell", "level", "delta", "alpha"]
    cols += [*PREDICTORS, "converged", "qp_fraction"]
    if not files:
        return pd.DataFrame(columns=cols), counts
    summ = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    counts["rows"] = len(summ)
    # a run in several summaries: the first non-missing variant name
    variant = (
        summ.dropna(subset=["variant"]).groupby("run_id").variant.first()
        if ("variant" in summ)
        else pd.Series(dtype=object)
    )
    summ = summ.drop_duplicates("run_id").reset_index(drop=True)
    counts["networks"] = len(summ)
    if max_runs is not None:
        summ = summ.head(max_runs)
    rows = []
    for r in summ.itertuples():
        try:
            run = st.load_id(r.run_id)
        except (FileNotFoundError, CorruptRunError):  # counted, not raised
            counts["not_loadable"] += 1
            continue
        s, m = run.spec, run.metrics
        lvl = level_of(s.task)
        row = {
            "run_id": r.run_id,
            "algorithm": s.algorithm,
            "seed": int(s.seed),
            "regime": s.task.trials,
            "cell": _cell_of(variant.get(r.run_id), lvl, s.network.delta),
            "level": lvl,
            "delta": float(s.network.delta),
            "alpha": float(s.network.alpha),
            "spectral_radius_before": float(r.spectral_radius_before),
            "spectral_radius_after": float(r.spectral_radius_after),
            "trials_to_criterion": float(m["trials_to_criterion"])
            if m.get("trials_to_criterion") is not None
            else float("nan"),
            "final_accuracy": float(m["final_accuracy"]),
            "converged": bool(m["converged"]),
        }
        row.update(network_predictors(run, st))
        row["qp_fraction"] = row.pop("qp_fraction_census")
        rows.append(row)
    tab = pd.DataFrame(rows).reindex(columns=cols) if rows else pd.DataFrame(columns=cols)
    need = ["qp_fraction", "spectral_radius_before", "spectral_radius_after", "dw_norm"]
    need += ["dw_eff_rank", "final_accuracy"]
    ok = np.isfinite(tab[need].to_numpy(float)).all(1) if len(tab) else np.zeros(0, bool)
    counts["dropped_nonfinite"] = int((~ok).sum())
    tab = tab[ok].reset_index(drop=True)
    counts["kept"] = len(tab)
    return tab, counts


def predictor_correlations(tab: pd.DataFrame) -> pd.DataFrame:
    """Spearman's ρ of each predictor (:data:`PREDICTORS`) with the QP fraction, within each
    algorithm and pooled, with its bootstrap 95 % CI (pairs resampled,
    :func:`lib.analysis.stats.spearman_ci`) and p; n counts the networks with both values."""
    rows = []
    for col, name in PREDICTORS.items():
        for grp in ("ppo", "sl", "pooled"):
            d = tab if grp == "pooled" else tab[tab.algorithm == grp]
            x, y = d[col].to_numpy(float), d.qp_fraction.to_numpy(float)
            n = int((np.isfinite(x) & np.isfinite(y)).sum())
            rho, lo, hi, p = spearman_ci(x, y)
            rows.append(
                {
                    "predictor": col,
                    "name": name,
                    "group": grp,
                    "n": n,
                    "rho": rho,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p": p,
                }
            )
    return pd.DataFrame(rows)


def strongest_predictor(
    corr: pd.DataFrame, group: str = "pooled", exclude: Sequence[str] = ()
) -> pd.Series | None:
    """The row of :func:`predictor_correlations` with the largest \\|ρ\\| in ``group``,
    leaving out ``exclude``; None when no ρ is defined."""
    d = corr[(corr.group == group) & ~corr.predictor.isin(list(exclude))].dropna(subset=["rho"])
    if d.empty:
        return None
    return d.loc[d.rho.abs().idxmax()]


def seed_split(tab: pd.DataFrame, train_seeds: Sequence[int] = TRAIN_SEEDS) -> np.ndarray:
    """Boolean mask of the networks that fit a model: those whose seed is in ``train_seeds``
    (the rest score it). Split by seed, so no network's twin (same seed and initial weights,
    another cell) is on both sides."""
    return tab.seed.isin(list(train_seeds)).to_numpy()


def rank_features(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column mapped to its mid-rank empirical CDF among the *training* values (in
    [0, 1]); test values are placed by the same training CDF, so nothing of the test set
    enters the transform."""
    tr_out = np.empty_like(train, dtype=float)
    te_out = np.empty_like(test, dtype=float)
    for j in range(train.shape[1]):
        ref = np.sort(train[:, j])
        n = ref.size
        for src, dst in ((train, tr_out), (test, te_out)):
            lo = np.searchsorted(ref, src[:, j], side="left")
            hi = np.searchsorted(ref, src[:, j], side="right")
            dst[:, j] = (lo + hi) / (2.0 * n)
    return tr_out, te_out


def _r2(y: np.ndarray, yhat: np.ndarray) -> float:
    ss = float(((y - y.mean()) ** 2).sum())
    return 1 - float(((y - yhat) ** 2).sum()) / ss if ss > 0 else float("nan")


def qp_model(
    tab: pd.DataFrame,
    train_seeds: Sequence[int] = TRAIN_SEEDS,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Models of the QP fraction, fitted on the networks of ``train_seeds`` and scored on the
    other seeds (:func:`seed_split`): does the algorithm still matter once the predictors are
    known?

    Each model is ordinary least squares (NumPy) of the QP fraction on rank-transformed
    features (:func:`rank_features`) plus an intercept. Feature sets: every predictor of
    :data:`PREDICTORS` with the network's α and trial regime (continuous = 1); the same
    without :data:`CENSUS_PREDICTORS` ("training side"); each with and without the algorithm
    (SL = 1); and the algorithm alone. Only networks with every feature defined count (trials
    to criterion is undefined where the criterion was not reached).

    Returns
    -------
    DataFrame
        One row per model: ``model``, ``features`` (how many), ``n_train``, ``n_test``,
        ``r2_train``, ``r2_test`` (held-out R² against the test mean) with its bootstrap 95 %
        CI (test networks resampled), ``sl_coef`` (the fitted SL − RL difference in QP
        fraction at equal features; NaN without the algorithm) and, for a model with the
        algorithm added to predictors, ``alg_gain``: its held-out R² minus that of the same
        predictors without the algorithm, with a paired bootstrap 95 % CI (the same resamples
        of the test networks).
    """
    cols = ["model", "features", "n_train", "n_test", "r2_train", "r2_test"]
    cols += ["r2_ci_low", "r2_ci_high", "sl_coef", "alg_gain", "alg_gain_ci_low"]
    cols += ["alg_gain_ci_high"]
    base = [*PREDICTORS, "alpha", "continuous"]
    d = tab.assign(
        continuous=(tab.regime == "continuous").astype(float),
        sl=(tab.algorithm == "sl").astype(float),
    )
    d = d.dropna(subset=[*base, "qp_fraction"])
    mask = seed_split(d, train_seeds)
    if mask.sum() < 5 or (~mask).sum() < 3:
        return pd.DataFrame(columns=cols)
    side = [c for c in base if c not in CENSUS_PREDICTORS]
    models = {
        "predictors": (base, False),
        "predictors + algorithm": (base, True),
        "training-side predictors": (side, False),
        "training-side predictors + algorithm": (side, True),
        "algorithm alone": ([], True),
    }
    y_tr = d.qp_fraction.to_numpy(float)[mask]
    y_te = d.qp_fraction.to_numpy(float)[~mask]
    rng = np.random.default_rng(seed)
    boot = rng.integers(0, y_te.size, (n_boot, y_te.size))
    rows, r2_boot = [], {}
    for name, (feats, alg) in models.items():
        X = d[feats].to_numpy(float) if feats else np.zeros((len(d), 0))
        Xtr, Xte = rank_features(X[mask], X[~mask])
        if alg:
            Xtr = np.column_stack([Xtr, d.sl.to_numpy(float)[mask]])
            Xte = np.column_stack([Xte, d.sl.to_numpy(float)[~mask]])
        Xtr = np.column_stack([np.ones(len(Xtr)), Xtr])
        Xte = np.column_stack([np.ones(len(Xte)), Xte])
        beta, *_ = np.linalg.lstsq(Xtr, y_tr, rcond=None)
        pred = Xte @ beta
        r2b = np.array([_r2(y_te[i], pred[i]) for i in boot])
        r2_boot[name] = (_r2(y_te, pred), r2b)
        gain = (float("nan"), float("nan"), float("nan"))
        without = name.removesuffix(" + algorithm")
        if alg and without != name and without in r2_boot:
            g = r2b - r2_boot[without][1]
            g = g[np.isfinite(g)]
            gain = (
                _r2(y_te, pred) - r2_boot[without][0],
                float(np.quantile(g, 0.025)) if g.size else float("nan"),
                float(np.quantile(g, 0.975)) if g.size else float("nan"),
            )
        r2b = r2b[np.isfinite(r2b)]
        rows.append(
            {
                "model": name,
                "features": len(feats) + int(alg),
                "n_train": int(mask.sum()),
                "n_test": int((~mask).sum()),
                "r2_train": _r2(y_tr, Xtr @ beta),
                "r2_test": _r2(y_te, pred),
                "r2_ci_low": float(np.quantile(r2b, 0.025)) if r2b.size else float("nan"),
                "r2_ci_high": float(np.quantile(r2b, 0.975)) if r2b.size else float("nan"),
                "sl_coef": float(beta[-1]) if alg else float("nan"),
                "alg_gain": gain[0],
                "alg_gain_ci_low": gain[1],
                "alg_gain_ci_high": gain[2],
            }
        )
    return pd.DataFrame(rows, columns=cols)
