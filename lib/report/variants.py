"""The open choices behind the verdicts (issue 10's variants): what each variant changes,
whether its results are stored, and the verdicts it gives, side by side with the main ones.

A *variant* changes one choice the paper leaves open, either in training (the trial regime, a
leaky network, the older input noise, plain cross-entropy) or in the analysis (a longer census
horizon, a linear-stability census). The main verdicts are those of :func:`lib.report.claims.claims_table`
(reset regime, orbit census). This module reads what is stored and never computes anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lib.analysis.stats import compare_groups
from lib.pipelines.experiments import REPO
from lib.pipelines.profiles import PAPER_SEEDS, VARIANT_REGIME
from lib.report.claims import verdict_of

__all__ = [
    "TRAINED_VARIANTS",
    "variant_networks",
    "variant_claims",
    "variant_balance_claims",
    "verdicts_by_variant",
    "long_horizon_per_network",
    "long_horizon_claims",
    "variant_summary",
    "VARIANT_LABELS",
    "Variant",
    "VARIANTS",
    "TRAINED_SCOPE",
    "CENSUS_SCOPE",
    "NEUROGYM_STREAM_CSV",
    "census_version_claims",
    "census_versions_per_network",
    "neurogym_stream",
    "stream_summary",
    "variants_status",
    "stored_sentences",
    "robustness_verdict",
    "claims_by_variant",
    "verdict_overview",
    "qp_forest",
    "key_number",
    "main_column",
    "MAIN_COLUMNS",
    "RESET_NAME",
    "short_cell",
    "verdict_word",
    "verdict_grid",
    "verdict_details",
    "robustness_lines",
    "regime_agreement_sentence",
    "information_other_regime",
    "stability_per_network",
    "stability_claims",
]


@dataclass(frozen=True)
class Variant:
    """One open choice changed from the companion's default."""

    key: str
    name: str
    kind: str  # "training" or "analysis"
    change: str
    default: str
    #: The claims (numbers as in :func:`lib.report.claims.claims_table`) this variant can test
    #: (:data:`TRAINED_SCOPE`, :data:`CENSUS_SCOPE`).
    claims: tuple[str, ...] = ("1", "2", "3", "4a", "4b", "S", "5a", "5b")


#: What a variant trained at the default δ and task can test: performance, landscape, balance
#: and balance → robustness. Not the δ and complexity claims (5a, 5b: one δ, one task), nor
#: crystallisation (S: it needs separate runs with training checkpoints).
TRAINED_SCOPE: tuple[str, ...] = ("1", "2", "3", "4a", "4b")
#: What a census variant tests: the landscape claims.
CENSUS_SCOPE: tuple[str, ...] = ("2", "3")

VARIANTS: tuple[Variant, ...] = (
    Variant(
        "continuous",
        "continuous trial regime",
        "training",
        "the recurrent state carried from trial to trial, as NeuroGym's Dataset and TrialEnv run "
        "trials (SL on windows cut across trial boundaries; PPO never resets)",
        "h = 0 at every trial start",
    ),
    Variant(
        "leaky",
        "leaky network",
        "training",
        "α < 1 (a time constant τ > dt)",
        "α = 1 (no leak)",
        TRAINED_SCOPE,
    ),
    Variant(
        "old_noise",
        "older NeuroGym input noise",
        "training",
        "σ/√dt ≈ 0.2 per step, criterion following the ideal observer",
        "0.1 per step",
        TRAINED_SCOPE,
    ),
    Variant(
        "plain_ce",
        "SL with plain cross-entropy",
        "training",
        "every step weighted equally (NeuroGym's supervised example)",
        "decision step weighted 5×",
        TRAINED_SCOPE,
    ),
    Variant(
        "long_horizon",
        "census horizon 10× longer",
        "analysis",
        "10,000 transient + 20,000 recorded steps per orbit",
        "1,000 + 2,000",
        CENSUS_SCOPE,
    ),
    Variant(
        "linear_stability",
        "linear-stability census",
        "analysis",
        "per grid point, the exact fixed points and their Jacobian spectra; a Neimark–Sacker (QP) "
        "candidate where no stable fixed point exists and an unstable focus does",
        "orbits followed and classified (Lyapunov exponents, Birkhoff averages)",
        CENSUS_SCOPE,
    ),
)

#: The variants with networks of their own, in the order shown: ``main`` (the default networks
#: reset at every trial, the first version's main networks), ``continuous`` (the same in the
#: continuous regime, the book's main networks now) and the training variants,
#: trained in the continuous regime (the regime the methods chapter argues is NeuroGym's).
TRAINED_VARIANTS: tuple[str, ...] = ("main", "continuous", "leaky", "old_noise", "plain_ce")
#: How the trained variants are named in figures and tables.
VARIANT_LABELS: dict[str, str] = {
    "main": "reset\n(every trial)",
    "continuous": "continuous\n(main)",
    "leaky": "leaky\n(continuous)",
    "old_noise": "older noise\n(continuous)",
    "plain_ce": "plain CE\n(continuous)",
}

#: Per-network accuracies of the stored networks on NeuroGym 1.0.8's own environment, reset and
#: continuous (``benchmarks/neurogym_stream.py``, run in its side environment).
NEUROGYM_STREAM_CSV = REPO / "benchmarks" / "neurogym_stream_results.csv"


