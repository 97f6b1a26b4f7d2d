"""Verdicts on the paper's claims, computed from stored results (one implementation used by
the chapters and by the claims table).

Each verdict is a :class:`Claim`: the numbers behind it (n, effect size, CI, test, p) and one
of ``HOLDS``, ``PARTLY``, ``DOES NOT HOLD``, ``NOT TESTED`` / ``INCOMPLETE``. The decision
rules are written out in each function's docstring; they are companion choices, stated in the
book, not tuned to the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lib.analysis.balance import (
    BALANCE_COLUMNS,
    BalanceConfig,
    balance_analysis,
    balance_by_delta,
    balance_robustness,
    network_balance,
)
from lib.analysis.census import CensusConfig, census
from lib.analysis.sculpting import crystallisation_point, sculpting_table
from lib.analysis.stats import bootstrap_ci, compare_groups, pearson_ci, spearman_ci
from lib.core.task import COMPLEXITY_LEVELS, ideal_observer_accuracy, task_for_level
from lib.pipelines.experiments import resolve_runs, runs_table, specs_for
from lib.pipelines.profiles import DEFAULT_DELTA, LOW_COHERENCE, PAPER_SEEDS
from lib.pipelines.sweep import failed_runs, get_sweep, summary_table
from lib.report.style import fmt_p
from lib.store.runs import Store, StoredRun

__all__ = [
    "Claim",
    "DEFAULT_SEEDS",
    "claim_balance",
    "claim_balanced_populations",
    "claim_performance",
    "claims_2_3",
    "claim_delta",
    "claim_complexity",
    "claim_crystallisation",
    "claims_table",
    "CLAIM_GROUPS",
    "other_regime_lines",
    "other_regime",
    "MAIN_REGIME",
    "OTHER_REGIME",
    "REGIME_NAMES",
    "qp_per_network",
    "summary_balance",
    "verdict_of",
]

#: The claims, in groups that are computed together (a chapter asks for its own group only).
CLAIM_GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "performance": (("1. similar performance", "1"),),
    "landscape": (("2. hybrid landscapes under RL", "2"), ("3. SL: fixed points only", "2")),
    "balance": (("4. balanced populations; balance -> robustness", "3"),),
    "crystallisation": (("S. populations crystallise during training", "6"),),
    "delta": (("5a. wider δ → more QP under RL", "4"),),
    "complexity": (("5b. QP goes with performance, more on harder tasks", "5"),),
}


DEFAULT_SEEDS: tuple[int, ...] = PAPER_SEEDS
"""Seeds of the default configuration (PPO and SL, δ = 0.1, 250 units) behind claims 1–4; the
runs with seeds 5–9 are those of the ``initialization`` sweep at δ = 0.1. Claim S uses the subset
that keeps checkpoints (:data:`lib.pipelines.profiles.CHECKPOINT_SEEDS`)."""


@dataclass
class Claim:
    """One row of the claims table."""

    claim: str
    chapter: str
    n: str
    effect: str
    ci: str
    test: str
    p: float
    verdict: str
    numbers: str
    direction: str = ""
    """Which way the data point for the test behind ``p`` (``RL < SL``, ``ρ > 0``, …)."""

    def as_row(self) -> dict:
        """Dict form for a DataFrame."""
        return asdict(self)


#: The trial regime of the main networks: NeuroGym's own, the state carried from trial to
#: trial (the regime a NeuroGym user trains in; methods chapter, "Trial regime").
MAIN_REGIME = "continuous"
#: The other regime, shown beside the main one wherever a chapter compares them.
OTHER_REGIME = "reset"
#: How the book names each trial regime.
REGIME_NAMES: dict[str, str] = {
    "continuous": "NeuroGym's continuous trial regime",
    "reset": "reset at every trial, as the first version of this companion trained",
}


def other_regime(trials: str) -> str:
    """The trial regime that is not ``trials`` (``"reset"`` <-> ``"continuous"``)."""
    if trials not in REGIME_NAMES:
        raise ValueError(f"unknown trial regime {trials!r}; choose one of {list(REGIME_NAMES)}")
    return "continuous" if trials == "reset" else "reset"


def _fmt_p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else f"{p:.2g}"


def _way(x: float, what: str = "RL", other: str = "SL") -> str:
    """``RL > SL`` / ``RL < SL`` from the sign of an effect (rank-biserial r, a difference);
    with ``other=""``, ``ρ > 0`` style (``what`` names the coefficient)."""
    if not np.isfinite(x) or x == 0:
        return ""
    if other:
        return f"{what} > {other}" if x > 0 else f"{what} < {other}"
    return f"{what} > 0" if x > 0 else f"{what} < 0"


#: Chapter of each claims-table row → its page (for links from the claims chapter).
CHAPTER_PAGES: dict[str, str] = {
    "1": "01_training",
    "2": "02_attractor_taxonomy",
    "3": "03_balance",
    "4": "04_initialization",
    "5": "05_task_complexity",
    "6": "06_sculpting",
    "7": "07_information",
}


def claims_display(table: pd.DataFrame) -> pd.DataFrame:
    """The claims table as a reader sees it: the claim linked to its chapter, the verdict next
    to it, the p-value with two significant digits and the direction of the data, the CI
    written out, no ``nan``."""
    rows = []
    for _, r in table.iterrows():
        page = CHAPTER_PAGES.get(str(r.chapter))
        claim = f"[{r.claim}]({page}.ipynb)" if page else r.claim
        p = float(r.p) if r.p is not None else float("nan")
        if np.isfinite(p):
            ptxt = fmt_p(p) + (f" ({r.direction})" if r.get("direction") else "")
        elif r.test == "per-network rule":
            ptxt = "no test (a rule applied per network)"
        else:
            ptxt = "not defined" + (f": {r.numbers}" if r.verdict.startswith("NOT") else "")
        rows.append(
            {
                "Claim": claim,
                "Verdict": r.verdict,
                "Networks": r.n,
                "Effect": r.effect or "–",
                "95 % CI": r.ci or "–",
                "Test": r.test or "–",
                "p (direction)": ptxt,
                "Numbers": r.numbers or "–",
            }
        )
    return pd.DataFrame(rows)


def claim_performance(runs: pd.DataFrame, tolerance: float = 0.02) -> Claim:
    """Claim 1, first half: RL and SL reach similar performance.

    ``runs`` is :func:`lib.pipelines.experiments.runs_table` of the default networks. HOLDS when every
    network converged and the mean final accuracies differ by less than ``tolerance``;
    PARTLY otherwise.
    """
    a = runs[runs.algorithm == "ppo"].final_accuracy
    b = runs[runs.algorithm == "sl"].final_accuracy
    if len(a) == 0 or len(b) == 0:
        return Claim(
            "1. similar performance",
            "1",
            "0",
            "",
            "",
            "",
            float("nan"),
            "NOT TESTED",
            "needs RL and SL runs",
        )
    r = compare_groups(a, b, ("RL", "SL"))
    diff = r["mean_RL"] - r["mean_SL"]
    allconv = bool(runs.converged.all())
    verdict = "HOLDS" if allconv and abs(diff) < tolerance else "PARTLY"
    return Claim(
        "1. RL and SL reach similar performance",
        "1",
        f"{r['n_RL']} RL + {r['n_SL']} SL",
        f"accuracy RL − SL = {diff:+.3f}; rank-biserial r = {r['rank_biserial']:+.2f}",
        f"RL [{r['ci_low_RL']:.3f}, {r['ci_high_RL']:.3f}], SL [{r['ci_low_SL']:.3f}, {r['ci_high_SL']:.3f}]",
        "Mann-Whitney U, two-sided",
        r["p"],
        verdict,
        f"final accuracy RL {r['mean_RL']:.3f}, SL {r['mean_SL']:.3f}; converged {int(runs.converged.sum())}/{len(runs)}",
        _way(r["rank_biserial"]),
    )


def qp_per_network(censuses: dict[tuple[str, int], dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """QP fraction (overall, at low coherence |c| ≤ 15 %, elsewhere) per network from censuses
    keyed by (algorithm, seed)."""
    rows = []
    for (alg, seed), res in censuses.items():
        g = res["grid"]
        low = (g.c1.abs() <= LOW_COHERENCE) & (g.c2.abs() <= LOW_COHERENCE)
        rows.append(
            {
                "algorithm": alg,
                "seed": seed,
                "qp_fraction": float(g.has_qp.mean()),
                "qp_fraction_low_coh": float(g.has_qp[low].mean()),
                "qp_fraction_high_coh": float(g.has_qp[~low].mean()),
            }
        )
    return pd.DataFrame(rows)


def claims_2_3(per_net: pd.DataFrame, sl_max: float = 0.02) -> tuple[Claim, Claim]:
    """Claims 2 (RL: hybrid FP + QP landscapes) and 3 (SL: almost only fixed points).

    Claim 2 HOLDS when every RL network has some QP attractor and RL's QP fraction exceeds
    SL's (rank-biserial r > 0); PARTLY when RL networks have QP attractors but not more than SL;
    DOES NOT HOLD when none has. Claim 3 HOLDS when SL's mean QP fraction is below ``sl_max``
    and below RL's; PARTLY when only below RL's; DOES NOT HOLD otherwise.
    """
    a = per_net[per_net.algorithm == "ppo"].qp_fraction
    b = per_net[per_net.algorithm == "sl"].qp_fraction
    if len(a) == 0 or len(b) == 0:
        nt = Claim("", "2", "0", "", "", "", float("nan"), "NOT TESTED", "needs RL and SL censuses")
        return nt, nt
    r = compare_groups(a, b, ("RL", "SL"))
    low = compare_groups(
        per_net[per_net.algorithm == "ppo"].qp_fraction_low_coh,
        per_net[per_net.algorithm == "sl"].qp_fraction_low_coh,
        ("RL", "SL"),
    )
    n = f"{r['n_RL']} RL + {r['n_SL']} SL"
    ci = f"RL [{r['ci_low_RL']:.3f}, {r['ci_high_RL']:.3f}], SL [{r['ci_low_SL']:.3f}, {r['ci_high_SL']:.3f}]"
    rl_any = int((a > 0).sum())
    more = r["mean_RL"] > r["mean_SL"] and r["rank_biserial"] > 0
    v2 = "HOLDS" if rl_any == len(a) and more else ("PARTLY" if rl_any > 0 else "DOES NOT HOLD")
    c2 = Claim(
        "2. RL finds hybrid landscapes (fixed points + QP, QP mostly at low coherence)",
        "2",
        n,
        f"QP fraction RL − SL = {r['mean_RL'] - r['mean_SL']:+.3f}; rank-biserial r = {r['rank_biserial']:+.2f}",
        ci,
        "Mann-Whitney U, two-sided",
        r["p"],
        v2,
        f"RL networks with QP: {rl_any}/{len(a)}; QP fraction RL {r['mean_RL']:.3f} (low coherence {low['mean_RL']:.3f}), "
        f"SL {r['mean_SL']:.3f} (low coherence {low['mean_SL']:.3f})",
        _way(r["rank_biserial"]),
    )
    below_rl = r["mean_SL"] < r["mean_RL"]
    v3 = (
        "HOLDS"
        if r["mean_SL"] < sl_max and below_rl
        else ("PARTLY" if below_rl else "DOES NOT HOLD")
    )
    c3 = Claim(
        "3. SL converges almost only to fixed points",
        "2",
        n,
        f"SL QP fraction {r['mean_SL']:.3f} (rule: < {sl_max} and below RL)",
        ci,
        "Mann-Whitney U, two-sided",
        r["p"],
        v3,
        f"SL networks with QP: {int((b > 0).sum())}/{len(b)}",
        _way(r["rank_biserial"]),
    )
    return c2, c3


def summary_balance(tab: pd.DataFrame) -> pd.DataFrame:
    """Per-network balance from a sweep summary table (:func:`lib.pipelines.sweep.summary_table`;
    columns ``balance_ds``, ``balance_sel``) in the long form of
    :func:`lib.analysis.balance.network_balance`: ``algorithm``, ``seed``, ``definition``,
    ``balance``; networks without populations are left out."""
    cols = [c for c in BALANCE_COLUMNS.values() if c in tab.columns]
    per = tab.melt(id_vars=["algorithm", "seed"], value_vars=cols, value_name="balance")
    per = per.dropna(subset=["balance"])
    per["definition"] = per.variable.map({v: k for k, v in BALANCE_COLUMNS.items()})
    return per


def claim_balanced_populations(per: pd.DataFrame, more: str = "") -> Claim:
    """Claim 4a on per-network balance: ``per`` has ``algorithm``, ``seed``, ``definition``
    (``decision_states``, ``selectivity``) and ``balance`` (:func:`lib.analysis.balance.network_balance`).
    HOLDS when RL's balance exceeds SL's with p < 0.05 under both population definitions;
    PARTLY when it is larger (rank-biserial r > 0) under both, or significantly larger under
    one; DOES NOT HOLD otherwise. ``more`` is appended to the numbers."""
    res = {}
    for d in ("decision_states", "selectivity"):
        g = per[per.definition == d]
        res[d] = compare_groups(
            g[g.algorithm == "ppo"].balance, g[g.algorithm == "sl"].balance, ("RL", "SL")
        )
    ds, se = res["decision_states"], res["selectivity"]
    larger = [d for d, r in res.items() if r["rank_biserial"] > 0]
    sig = [d for d, r in res.items() if r["rank_biserial"] > 0 and r["p"] < 0.05]
    v4a = "HOLDS" if len(sig) == 2 else ("PARTLY" if len(larger) == 2 or sig else "DOES NOT HOLD")
    return Claim(
        "4a. RL gives more balanced populations than SL",
        "3",
        f"{ds['n_RL']} RL + {ds['n_SL']} SL",
        f"balance RL − SL: decision states {ds['mean_RL'] - ds['mean_SL']:+.3f} (r = {ds['rank_biserial']:+.2f}), "
        f"selectivity {se['mean_RL'] - se['mean_SL']:+.3f} (r = {se['rank_biserial']:+.2f})",
        f"decision states RL [{ds['ci_low_RL']:.2f}, {ds['ci_high_RL']:.2f}], SL [{ds['ci_low_SL']:.2f}, {ds['ci_high_SL']:.2f}]",
        "Mann-Whitney U, two-sided",
        ds["p"],
        v4a,
        f"selectivity definition p = {_fmt_p(se['p'])}; mean balance RL {ds['mean_RL']:.3f} / {se['mean_RL']:.3f}, "
        f"SL {ds['mean_SL']:.3f} / {se['mean_SL']:.3f} (decision states / selectivity)" + more,
        _way(ds["rank_biserial"]),
    )


def claim_balance(
    pops: pd.DataFrame,
    rob: pd.DataFrame,
    ensemble: pd.DataFrame | None = None,
    delta: float = 0.1,
) -> tuple[Claim, Claim]:
    """Claim 4: RL gives balanced populations (4a); balance makes networks robust (4b).

    ``pops`` is the concatenated ``populations`` table of :func:`lib.analysis.balance.balance_analysis`
    over networks, ``rob`` the ``robustness`` tables with ``algorithm`` and ``seed`` columns.
    A network's balance is the mean over its contexts. ``ensemble`` (optional) is the summary
    table of the ``initialization`` sweep (:func:`lib.pipelines.sweep.summary_table`; columns
    ``algorithm``, ``seed``, ``delta``, ``balance_ds``, ``balance_sel``, the same quantities
    computed with the same settings): when its networks at ``delta`` outnumber those of
    ``pops``, 4a is tested on them instead, and its other δ values are summarised in the
    numbers (at how many δ RL's balance is significantly above / below SL's).

    4a HOLDS when RL's balance exceeds SL's with p < 0.05 under both population definitions;
    PARTLY when it is larger (rank-biserial r > 0) under both, or significantly larger under
    one; DOES NOT HOLD otherwise (including definitions that disagree without significance).
    4b (over the networks of ``rob``, decision-state balance against each robustness summary)
    HOLDS when Spearman's ρ > 0 with p < 0.05 for every perturbation; PARTLY when ρ > 0 for
    every perturbation, or significantly for one; DOES NOT HOLD otherwise.
    """
    per = network_balance(pops)
    per_delta = ""
    if ensemble is not None and len(ensemble):
        at = ensemble[np.isclose(ensemble.delta, delta)]
        cols = [c for c in BALANCE_COLUMNS.values() if c in at.columns]
        n_at = min((at[c].notna().sum() for c in cols), default=0)
        if cols and n_at > per.groupby("definition").seed.size().max():
            per = summary_balance(at)
        by = balance_by_delta(ensemble).dropna(subset=["p"])
        counts = []
        for d, col in BALANCE_COLUMNS.items():
            g = by[by.definition == col]
            sig = g[g.p < 0.05]
            up, down = int((sig.rank_biserial > 0).sum()), int((sig.rank_biserial < 0).sum())
            counts.append(
                f"{d.replace('_', ' ')} RL > SL at {up}/{len(g)} δ, RL < SL at {down}/{len(g)}"
            )
        per_delta = "; across δ (p < 0.05): " + ", ".join(counts)
    c4a = claim_balanced_populations(per, per_delta)
    br, corr = balance_robustness(per, rob)
    cors = {r.perturbation: (r.spearman_rho, r.ci_low, r.ci_high, r.p) for r in corr.itertuples()}
    pos = [p for p, c in cors.items() if np.isfinite(c[0]) and c[0] > 0]
    psig = [p for p, c in cors.items() if np.isfinite(c[0]) and c[0] > 0 and c[3] < 0.05]
    v4b = (
        "HOLDS"
        if cors and len(psig) == len(cors)
        else ("PARTLY" if (cors and len(pos) == len(cors)) or psig else "DOES NOT HOLD")
    )
    noise = cors.get("noise", (float("nan"),) * 4)
    c4b = Claim(
        "4b. balance makes networks robust",
        "3",
        f"{br.seed.size // max(len(cors), 1)} networks",
        "; ".join(f"{p}: ρ = {c[0]:+.2f}" for p, c in cors.items()),
        f"noise: [{noise[1]:+.2f}, {noise[2]:+.2f}]",
        "Spearman, two-sided",
        noise[3],
        v4b,
        "; ".join(f"{p}: p = {_fmt_p(c[3])}" for p, c in cors.items()),
        _way(noise[0], "noise ρ", ""),
    )
    return c4a, c4b


def _incomplete(verdict: str, stored: int, expected: int | None, failed: int = 0) -> str:
    """``verdict`` prefixed ``INCOMPLETE (k/n runs):`` while fewer than ``expected`` runs are
    stored, counting the ``failed`` ones (the sweep's failure records). Once every run is
    stored or failed nothing is left to compute: the verdict stands (the claim's ``n`` says how
    many failed, :func:`_failed_note`)."""
    if expected is None or stored + failed >= expected:
        return verdict
    why = f"; {failed} failed" if failed else ""
    return f"INCOMPLETE ({stored}/{expected} runs{why}): {verdict}"


def _failed_note(failed: int) -> str:
    """``"; k failed runs left out"`` for a claim's ``n`` (empty without failures)."""
    return f"; {failed} failed run{'s' if failed != 1 else ''} left out" if failed else ""


def claim_delta(tab: pd.DataFrame, n_expected: int | None = None, n_failed: int = 0) -> Claim:
    """Claim 5, δ part: wider initialisation, more QP under RL.

    ``tab`` is :func:`lib.pipelines.sweep.summary_table` of the initialisation sweep. HOLDS when
    Spearman's ρ(QP fraction, δ) over RL networks is positive with p < 0.05; PARTLY when
    positive but not significant; DOES NOT HOLD otherwise. INCOMPLETE is prefixed while fewer
    runs than ``n_expected`` are stored or failed (``n_failed``, the sweep's failed runs, which
    ``n`` counts).
    """
    if tab.empty or "qp_fraction" not in tab.columns:
        tab = pd.DataFrame(columns=["algorithm", "delta", "qp_fraction", "seed"])
    d = tab.dropna(subset=["qp_fraction"])
    rl = d[d.algorithm == "ppo"]
    if rl.delta.nunique() < 2:
        return Claim(
            "5a. wider δ → more QP under RL",
            "4",
            f"{len(rl)} RL",
            "",
            "",
            "Spearman",
            float("nan"),
            "NOT TESTED YET",
            "needs RL censuses at ≥ 2 values of δ (sweep running)",
        )
    rho, lo, hi, p = spearman_ci(rl.delta, rl.qp_fraction)
    v = "HOLDS" if rho > 0 and p < 0.05 else ("PARTLY" if rho > 0 else "DOES NOT HOLD")
    v = _incomplete(v, len(d), n_expected, n_failed)
    sl = d[d.algorithm == "sl"]
    rho_sl = spearman_ci(sl.delta, sl.qp_fraction)[0] if sl.delta.nunique() >= 2 else float("nan")
    return Claim(
        "5a. wider δ → more QP under RL",
        "4",
        f"{len(rl)} RL networks over {rl.delta.nunique()} δ{_failed_note(n_failed)}",
        f"Spearman ρ = {rho:+.2f} (SL: {rho_sl:+.2f})",
        f"[{lo:+.2f}, {hi:+.2f}]",
        "Spearman, two-sided",
        p,
        v,
        "; ".join(f"δ={k:g}: {g.qp_fraction.mean():.3f}" for k, g in rl.groupby("delta")),
        _way(rho, "ρ", ""),
    )


#: Fewest networks per level for a correlation (Fisher's z needs n > 3).
MIN_CORRELATION_N = 4


def claim_complexity(
    tab: pd.DataFrame,
    ideal: dict[str, float],
    n_expected: int | None = None,
    n_failed: int = 0,
) -> Claim:
    """Claim 5, complexity part: QP prevalence goes with performance, more on harder tasks.

    Per level, Pearson's r between RL networks' QP fraction and final accuracy relative to
    the level's ideal observer (``ideal``). HOLDS when some level has r > 0 with p < 0.05 and
    r grows from the easy to the hard level; PARTLY when one of the two; DOES NOT HOLD
    otherwise. Levels with fewer than :data:`MIN_CORRELATION_N` RL networks are left out (no
    correlation is defined there); NOT TESTED YET with fewer than two levels left. INCOMPLETE
    is prefixed as in :func:`claim_delta`.
    """
    if tab.empty or "qp_fraction" not in tab.columns:
        tab = pd.DataFrame(columns=["algorithm", "level", "qp_fraction", "final_accuracy"])
    d = tab.dropna(subset=["qp_fraction"])
    rl = d[d.algorithm == "ppo"].copy()
    sizes = rl.groupby("level").size()
    enough = sizes[sizes >= MIN_CORRELATION_N]
    if len(enough) < 2:
        stored = ", ".join(f"{lv} {n}" for lv, n in sizes.items()) or "none"
        return Claim(
            "5b. QP goes with performance, more on harder tasks",
            "5",
            f"{len(rl)} RL",
            "",
            "",
            "Pearson",
            float("nan"),
            "NOT TESTED YET",
            f"needs ≥ {MIN_CORRELATION_N} RL censuses at ≥ 2 levels (stored: {stored}; "
            "sweep running)",
        )
    rl["rel"] = rl.final_accuracy / rl.level.map(ideal)
    rl = rl[rl.level.isin(enough.index)]
    res = {lv: pearson_ci(g.qp_fraction, g.rel) for lv, g in rl.groupby("level")}
    sig = [lv for lv, (r, _, _, p) in res.items() if np.isfinite(r) and r > 0 and p < 0.05]
    grows = "easy" in res and "hard" in res and res["hard"][0] > res["easy"][0]
    v = "HOLDS" if sig and grows else ("PARTLY" if sig or grows else "DOES NOT HOLD")
    v = _incomplete(v, len(d), n_expected, n_failed)
    hard = res.get("hard", (float("nan"),) * 4)
    return Claim(
        "5b. QP goes with performance, more on harder tasks",
        "5",
        f"{len(rl)} RL networks over {rl.level.nunique()} levels{_failed_note(n_failed)}",
        "; ".join(f"{lv}: r = {r:+.2f}" for lv, (r, *_rest) in res.items()),
        f"hard: [{hard[1]:+.2f}, {hard[2]:+.2f}]",
        "Pearson (Fisher z CI)",
        hard[3],
        v,
        "; ".join(f"{lv}: p = {_fmt_p(p)}" for lv, (_, _, _, p) in res.items()),
        _way(hard[0], "hard r", ""),
    )


def claim_crystallisation(table: pd.DataFrame, level: float = 0.9) -> Claim:
    """Secondary description: the populations "crystallise" over training.

    ``table`` is :func:`lib.analysis.sculpting.sculpting_table` of the checkpointed runs, concatenated.
    Per RL network, the crystallisation point is the progress from which the decision-state
    population labels agree with the final ones at ≥ ``level`` (0.9, fixed before the data
    were seen) to the end (:func:`lib.analysis.sculpting.crystallisation_point`). HOLDS when at least
    half of the RL networks crystallise before the last checkpoint (point < 1); PARTLY when
    at least one does; DOES NOT HOLD otherwise.
    """
    name = "S. populations crystallise during training"
    if table.empty:
        return Claim(
            name, "6", "0", "", "", "", float("nan"), "NOT TESTED YET", "no checkpoint analyses"
        )
    pts = {
        (a, s): crystallisation_point(g.progress, g.label_agreement_ds, level)
        for (a, s), g in table.groupby(["algorithm", "seed"])
    }
    rl = np.array([v for (a, _), v in pts.items() if a == "ppo"])
    sl = np.array([v for (a, _), v in pts.items() if a == "sl"])
    early = int(np.sum(rl < 1.0))
    v = "HOLDS" if early >= max(len(rl), 1) / 2 else ("PARTLY" if early else "DOES NOT HOLD")
    mid = table[(table.progress >= 0.45) & (table.progress <= 0.8)]
    agree = mid.groupby("algorithm").label_agreement_ds.mean()
    chance = mid.groupby("algorithm").label_chance_ds.mean()
    fin = rl[np.isfinite(rl)]
    lo, hi = bootstrap_ci(fin) if fin.size >= 2 else (np.nan, np.nan)
    ci = (
        f"RL mean point {fin.mean():.2f}, 95 % bootstrap CI [{lo:.2f}, {hi:.2f}]"
        if np.isfinite(lo)
        else "not defined (fewer than 2 RL networks)"
    )
    return Claim(
        name,
        "6",
        f"{len(rl)} RL, {len(sl)} SL networks",
        f"crystallised before the end (agreement ≥ {level:g}): RL {early}/{len(rl)}, "
        f"SL {int(np.sum(sl < 1.0))}/{len(sl)}",
        ci,
        "per-network rule",
        float("nan"),
        v,
        "label agreement with the final network at 45–80 % of training: "
        + "; ".join(
            f"{a}: {agree.get(a, np.nan):.2f} (chance {chance.get(a, np.nan):.2f})"
            for a in ("ppo", "sl")
        ),
    )


def _not_tested(name: str, chapter: str, why: str) -> Claim:
    return Claim(name, chapter, "0", "", "", "", float("nan"), "NOT TESTED YET", why[:160])


def _default_rows(
    runs: list[StoredRun],
    store: str | Path | None,
    trials: str = "reset",
    only: frozenset[str] = frozenset(CLAIM_GROUPS),
) -> list[Claim]:
    """Claims 1–4 and S (those of the groups ``only``) from the default networks; a missing
    analysis makes its rows NOT TESTED YET with the reason, the others are still computed."""
    rows = [claim_performance(runs_table(runs))] if "performance" in only else []
    if "landscape" in only:
        rows += _landscape_rows(runs)
    if "balance" in only:
        rows += _balance_rows(runs, store, trials)
    if "crystallisation" in only:
        rows += _crystallisation_rows(runs)
    return rows


def _landscape_rows(runs: list[StoredRun]) -> list[Claim]:
    rows: list[Claim] = []
    try:
        cz = {
            (r.spec.algorithm, r.spec.seed): census(r, CensusConfig(), compute=False) for r in runs
        }
        rows += list(claims_2_3(qp_per_network(cz)))
    except FileNotFoundError as e:
        rows += [
            _not_tested("2. hybrid landscapes under RL", "2", f"census missing: {e}"),
            _not_tested("3. SL: fixed points only", "2", f"census missing: {e}"),
        ]
    return rows


def _balance_rows(runs: list[StoredRun], store: str | Path | None, trials: str) -> list[Claim]:
    rows: list[Claim] = []
    try:
        bal = {
            (r.spec.algorithm, r.spec.seed): balance_analysis(r, BalanceConfig(), compute=False)
            for r in runs
        }
    except FileNotFoundError as e:
        rows.append(
            _not_tested(
                "4. balanced populations; balance -> robustness",
                "3",
                f"populations analysis missing: {e}",
            )
        )
    else:
        pops = pd.concat([v["populations"] for v in bal.values()], ignore_index=True)
        rob = pd.concat(
            [v["robustness"].assign(algorithm=a, seed=s) for (a, s), v in bal.items()],
            ignore_index=True,
        )
        ens = summary_table("initialization", "paper", store, trials=trials, spectra=False)
        rows += list(claim_balance(pops, rob, ensemble=ens, delta=DEFAULT_DELTA))
    return rows


def _crystallisation_rows(runs: list[StoredRun]) -> list[Claim]:
    rows: list[Claim] = []
    try:
        sc = [sculpting_table(r, compute=False) for r in runs if r.has_checkpoints]
        rows.append(
            claim_crystallisation(pd.concat(sc, ignore_index=True) if sc else pd.DataFrame())
        )
    except FileNotFoundError as e:
        rows.append(
            _not_tested(
                "S. populations crystallise during training",
                "6",
                f"checkpoint analyses missing: {e}",
            )
        )
    return rows


def claims_table(
    store: str | Path | None = None,
    trials: str = "reset",
    only: set[str] | frozenset[str] | None = None,
) -> pd.DataFrame:
    """Every claim's row, computed from the store (book mode: nothing is trained or analysed).

    Parameters
    ----------
    store : the store root (default ``data/``).
    trials : the trial regime of the networks (``reset`` or ``continuous``).
    only : the claim groups to compute (:data:`CLAIM_GROUPS`; default all).

    Rows whose stored results are missing say so (verdict ``NOT TESTED YET`` and the reason);
    the other rows are computed all the same.
    """
    groups = frozenset(CLAIM_GROUPS) if only is None else frozenset(only)
    unknown = groups - set(CLAIM_GROUPS)
    if unknown:
        raise ValueError(
            f"unknown claim groups {sorted(unknown)}; choose from {list(CLAIM_GROUPS)}"
        )
    per_run = groups & {"performance", "landscape", "balance", "crystallisation"}
    rows: list[Claim] = []
    if per_run:
        specs = specs_for(
            "book", ["ppo", "sl"], list(DEFAULT_SEEDS), DEFAULT_DELTA, 250, trials=trials
        )
        try:
            runs = resolve_runs(specs, store, "book", progress=False)
        except FileNotFoundError:
            st = Store(store)
            missing = sum(st.status(sp) != "complete" for sp in specs)
            why = (
                f"{missing} of the {len(specs)} default networks of the {trials} regime are not "
                "stored yet"
            )
            rows = [
                _not_tested(name, ch, why)
                for g in CLAIM_GROUPS
                if g in per_run
                for name, ch in CLAIM_GROUPS[g]
            ]
        else:
            rows = _default_rows(runs, store, trials, per_run)
    if "delta" in groups:
        rows.append(
            claim_delta(
                summary_table("initialization", "paper", store, trials=trials, spectra=False),
                len(get_sweep("initialization", "paper", trials)),
                len(failed_runs("initialization", "paper", store, trials)),
            )
        )
    if "complexity" in groups:
        ideal = {lv: ideal_observer_accuracy(task_for_level(lv)) for lv in COMPLEXITY_LEVELS}
        rows.append(
            claim_complexity(
                summary_table("complexity", "paper", store, trials=trials, spectra=False),
                ideal,
                len(get_sweep("complexity", "paper", trials)),
                len(failed_runs("complexity", "paper", store, trials)),
            )
        )
    return pd.DataFrame([r.as_row() for r in rows])


def verdict_of(cell: str) -> tuple[str, bool]:
    """The verdict of a table cell and whether it rests on part of its networks:
    ``"PARTLY (3 RL + 3 SL; ...)"`` -> ("PARTLY", False),
    ``"INCOMPLETE (27/100 runs): HOLDS (...)"`` -> ("HOLDS", True)."""
    if cell.startswith("INCOMPLETE"):
        return cell.split(": ", 1)[1].split(" (")[0], True
    return cell.split(" (")[0], False


def other_regime_lines(
    main: Sequence[Claim], group: str, store: str | Path | None = None, trials: str = "reset"
) -> list[str]:
    """One sentence per claim of ``group``: its verdict in the other trial regime and whether
    it agrees with ``main`` (the chapter's own verdicts, in regime ``trials``). The regimes are
    named as :data:`REGIME_NAMES` names them."""
    other = other_regime(trials)
    tab = claims_table(store, other, {group})
    where = {
        "continuous": "in NeuroGym's continuous regime",
        "reset": "with h reset at every trial",
    }
    lines = []
    for c, (_, o) in zip(main, tab.iterrows(), strict=False):
        short = c.claim.split(" ", 1)[0].rstrip(".")
        if str(o.verdict).startswith("NOT TESTED"):
            lines.append(f"Claim {short} {where[other]}: not tested yet ({o.numbers}).")
            continue
        verdict, partial = verdict_of(str(o.verdict))
        same = "agrees with" if verdict == verdict_of(c.verdict)[0] else "differs from"
        which = f"which, on the runs stored so far, {same}" if partial else f"which {same}"
        lines.append(
            f"Claim {short} {where[other]}: {o.verdict} (n = {o.n}; {o.numbers}), "
            f"{which} the verdict {where[trials]}, {c.verdict}."
        )
    return lines