def neurogym_stream(path: str | Path = NEUROGYM_STREAM_CSV) -> pd.DataFrame:
    """The NeuroGym-stream check in long form: one row per network and regime.

    Columns: run_id, algorithm, seed, delta, trained (the regime the network was trained in),
    variant (as in :data:`TRAINED_VARIANTS`: ``main`` for the reset regime's networks,
    ``continuous`` for the continuous baseline, else the training variant), regime (``metrics``: the store's own final accuracy; ``reset``; ``continuous``:
    how NeuroGym ran it), accuracy, ci_low, ci_high, n_trials, nonfinite (the
    carried state overflowed during the stream). Empty when the check has not been run.
    """
    path = Path(path)
    cols = ["run_id", "algorithm", "seed", "delta", "trained", "variant", "regime", "accuracy"]
    cols += ["ci_low", "ci_high"]
    if not path.is_file():
        return pd.DataFrame(columns=[*cols, "n_trials", "nonfinite"])
    d = pd.read_csv(path)
    if "trained_trials" not in d:
        d["trained_trials"] = "reset"
    if "variant" not in d:
        d["variant"] = ""
    d["trained_trials"] = d.trained_trials.fillna("reset").replace("", "reset")
    d["variant"] = d.variant.fillna("")
    # the trained variant in TRAINED_VARIANTS' terms: main (reset), continuous (baseline), ...
    d["variant"] = [
        "main" if t == "reset" else ("continuous" if v in ("", "baseline") else v)
        for t, v in zip(d.trained_trials, d.variant, strict=True)
    ]
    rows = []
    for _, r in d.iterrows():
        for regime, pre, n in (
            ("metrics", "metrics_", r.metrics_eval_trials),
            ("reset", "reset_", r.n_trials),
            ("continuous", "continuous_", r.n_trials),
        ):
            acc = r[f"{pre}final_accuracy"] if regime == "metrics" else r[f"{pre}accuracy"]
            rows.append(
                {
                    "run_id": r.run_id,
                    "algorithm": r.algorithm,
                    "seed": int(r.seed),
                    "delta": float(r.delta),
                    "trained": r.trained_trials,
                    "variant": r.variant,
                    "regime": regime,
                    "accuracy": float(acc),
                    "ci_low": float(r[f"{pre}ci_lo"]),
                    "ci_high": float(r[f"{pre}ci_hi"]),
                    "n_trials": int(n),
                    "nonfinite": bool(r.continuous_nonfinite > 0)
                    if regime == "continuous"
                    else False,
                }
            )
    return pd.DataFrame(rows)


def stream_summary(stream: pd.DataFrame) -> pd.DataFrame:
    """Per training regime, algorithm and evaluation regime: networks, mean accuracy with its
    bootstrap CI over networks, range, and how many networks' carried state overflowed."""
    rows = []
    if "trained" not in stream:
        stream = stream.assign(trained="reset")
    keys = ["trained", "algorithm", "regime"]
    for (trained, alg, regime), g in stream.groupby(keys, sort=False):
        r = compare_groups(g.accuracy, g.accuracy)
        rows.append(
            {
                "trained in": trained,
                "algorithm": alg,
                "evaluated": regime,
                "networks": len(g),
                "mean accuracy": r["mean_a"],
                "ci_low": r["ci_low_a"],
                "ci_high": r["ci_high_a"],
                "min": g.accuracy.min(),
                "max": g.accuracy.max(),
                "state overflowed": int(g.nonfinite.sum()),
            }
        )
    return pd.DataFrame(rows)


def variants_status(stored: dict[str, str]) -> pd.DataFrame:
    """One row per variant: what it changes, the default it replaces, and what is stored
    (``stored`` maps a variant key to a sentence; absent keys read "not computed yet")."""
    return pd.DataFrame(
        [
            {
                "variant": v.name,
                "kind": v.kind,
                "changes": v.change,
                "instead of": v.default,
                "tests claims": ", ".join(v.claims),
                "stored": stored.get(v.key, "not computed yet"),
            }
            for v in VARIANTS
        ]
    )


def stored_sentences(
    nets: pd.DataFrame, stability: pd.DataFrame, horizon: pd.DataFrame
) -> dict[str, str]:
    """What is stored per variant, as the ``stored`` sentences of :func:`variants_status`.

    Parameters
    ----------
    nets
        :func:`variant_networks` (one row per trained network, ``variant``, ``algorithm`` and
        the census's ``qp_fraction``, NaN where its census is not stored).
    stability, horizon
        :func:`stability_per_network` and :func:`long_horizon_per_network` (one row per
        network with ``trials``, ``algorithm`` and ``seed``).

    Returns
    -------
    dict
        Variant key to sentence; a variant with nothing stored is absent.
    """
    out: dict[str, str] = {}
    for v in TRAINED_VARIANTS:
        d = nets[nets.variant == v] if len(nets) else nets
        if v == "main" or d.empty:
            continue
        n = d.groupby("algorithm", observed=True).size().to_dict()
        cz = d.dropna(subset=["qp_fraction"]).groupby("algorithm", observed=True).size().to_dict()
        out[v] = (
            f"{n.get('ppo', 0)} RL + {n.get('sl', 0)} SL networks at δ = 0.1 trained "
            f"({cz.get('ppo', 0)} + {cz.get('sl', 0)} with their census)"
        )
    for key, per in (("linear_stability", stability), ("long_horizon", horizon)):
        if not len(per):
            continue
        parts = []
        for regime in ("reset", "continuous"):
            d = per[per.trials == regime]
            if d.empty:
                continue
            n = d.groupby("algorithm").size().to_dict()
            seeds = sorted(set(d.seed))
            if len(seeds) == 1:
                span = f"seed {seeds[0]}"
            elif seeds == list(range(seeds[0], seeds[-1] + 1)):
                span = f"seeds {seeds[0]}–{seeds[-1]}"
            else:
                span = "seeds " + ", ".join(str(s) for s in seeds)
            parts.append(
                f"{n.get('ppo', 0)} RL + {n.get('sl', 0)} SL {regime}-regime networks ({span})"
            )
        out[key] = "; ".join(parts) + " at δ = 0.1"
    return out


def robustness_verdict(main: str, by_variant: dict[str, str | None]) -> str:
    """A claim's robustness from its main verdict and its verdict per variant (keys are
    :data:`VARIANTS` keys; ``None``: not computed): "holds in every variant computed", "does
    not hold in any", "depends on the choice: differs under <variant>; <variant>", each with
    how many variants it rests on. A verdict on part of its networks (``INCOMPLETE (...):
    VERDICT``) counts with its verdict, and is named ", in part" and counted as such."""
    names = {v.key: v.name for v in VARIANTS}
    parsed = {k: verdict_of(v) for k, v in by_variant.items() if v}
    done = {k: v for k, (v, _) in parsed.items()}
    partial = [k for k, (_, p) in parsed.items() if p]
    n = len(by_variant)
    tail = f" ({len(done)} of {n} variant{'s' if n != 1 else ''} computed"
    tail += f", {len(partial)} of them in part)" if partial else ")"
    if not done:
        return "not yet tested against any variant" + tail
    main = verdict_of(main)[0]
    verdicts = {main, *done.values()}
    if verdicts == {"HOLDS"}:
        return "holds in every variant computed" + tail
    if verdicts == {"DOES NOT HOLD"}:
        return "does not hold in any variant computed" + tail
    differ = [
        names.get(k, k) + (", in part" if k in partial else "")
        for k, v in done.items()
        if v != main
    ]
    if not differ:
        return f"{main} in every variant computed" + tail
    return "depends on the choice: differs under " + "; ".join(differ) + tail


def claims_by_variant(
    main: pd.DataFrame,
    by_variant: dict[str, dict[str, str]] | None = None,
    regime: str = "reset",
) -> pd.DataFrame:
    """Claims × variants: each claim's main verdict (``main`` is
    :func:`lib.report.claims.claims_table` in trial regime ``regime``), its verdict in the other
    trial regime, under every other variant that is stored for some claim (``by_variant`` maps
    a claim number, e.g. ``"2"``, to {variant key: verdict}; the other regime's key is
    ``"continuous"`` or ``"reset"``), which variants are not computed yet, and the verdict on
    robustness (:func:`robustness_verdict`). A variant that cannot test a claim
    (:attr:`Variant.claims`) reads "outside its scope" there and does not count towards the
    claim's robustness.

    With ``regime="reset"`` the continuous regime is one of the variants and counts towards
    robustness (the first version of this companion). With ``regime="continuous"`` (the main
    regime, :data:`lib.report.claims.MAIN_REGIME`) the reset regime has its own column and
    robustness is over chapter 8's variants alone, which are all continuous-regime choices.
    """
    from lib.report.claims import other_regime

    other = other_regime(regime)
    by_variant = by_variant or {}
    variants = [v for v in VARIANTS if v.key != "continuous"]
    shown = [other] + [v.key for v in variants if any(v.key in d for d in by_variant.values())]
    names = {v.key: v.name for v in VARIANTS} | {"reset": RESET_NAME}
    regime_scope = VARIANTS[0].claims  # a trial regime can test every claim
    rows = []
    for _, r in main.iterrows():
        num = r.claim.split(".")[0]
        got = by_variant.get(num, {})
        # only the variants that can test this claim count (Variant.claims)
        per = {v.key: got.get(v.key) for v in variants if num in v.claims}
        if regime == "reset":
            per = {"continuous": got.get("continuous"), **per}
        cells = {
            names[k]: (per[k] or "not computed yet") if k in per else "outside its scope"
            for k in shown
            if k != other
        }
        other_cell = got.get(other) or "not computed yet"
        if num not in regime_scope:
            other_cell = "outside its scope"
        rows.append(
            {
                "claim": r.claim,
                main_column(regime): f"{r.verdict} ({r.n})",
                names[other]: other_cell,
                **cells,
                "variants not computed yet": ", ".join(names[k] for k, v in per.items() if not v)
                or "none",
                "robustness": robustness_verdict(r.verdict, per),
            }
        )
    return pd.DataFrame(rows)


#: How the tables name the reset regime (:data:`lib.report.claims.REGIME_NAMES`).
RESET_NAME = "reset at every trial"
#: The column of :func:`claims_by_variant` that holds the main verdict, per main regime.
MAIN_COLUMNS: dict[str, str] = {
    "reset": "main verdict (reset regime, orbit census)",
    "continuous": "main verdict (NeuroGym's continuous regime, orbit census)",
}


def main_column(regime: str = "reset") -> str:
    """The column of :func:`claims_by_variant` that holds the main verdict in ``regime``."""
    return MAIN_COLUMNS[regime]


def _main_column_of(cross: pd.DataFrame) -> str:
    """Whichever main-verdict column ``cross`` (a :func:`claims_by_variant` table) has."""
    for c in MAIN_COLUMNS.values():
        if c in cross.columns:
            return c
    raise KeyError(f"no main verdict column in {list(cross.columns)}")


#: The column of :func:`claims_by_variant` that holds the main verdict.
MAIN_COLUMN = MAIN_COLUMNS["reset"]
#: Columns of :func:`claims_by_variant` that are not verdict cells.
_NOT_VERDICTS = ("claim", "variants not computed yet", "robustness")


def short_cell(cell: str) -> str:
    """A verdict cell cut to its verdict and networks.

    Parameters
    ----------
    cell : str
        A cell as :func:`_cell` writes it, ``"VERDICT (n; effect; 95 % CI ...)"``, possibly
        after an ``INCOMPLETE (k/N ...): `` head, or a cell that is not a verdict.

    Returns
    -------
    str
        ``"PARTLY (10 RL + 10 SL)"`` for ``"PARTLY (10 RL + 10 SL; effect; 95 % CI ...)"``; the
        ``INCOMPLETE`` head is kept; a cell that is not a verdict (``"not computed yet"``) is
        returned as it is.
    """
    cell = str(cell)
    if cell.startswith("INCOMPLETE"):
        head, _, tail = cell.partition(": ")
        return f"{head}: {short_cell(tail)}"
    verdict, _, rest = cell.partition(" (")
    if not rest:
        return verdict
    # "n; effect; CI)" or, with no effect, "n)": only the cell's own closing parenthesis goes
    n = rest.split(";")[0] if ";" in rest else rest.removesuffix(")")
    return f"{verdict} ({n})"


def verdict_word(cell: str) -> str:
    """A verdict cell cut to its verdict alone.

    Parameters
    ----------
    cell : str
        A cell as :func:`short_cell` takes it.

    Returns
    -------
    str
        ``"PARTLY"`` for ``"PARTLY (10 RL + 10 SL; ...)"``; ``"HOLDS (in part: 12/20
        networks)"`` for ``"INCOMPLETE (12/20 networks): HOLDS (...)"``; ``"outside its scope"``
        and ``"not computed yet"`` as they are.
    """
    cell = str(cell)
    if cell in ("outside its scope", "not computed yet"):
        return cell
    verdict, partial = verdict_of(cell)
    if partial:
        return f"{verdict} (in part: {cell.partition('(')[2].partition(')')[0]})"
    return verdict


def verdict_grid(cross: pd.DataFrame) -> pd.DataFrame:
    """The claims × variants table cut to verdicts, narrow enough to read on a page.

    Parameters
    ----------
    cross : pandas.DataFrame
        :func:`claims_by_variant`'s table.

    Returns
    -------
    pandas.DataFrame
        The same rows with every verdict cell cut by :func:`verdict_word`, without the
        robustness column (:func:`robustness_lines` says it in words) and without the column
        of variants not computed yet when it reads "none" everywhere. The networks, effects
        and intervals behind each cell are in :func:`verdict_details`.
    """
    g = cross.drop(columns="robustness", errors="ignore")
    for c in g.columns:
        if c not in _NOT_VERDICTS:
            g[c] = g[c].map(verdict_word)
    if "variants not computed yet" in g and (g["variants not computed yet"] == "none").all():
        g = g.drop(columns="variants not computed yet")
    return g


def verdict_details(cross: pd.DataFrame, main: pd.DataFrame | None = None) -> pd.DataFrame:
    """The claims × variants table in long form, every verdict cell in full.

    Parameters
    ----------
    cross : pandas.DataFrame
        :func:`claims_by_variant`'s table.
    main : pandas.DataFrame, optional
        The :func:`lib.report.claims.claims_table` that ``cross`` was made from; with it the
        main verdict's row carries its effect and interval too.

    Returns
    -------
    pandas.DataFrame
        One row per claim and variant that has a verdict: ``claim``, ``variant`` and
        ``verdict`` (the whole cell: n, effect and 95 % CI). Cells outside a variant's scope or
        not computed yet are left out.
    """
    full = {}
    if main is not None and {"effect", "ci"} <= set(main.columns):
        full = {r.claim: _cell(r) for _, r in main.iterrows()}
    main_col = _main_column_of(cross)
    rows = []
    for _, r in cross.iterrows():
        for c in cross.columns:
            if c in _NOT_VERDICTS:
                continue
            cell = str(r[c])
            if cell in ("outside its scope", "not computed yet"):
                continue
            if c == main_col:
                cell = full.get(r.claim, cell)
            rows.append({"claim": r.claim, "variant": c, "verdict": cell})
    return pd.DataFrame(rows, columns=["claim", "variant", "verdict"])


def robustness_lines(cross: pd.DataFrame) -> list[str]:
    """Each claim's main verdict and its verdict on robustness, in words.

    Parameters
    ----------
    cross : pandas.DataFrame
        :func:`claims_by_variant`'s table.

    Returns
    -------
    list of str
        One Markdown sentence per claim, e.g. ``"Claim 2, *RL finds hybrid landscapes ...*:
        PARTLY in the main networks; depends on the choice: differs under leaky network (6 of 6
        variants computed)."``; a main verdict on part of its networks says "(in part: ...)".
    """
    main_col = _main_column_of(cross)
    out = []
    for _, r in cross.iterrows():
        num, _, text = r.claim.partition(". ")
        main = verdict_word(str(r[main_col]))
        out.append(f"Claim {num}, *{text}*: {main} in the main networks; {r.robustness}.")
    return out


_MEASURE_NAMES = {
    "mean_mi": "mean MI",
    "frac_sig": "fraction of units significant",
    "density": "graph density",
    "mean_degree": "mean degree",
    "modularity": "modularity",
    "mean_mi_bits": "mean pairwise MI",
}


def _comparison_name(r: Any) -> str:
    what = _MEASURE_NAMES.get(r.measure, str(r.measure).replace("_", " "))
    return what if r.variable == "graph" else f"{str(r.variable).replace('_', ' ')}: {what}"


def regime_agreement_sentence(
    here: pd.DataFrame, there: pd.DataFrame, trials: str, other: str, alpha: float = 0.05
) -> str:
    """Whether the RL − SL differences found in one trial regime hold in the other.

    Parameters
    ----------
    here, there : pandas.DataFrame
        Comparisons as :func:`lib.analysis.unit_information.rl_sl_comparisons` returns them
        (``variable``, ``measure``, ``n_RL``, ``n_SL``, ``rank_biserial``, ``p``), made in
        regime ``trials`` (``here``) and in regime ``other`` (``there``).
    trials, other : str
        The two regimes' names, for the sentence.
    alpha : float
        Significance level (uncorrected p, as in the chapter's tables).

    Returns
    -------
    str
        Of the differences with p < ``alpha`` here: how many have the same sign and
        p < ``alpha`` there, which do not (with their r and p there), which cannot be tested
        there (no p: too few networks, or constant values); then the differences found there
        only.
    """
    if here.empty or there.empty:
        return (
            f"The {other} regime has no stored information analyses of both algorithms to compare."
        )
    m = here.merge(there, on=["variable", "measure"], suffixes=("_here", "_there"))
    sig_here = m.p_here < alpha
    testable = m.p_there.notna() & m.rank_biserial_there.notna()
    sig_there = m.p_there < alpha
    same_sign = np.sign(m.rank_biserial_here) == np.sign(m.rank_biserial_there)
    kept = m[sig_here & sig_there & same_sign]
    lost = m[sig_here & testable & ~(sig_there & same_sign)]
    untested = m[sig_here & ~testable]
    new = m[~sig_here & sig_there]
    n = f"{int(there.n_RL.max())} RL + {int(there.n_SL.max())} SL networks"
    text = (
        f"In the {other} regime ({n}): of the {int(sig_here.sum())} RL − SL differences with "
        f"p < {alpha:g} in the {trials} regime, {len(kept)} "
        f"{'has' if len(kept) == 1 else 'have'} the same sign and p < {alpha:g} there"
    )
    if len(lost):
        items = "; ".join(
            f"{_comparison_name(r)}: r = {r.rank_biserial_there:+.2f}, p = {r.p_there:.2g}"
            for r in lost.itertuples()
        )
        text += f" and {len(lost)} {'does' if len(lost) == 1 else 'do'} not ({items})"
    text += "."
    if len(untested):
        text += (
            " Not testable there (no p value): "
            + "; ".join(_comparison_name(r) for r in untested.itertuples())
            + "."
        )
    if len(new):
        items = "; ".join(
            f"{_comparison_name(r)} (r = {r.rank_biserial_there:+.2f}, p = {r.p_there:.2g})"
            for r in new.itertuples()
        )
        text += f" Significant there only: {items}."
    return text


def information_other_regime(
    here: pd.DataFrame, store: str | Path | None = None, trials: str = "reset", alpha: float = 0.05
) -> str:
    """Chapter 7's RL − SL comparisons set against the other trial regime's.

    Parameters
    ----------
    here : pandas.DataFrame
        The chapter's comparisons (:func:`lib.analysis.unit_information.rl_sl_comparisons`) of
        the default networks in regime ``trials``.
    store : str or Path, optional
        Store root; None: the repository's ``data/``.
    trials : str
        The chapter's regime; the other one is read.
    alpha : float
        Significance level.

    Returns
    -------
    str
        :func:`regime_agreement_sentence` against the other regime's default networks (δ = 0.1,
        250 units, paper seeds), from their stored information analyses; nothing is computed.
    """
    from lib.analysis.unit_information import InfoConfig, rl_sl_comparisons, unit_information
    from lib.store.runs import Store

    other = "continuous" if trials == "reset" else "reset"
    st = Store(store) if store is not None else None
    info = {}
    for spec, run in _default_runs(store, (other,)):
        try:
            info[(spec.algorithm, spec.seed)] = unit_information(
                run, InfoConfig(), st, compute=False
            )
        except FileNotFoundError:
            continue
    return regime_agreement_sentence(here, rl_sl_comparisons(info), trials, other, alpha)


def _default_runs(
    store: str | Path | None, regimes: tuple[str, ...] = ("reset", "continuous")
) -> Iterator[tuple[Any, Any]]:
    """(spec, run) of every stored default network (δ = 0.1, 250 units, paper seeds) of the
    trial ``regimes``, in that order; networks not stored are skipped. Nothing is computed."""
    from lib.pipelines.experiments import resolve_runs, specs_for
    from lib.pipelines.profiles import DEFAULT_DELTA

    for trials in regimes:
        for spec in specs_for(
            "book", ["ppo", "sl"], list(PAPER_SEEDS), DEFAULT_DELTA, 250, trials=trials
        ):
            try:
                yield spec, resolve_runs([spec], store, "book", progress=False)[0]
            except FileNotFoundError:
                continue


def _both_algorithms(d: pd.DataFrame) -> bool:
    """Whether ``d`` holds two networks or more of each algorithm: what a confidence interval
    on the RL − SL difference needs."""
    return (
        not d.empty
        and {"ppo", "sl"} <= set(d.algorithm)
        and d.algorithm.value_counts()[["ppo", "sl"]].min() >= 2
    )


def stability_per_network(store: str | Path | None = None) -> pd.DataFrame:
    """The linear-stability census (:mod:`lib.analysis.stability`) of every default network that has
    one stored, beside its orbit census: one row per network with the NS-candidate fraction
    (all grid points, low and high coherence), the stable-fixed-point fraction, the orbit
    census's QP fraction, their agreement (accuracy, Cohen's κ) and the census's wall seconds,
    for either trial regime (column ``trials``). Nothing is computed."""
    from lib.analysis.census import CensusConfig, census
    from lib.analysis.stability import StabilityConfig, agreement, stability_census
    from lib.pipelines.profiles import LOW_COHERENCE
    from lib.store.runs import Store

    st = Store(store) if store is not None else None
    rows = []
    for spec, run in _default_runs(store):
        try:
            g = stability_census(run, StabilityConfig(), st, compute=False)["grid"]
            o = census(run, CensusConfig(), st, compute=False)["grid"]
        except FileNotFoundError:
            continue
        low = (g.c1.abs() <= LOW_COHERENCE) & (g.c2.abs() <= LOW_COHERENCE)
        a = agreement(g, o)
        e = (st or Store(run.path.parent.parent)).analysis_entry(
            lambda s, r=run: stability_census(r, StabilityConfig(), s)
        )
        meta = json.loads((e.path / "meta.json").read_text())
        rows.append(
            {
                "trials": spec.task.trials,
                "algorithm": spec.algorithm,
                "seed": spec.seed,
                "ns_fraction": float(g.ns_candidate.mean()),
                "ns_fraction_low_coh": float(g.ns_candidate[low].mean()),
                "ns_fraction_high_coh": float(g.ns_candidate[~low].mean()),
                "stable_fp_fraction": float(g.has_stable_fp.mean()),
                "no_fp_found_fraction": float((g.n_fixed == 0).mean()),
                "qp_fraction_orbit": float(o.has_qp.mean()),
                "agreement": float(a["accuracy"]),
                "kappa": float(a["kappa"]),
                "census_seconds": float(meta.get("wall_seconds", np.nan)),
            }
        )
    return pd.DataFrame(rows)


def census_versions_per_network(
    store: str | Path | None = None, old: str = "2", new: str = "3"
) -> pd.DataFrame:
    """Two orbit-census versions of every default network that has both stored, side by side:
    one row per network (``trials``, ``algorithm``, ``seed``) with
    :func:`lib.analysis.census.compare_censuses`'s agreement and fractions (``_old``: version
    ``old``, ``_new``: version ``new``), the share of grid points where version ``old`` gave one
    attractor two verdicts (:func:`lib.analysis.census.split_verdicts`) and each version's wall
    seconds. Nothing is computed."""
    from lib.analysis.census import CensusConfig, census, compare_censuses, split_verdicts
    from lib.pipelines.profiles import LOW_COHERENCE
    from lib.store.runs import Store

    st = Store(store) if store is not None else None
    rows = []
    for spec, run in _default_runs(store):
        try:
            a = census(run, CensusConfig(), st, compute=False, version=old)
            b = census(run, CensusConfig(), st, compute=False, version=new)
        except FileNotFoundError:
            continue
        secs = {}
        for v in (old, new):
            e = (st or Store(run.path.parent.parent)).analysis_entry(
                lambda s, r=run, v=v: census(r, CensusConfig(), s, version=v)
            )
            secs[v] = float(json.loads((e.path / "meta.json").read_text()).get("wall_seconds"))
        low = {}
        for tag, t in (("old", a), ("new", b)):
            g = t["grid"]
            lo = (g.c1.abs() <= LOW_COHERENCE) & (g.c2.abs() <= LOW_COHERENCE)
            low[f"qp_fraction_low_coh_{tag}"] = float(g.has_qp[lo].mean())
            low[f"qp_fraction_high_coh_{tag}"] = float(g.has_qp[~lo].mean())
        rows.append(
            {
                "trials": spec.task.trials,
                "algorithm": spec.algorithm,
                "seed": spec.seed,
                **compare_censuses(a["grid"], b["grid"]),
                **low,
                "split_verdicts_old": split_verdicts(a["attractors"]),
                "seconds_old": secs[old],
                "seconds_new": secs[new],
            }
        )
    return pd.DataFrame(rows)


def census_version_claims(per: pd.DataFrame, trials: str) -> dict[str, dict[str, str]]:
    """Claims 2 and 3 (:func:`lib.report.claims.claims_2_3`) under each of the two census
    versions of :func:`census_versions_per_network`, for the networks of one trial regime:
    ``{"old" | "new": {claim number: "VERDICT (effect)"}}``; empty without two networks of each
    algorithm."""
    from lib.report.claims import claims_2_3

    d = per[per.trials == trials] if len(per) else per
    if not _both_algorithms(d):
        return {}
    out = {}
    for tag in ("old", "new"):
        q = d.rename(
            columns={
                f"qp_fraction_{tag}": "qp_fraction",
                f"qp_fraction_low_coh_{tag}": "qp_fraction_low_coh",
                f"qp_fraction_high_coh_{tag}": "qp_fraction_high_coh",
            }
        )
        c2, c3 = claims_2_3(q)
        out[tag] = {c.claim.split(".")[0]: f"{c.verdict} ({c.effect})" for c in (c2, c3)}
    return out


def stability_claims(per: pd.DataFrame, trials: str = "reset") -> dict[str, str]:
    """Claims 2 and 3 under the linear-stability census: the rules of
    :func:`lib.report.claims.claims_2_3` applied to the NS-candidate fraction in place of the QP
    fraction, for the networks of one trial regime. Returns {claim number: verdict with its n};
    empty without two networks of each algorithm."""
    from lib.report.claims import claims_2_3

    if "trials" in per:
        per = per[per.trials == trials]
    if not _both_algorithms(per):
        return {}
    q = per.rename(
        columns={
            "ns_fraction": "qp_fraction",
            "ns_fraction_low_coh": "qp_fraction_low_coh",
            "ns_fraction_high_coh": "qp_fraction_high_coh",
        }
    )
    c2, c3 = claims_2_3(q)
    return {"2": _part_cell(c2, len(q)), "3": _part_cell(c3, len(q))}


def variant_networks(store: str | Path | None = None) -> pd.DataFrame:
    """One row per stored network of every trained variant (:data:`TRAINED_VARIANTS`): the
    sweep summary columns (convergence, final accuracy, QP, chaos and divergent fractions of
    the orbit census, balance) with ``variant``. ``main`` is the default sweep in the reset
    regime; the others the variants sweep in :data:`VARIANT_REGIME`, where plain
    cross-entropy's PPO networks are the baseline's (PPO has no cross-entropy). Nothing is
    computed: networks or censuses not stored yet are simply absent."""
    from lib.pipelines.sweep import summary_table

    main = summary_table("default", "paper", store, spectra=False).assign(variant="main")
    var = summary_table("variants", "paper", store, trials=VARIANT_REGIME, spectra=False)
    if var.empty:
        return main
    var["variant"] = var.variant.replace({"baseline": "continuous"})
    ppo = var[(var.variant == "continuous") & (var.algorithm == "ppo")].assign(variant="plain_ce")
    out = pd.concat([main, var, ppo], ignore_index=True)
    out["variant"] = pd.Categorical(out.variant, TRAINED_VARIANTS, ordered=True)
    return out.sort_values(["variant", "algorithm", "seed"]).reset_index(drop=True)


def variant_claims(nets: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Claims 1–3 and 4a on the networks of every trained variant (:func:`variant_networks`),
    with the rules of :func:`lib.report.claims.claim_performance`,
    :func:`lib.report.claims.claims_2_3` and :func:`lib.report.claims.claim_balanced_populations`
    (the balance columns of the sweep summary) applied to the networks stored so far. Returns
    {claim number: {variant: "VERDICT (n; effect; 95 % CI)"}}, prefixed
    ``INCOMPLETE (k/20 networks):`` while fewer than the paper seeds of both algorithms are
    stored; a variant without networks of both algorithms is left out."""
    from lib.report.claims import (
        claim_balanced_populations,
        claim_performance,
        claims_2_3,
        summary_balance,
    )

    cell = _part_cell
    out: dict[str, dict[str, str]] = {}
    for v in TRAINED_VARIANTS:
        d = nets[nets.variant == v]
        if d.empty or not {"ppo", "sl"} <= set(d.algorithm):
            continue

        c1 = claim_performance(d)
        out.setdefault("1", {})[v] = cell(c1, len(d))
        q = d.dropna(subset=["qp_fraction"]) if "qp_fraction" in d else d.iloc[0:0]
        if {"ppo", "sl"} <= set(q.algorithm):
            c2, c3 = claims_2_3(q)
            out.setdefault("2", {})[v] = cell(c2, len(q))
            out.setdefault("3", {})[v] = cell(c3, len(q))
        b = summary_balance(d)
        both = b.groupby("definition").algorithm.nunique()
        if len(both) == 2 and (both == 2).all():
            n = int(b.groupby("definition").size().min())
            out.setdefault("4a", {})[v] = cell(claim_balanced_populations(b), n)
    return out


def variant_balance_claims(store: str | Path | None = None) -> dict[str, str]:
    """Claim 4b (balance makes networks robust) on the networks of every training variant whose
    chapter 3 analysis (:func:`lib.analysis.balance.balance_analysis`) is stored, with the rule of
    :func:`lib.report.claims.claim_balance`. Plain cross-entropy's PPO networks are the
    baseline's. Returns {variant key: "VERDICT (n; effect; 95 % CI)"}, prefixed
    ``INCOMPLETE (k/20 networks):`` on part of the paper seeds; a variant without two analysed
    networks of each algorithm is left out. Nothing is computed (``python -m lib balance
    --trials continuous --variant NAME`` computes them)."""
    from lib.analysis.balance import BalanceConfig, balance_analysis
    from lib.pipelines.profiles import variant_spec
    from lib.report.claims import claim_balance
    from lib.store.runs import Store

    st = Store(store)
    out: dict[str, str] = {}
    for v in TRAINED_VARIANTS[2:]:
        pops, rob = [], []
        for algorithm in ("ppo", "sl"):
            name = "baseline" if (v, algorithm) == ("plain_ce", "ppo") else v
            for seed in PAPER_SEEDS:
                spec = variant_spec(name, algorithm, seed, "paper", VARIANT_REGIME)
                if st.status(spec) != "complete":
                    continue
                try:
                    b = balance_analysis(st.load(spec), BalanceConfig(), st, compute=False)
                except FileNotFoundError:
                    continue
                pops.append(b["populations"])  # carries algorithm and seed
                rob.append(b["robustness"].assign(algorithm=algorithm, seed=seed))
        nets = pd.concat(pops).drop_duplicates(["algorithm", "seed"]) if pops else pd.DataFrame()
        if not _both_algorithms(nets):
            continue
        c4b = claim_balance(pd.concat(pops, ignore_index=True), pd.concat(rob, ignore_index=True))
        out[v] = _part_cell(c4b[1], len(nets))
    return out


def _cell(c: Any) -> str:
    """A verdict as a table cell: the verdict, then (n; effect; 95 % CI)."""
    return f"{c.verdict} ({c.n}; {c.effect}; 95 % CI {c.ci})"


def _part_cell(c: Any, n: int) -> str:
    """:func:`_cell`, prefixed ``INCOMPLETE (n/20 networks):`` when it rests on fewer than the
    paper seeds of both algorithms (``n`` networks)."""
    expected = 2 * len(PAPER_SEEDS)
    return (f"INCOMPLETE ({n}/{expected} networks): " if n < expected else "") + _cell(c)


def verdicts_by_variant(
    store: str | Path | None = None,
    nets: pd.DataFrame | None = None,
    regime: str = "reset",
    other: pd.DataFrame | None = None,
) -> dict[str, dict[str, str]]:
    """Every stored verdict outside the main one (the claims table in trial regime
    ``regime``), as {claim number: {variant key: "VERDICT (n)"}} for
    :func:`claims_by_variant`: claims 1–4a of the trained variants (:func:`variant_claims`, the
    networks stored so far) and their 4b (:func:`variant_balance_claims`, where analysed), the
    other regime's claims (:func:`lib.report.claims.claims_table`, where tested; key
    ``"continuous"`` or ``"reset"``) and claims 2–3 under the linear-stability census and the
    long horizon, on the networks of ``regime``. Nothing is computed. ``other``: the reset
    regime's claims table when ``regime`` is the continuous one, if the caller has it already
    (the claims page does; it is the slowest part of this function)."""
    from lib.report.claims import claims_table

    nets = variant_networks(store) if nets is None else nets
    out: dict[str, dict[str, str]] = {}
    skip = {"main"} if regime == "reset" else {"main", "continuous"}
    for num, per in variant_claims(nets).items():
        for v, verdict in per.items():
            if v not in skip:
                out.setdefault(num, {})[v] = verdict
    if regime == "reset":
        cont = claims_table(
            store, VARIANT_REGIME, {"balance", "crystallisation", "delta", "complexity"}
        )
        # where the continuous regime's claims table tests a claim, its cell (the chapters' own
        # inputs, e.g. 4a over the initialization sweep's δ = 0.1 networks) replaces the one from
        # the sweep summary
        for _, r in cont.iterrows():
            if not str(r.verdict).startswith("NOT TESTED"):
                out.setdefault(r.claim.split(".")[0], {})["continuous"] = _cell(r)
    else:
        reset = claims_table(store, "reset") if other is None else other
        for _, r in reset.iterrows():
            if not str(r.verdict).startswith("NOT TESTED"):
                out.setdefault(r.claim.split(".")[0], {})["reset"] = _cell(r)
    for v, verdict in variant_balance_claims(store).items():
        out.setdefault("4b", {})[v] = verdict
    for num, verdict in stability_claims(stability_per_network(store), regime).items():
        out.setdefault(num, {})["linear_stability"] = verdict
    for num, verdict in long_horizon_claims(long_horizon_per_network(store), regime).items():
        out.setdefault(num, {})["long_horizon"] = verdict
    return out


#: The claims in a few words, for :func:`verdict_overview` (the full wording is in the claims
#: table).
SHORT_CLAIMS: dict[str, str] = {
    "1": "similar performance",
    "2": "hybrid landscapes under RL",
    "3": "SL: fixed points only",
    "4a": "RL more balanced",
    "4b": "balance → robustness",
    "S": "populations crystallise",
    "5a": "wider δ → more QP (RL)",
    "5b": "QP with performance, hard tasks",
}


def verdict_overview(
    main: pd.DataFrame, cross: pd.DataFrame, regime: str = "continuous"
) -> pd.DataFrame:
    """The claims page's first screen: claim | main verdict | other regime | robustness across
    chapter 8's variants | one key number.

    Parameters
    ----------
    main : pandas.DataFrame
        :func:`lib.report.claims.claims_table` in ``regime``.
    cross : pandas.DataFrame
        :func:`claims_by_variant` of ``main`` with ``regime``.
    regime : str
        The main trial regime.

    Returns
    -------
    pandas.DataFrame
        One row per claim, every cell a word or a short phrase: the verdicts cut by
        :func:`verdict_word`, the robustness without its count of variants, and
        :func:`key_number` of the main row.
    """
    from lib.report.claims import other_regime

    other = RESET_NAME if other_regime(regime) == "reset" else "continuous trial regime"
    rows = []
    for (_, m), (_, c) in zip(main.iterrows(), cross.iterrows(), strict=True):
        num = m.claim.split(".")[0]
        rows.append(
            {
                "claim": f"{num}. {SHORT_CLAIMS[num]}" if num in SHORT_CLAIMS else m.claim,
                "main verdict": verdict_word(str(m.verdict)),
                other: verdict_word(str(c[other])),
                "across chapter 8's variants": _short_robustness(str(c.robustness)),
                "key number (main)": key_number(str(m.effect), max_len=30),
            }
        )
    return pd.DataFrame(rows)


def _short_robustness(text: str) -> str:
    """A :func:`robustness_verdict` phrase without its count of variants; "outside the
    variants' scope" for a claim that no variant can test."""
    if "(0 of 0 variants" in text:
        return "outside the variants' scope"
    text = text.split(" (")[0].replace("depends on the choice: differs under", "differs under")
    for long, short in _SHORT_VARIANT_NAMES.items():
        text = text.replace(long, short)
    return text


#: Variant names as the verdict grid abbreviates them.
_SHORT_VARIANT_NAMES = {
    "leaky network": "leak",
    "older NeuroGym input noise": "older noise",
    "SL with plain cross-entropy": "plain CE",
    "census horizon 10× longer": "10× horizon",
    "linear-stability census": "linear stability",
}


def key_number(effect: str, max_len: int = 60) -> str:
    """A claims-table effect without its parentheses, cut to its first clause when longer than
    ``max_len`` characters: ``"SL QP fraction 0.374 (rule: < 0.02 and below RL)"`` -> ``"SL QP
    fraction 0.374"``; ``"balance RL − SL: decision states +0.029 (r = +0.24), selectivity
    +0.033 (r = +0.34)"`` -> ``"balance RL − SL: decision states +0.029, selectivity +0.033"``;
    an empty effect -> ``"–"``."""
    import re

    if effect in ("", "nan", "None"):
        return "–"
    text = re.sub(r" \([^()]*\)", "", effect).strip()
    if len(text) > max_len:
        text = text.split(";")[0].strip()
    return text or "–"


def variant_summary(
    nets: pd.DataFrame,
    columns: tuple[str, ...] = (
        "final_accuracy",
        "qp_fraction",
        "divergent_fraction",
        "balance_ds",
    ),
) -> pd.DataFrame:
    """Per trained variant and algorithm: networks, and per column the mean over networks with
    its 95 % bootstrap CI (:func:`lib.analysis.stats.bootstrap_ci`); plus converged networks."""
    from lib.analysis.stats import bootstrap_ci

    if nets.empty:
        return pd.DataFrame(columns=["variant", "algorithm", "networks", "converged"])
    rows = []
    for (v, alg), g in nets.groupby(["variant", "algorithm"], observed=True, sort=True):
        row: dict[str, object] = {"variant": v, "algorithm": alg, "networks": len(g)}
        row["converged"] = int(g.converged.sum())
        for c in columns:
            x = g[c].dropna() if c in g else pd.Series(dtype=float)
            lo, hi = bootstrap_ci(x) if len(x) >= 2 else (float("nan"), float("nan"))
            row[f"{c} n"] = len(x)
            row[f"{c} mean"] = float(x.mean()) if len(x) else float("nan")
            row[f"{c} ci_low"], row[f"{c} ci_high"] = lo, hi
        rows.append(row)
    return pd.DataFrame(rows)


def long_horizon_per_network(store: str | Path | None = None) -> pd.DataFrame:
    """The ``long_horizon`` analysis variant beside the main census, per default network of
    either trial regime that has one stored (:data:`lib.pipelines.profiles.LONG_HORIZON_CENSUS`,
    10× transient and record on the 11 × 11 grid): one row per network with the QP and
    divergent fractions under each horizon on the same grid points, the per-point agreement
    of "has a QP attractor" (accuracy, Cohen's κ) and how many points changed class. Nothing is
    computed."""
    from lib.analysis.census import CensusConfig, census
    from lib.analysis.stats import cohen_kappa
    from lib.pipelines.profiles import LONG_HORIZON_CENSUS, LOW_COHERENCE
    from lib.store.runs import Store

    st = Store(store) if store is not None else None
    rows = []
    for spec, run in _default_runs(store):
        try:
            lg = census(run, LONG_HORIZON_CENSUS, st, compute=False)["grid"]
            base = census(run, CensusConfig(), st, compute=False)["grid"]
        except FileNotFoundError:
            continue
        key = ["context", "c1r", "c2r"]
        lg = lg.assign(c1r=lg.c1.round(6), c2r=lg.c2.round(6))
        base = base.assign(c1r=base.c1.round(6), c2r=base.c2.round(6))
        m = lg.merge(base, on=key, suffixes=("_long", "_main"))
        low = (m.c1_long.abs() <= LOW_COHERENCE) & (m.c2_long.abs() <= LOW_COHERENCE)
        a, b = m.has_qp_long.to_numpy(bool), m.has_qp_main.to_numpy(bool)
        div_l = m.kinds_long.str.contains("divergent")
        div_m = m.kinds_main.str.contains("divergent")
        rows.append(
            {
                "trials": spec.task.trials,
                "algorithm": spec.algorithm,
                "seed": spec.seed,
                "grid_points": len(m),
                "qp_fraction": float(a.mean()),
                "qp_fraction_low_coh": float(a[low.to_numpy()].mean()),
                "qp_fraction_main": float(b.mean()),
                "divergent_fraction": float(div_l.mean()),
                "divergent_fraction_main": float(div_m.mean()),
                "qp_agreement": cohen_kappa(a, b)[0],
                "qp_kappa": cohen_kappa(a, b)[1],
                "changed_class": int((m.kinds_long != m.kinds_main).sum()),
            }
        )
    return pd.DataFrame(rows)


def long_horizon_claims(per: pd.DataFrame, trials: str = "reset") -> dict[str, str]:
    """Claims 2 and 3 under the long horizon (rules of :func:`lib.report.claims.claims_2_3` on the
    long-horizon QP fractions) for the networks of one trial regime; {} without both
    algorithms."""
    from lib.report.claims import claims_2_3

    d = per[per.trials == trials] if len(per) else per
    if not _both_algorithms(d):
        return {}
    c2, c3 = claims_2_3(d)
    return {"2": _part_cell(c2, len(d)), "3": _part_cell(c3, len(d))}


def qp_forest(store: str | Path | None = None, nets: pd.DataFrame | None = None) -> pd.DataFrame:
    """The QP fraction of RL and SL networks in every trial regime and variant, for the claims
    page's forest plot: the main networks (continuous regime), the reset regime, the training
    variants of chapter 8 (continuous regime), the 10× census horizon and the linear-stability
    census's Neimark–Sacker candidates (both on the main networks).

    Returns
    -------
    pandas.DataFrame
        One row per setting and algorithm, in that order: ``setting``, ``measure``,
        ``algorithm``, ``n``, ``mean``, ``ci_low``, ``ci_high`` (95 % bootstrap CI over
        networks, :func:`lib.analysis.stats.bootstrap_ci`). A setting with no stored network of
        an algorithm is left out. Nothing is computed.
    """
    from lib.analysis.stats import bootstrap_ci

    nets = variant_networks(store) if nets is None else nets
    sources: list[tuple[str, str, pd.DataFrame, str]] = []
    named = {
        "continuous": "main (NeuroGym's continuous regime)",
        "main": RESET_NAME,
        "leaky": "leaky network",
        "old_noise": "older NeuroGym input noise",
        "plain_ce": "SL with plain cross-entropy",
    }
    for key, name in named.items():
        sources.append((name, "QP fraction", nets[nets.variant == key], "qp_fraction"))
    h = long_horizon_per_network(store)
    if len(h):
        h = h[h.trials == VARIANT_REGIME]
        sources.append(("census horizon 10× longer", "QP fraction", h, "qp_fraction"))
    st = stability_per_network(store)
    if len(st):
        st = st[st.trials == VARIANT_REGIME]
        sources.append(("linear-stability census", "NS-candidate fraction", st, "ns_fraction"))
    rows = []
    for name, measure, d, col in sources:
        for alg in ("ppo", "sl"):
            x = d[d.algorithm == alg][col].dropna().to_numpy(float) if len(d) else np.array([])
            if not len(x):
                continue
            lo, hi = bootstrap_ci(x) if len(x) >= 2 else (float("nan"), float("nan"))
            rows.append(
                {
                    "setting": name,
                    "measure": measure,
                    "algorithm": alg,
                    "n": len(x),
                    "mean": float(x.mean()),
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(
        rows, columns=["setting", "measure", "algorithm", "n", "mean", "ci_low", "ci_high"]
    )
