r"""The attractor landscape over training: censuses and populations per checkpoint.

The trainers keep checkpoints along training for a documented subset of the stored runs
(:data:`lib.pipelines.sweep.CHECKPOINT_SEEDS` of the default configuration): at fixed fractions of the
trials seen (``frac_0`` … ``frac_1``), at the first evaluation reaching 50, 70 and 90 %
(``acc_0.5`` …) and at the criterion (``criterion``, the stored trained network). Several
labels can name the same network (``frac_1`` is ``criterion`` in a converged run); each
distinct network is analysed once.

Per checkpoint (cached in the store like every analysis, keyed by the checkpoint label):

* an attractor census of the stimulus-period maps (:func:`lib.analysis.census.census`, on a coarser
  grid than chapter 2's by default, to keep about 80 censuses affordable);
* the population label of every unit by both definitions (:func:`lib.analysis.populations.unit_labels`)
  and the population sizes (:func:`lib.analysis.populations.population_table`);
* the greedy accuracy on fresh trials (the same trials for every checkpoint).

*Crystallisation* is measured against the final network :math:`f`. For a checkpoint
:math:`k`,

.. math::

    A_{\text{pop}}(k) = \frac{1}{|U|}\sum_{i\in U} [\ell_k(i) = \ell_f(i)], \qquad
    A_{\text{att}}(k) = \frac{1}{|P|}\sum_{p\in P} [\kappa_k(p) = \kappa_f(p)],

with :math:`\ell(i)` the population label of unit :math:`i` (both contexts pooled, so
:math:`|U| = 2N`) and :math:`\kappa(p)` the display category (:func:`lib.analysis.census.grid_category`)
of grid point :math:`p` (both contexts pooled). The landscape has *crystallised* at the first
checkpoint from which the agreement stays at or above a level (0.9 by default) until the end
(:func:`crystallisation_point`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lib.analysis.census import CensusConfig, census, grid_category
from lib.analysis.dynamics import leak_version
from lib.analysis.populations import (
    ACTIVITY_THRESHOLD,
    POPULATION_SEED,
    POPULATION_TRIALS,
    SELECTIVITY_ALPHA,
    population_table,
    unit_labels,
)
from lib.store.runs import Store, StoredRun, cached
from lib.train.evaluation import evaluate

__all__ = [
    "LEAKY_SCULPT_VERSION",
    "SCULPT_VERSION",
    "SculptConfig",
    "checkpoint_table",
    "checkpoint_analysis",
    "populations_analysis",
    "sculpting_table",
    "crystallisation_point",
]

#: Bump when a change to this module changes its cached results.
SCULPT_VERSION = "1"
#: The version of a leaky network's populations (``alpha`` < 1;
#: :func:`lib.analysis.dynamics.leak_version`). Their decision states were undefined (recorded as
#: such) until :func:`lib.analysis.populations.decision_states` handled the leak.
LEAKY_SCULPT_VERSION = leak_version(SCULPT_VERSION, 0.5)

#: When several labels name the same network, the analysis is keyed by the first of these.
_LABEL_PRIORITY = ("criterion", "acc_0.9", "acc_0.7", "acc_0.5")
_POP_COLUMNS = ["context", "definition", "method", "n_units", "n_plus", "n_minus", "n_a"]
_POP_COLUMNS += ["n_s", "balance", "support_plus", "support_minus", "n_stable", "reason"]


@dataclass(frozen=True)
class SculptConfig:
    """Settings of the per-checkpoint analysis (stored with every result).

    Parameters
    ----------
    census : CensusConfig
        Census of each checkpoint; default an 11 × 11 grid (chapter 2 uses 21 × 21) with two
        real-trial initial states, about a quarter of the cost.
    n_trials : int
        Trials per context for the decision states and the selectivity test.
    seed : int
        Seed of those trials.
    threshold, alpha : float
        Activity threshold and Holm level of the population definitions.
    eval_trials, eval_seed : int
        Fresh trials (and their seed) of the greedy accuracy, the same for every checkpoint.
    """

    census: CensusConfig = field(default_factory=lambda: CensusConfig(grid=11, n_trial_states=2))
    n_trials: int = POPULATION_TRIALS
    seed: int = POPULATION_SEED
    threshold: float = ACTIVITY_THRESHOLD
    alpha: float = SELECTIVITY_ALPHA
    eval_trials: int = 2000
    eval_seed: int = 4242

    def __post_init__(self) -> None:
        for name in ("n_trials", "eval_trials"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 2):
                raise ValueError(f"SculptConfig.{name} must be an int >= 2, got {v!r}")
        if not (np.isfinite(self.threshold) and self.threshold >= 0):
            raise ValueError(f"SculptConfig.threshold must be >= 0, got {self.threshold!r}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"SculptConfig.alpha must lie in (0, 1), got {self.alpha!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields (the census settings nested)."""
        d = dataclasses.asdict(self)
        d["census"] = self.census.to_dict()
        return d


def checkpoint_table(run: StoredRun) -> pd.DataFrame:
    """The distinct networks among a run's checkpoints, in training order.

    Returns
    -------
    DataFrame
        One row per distinct network: ``label`` (the key of its analyses), ``labels`` (every
        label naming it, "/"-joined), ``trials`` (trials seen), ``progress`` (trials over the
        trials of the last checkpoint), ``monitor_accuracy`` (the trainer's evaluation, NaN
        before the first). Empty when the run kept no checkpoints.
    """
    cks = run.checkpoints()
    if not cks:
        return pd.DataFrame(
            columns=["label", "labels", "trials", "progress", "monitor_accuracy", "is_final"]
        )
    by_trials: dict[int, list[str]] = {}
    for label, (trials, _, _) in cks.items():
        by_trials.setdefault(trials, []).append(label)
    last = max(by_trials)
    rows = []
    for trials in sorted(by_trials):
        labels = by_trials[trials]
        key = next((p for p in _LABEL_PRIORITY if p in labels), sorted(labels)[0])
        rows.append(
            {
                "label": key,
                "labels": "/".join(sorted(labels)),
                "trials": trials,
                "progress": trials / last if last > 0 else 1.0,
                "monitor_accuracy": cks[key][1],
                "is_final": trials == last,
            }
        )
    return pd.DataFrame(rows)


def _compute_checkpoint(view: StoredRun, cfg: SculptConfig) -> dict[str, pd.DataFrame]:
    net = view.network()
    acc = evaluate(net, view.spec.task, cfg.eval_trials, cfg.eval_seed)["accuracy"]
    args = ((0, 1), cfg.n_trials, cfg.seed, cfg.threshold, cfg.alpha)
    try:
        pops = population_table(view, *args)
        labels = unit_labels(view, *args)
        reason = ""
    except ValueError as e:  # e.g. an untrained network never makes one of the choices
        pops = pd.DataFrame(columns=_POP_COLUMNS)
        labels = pd.DataFrame(columns=["context", "definition", "unit", "label"])
        reason = str(e)
    summary = pd.DataFrame([{"accuracy": acc, "populations_reason": reason}])
    return {"summary": summary, "populations": pops, "labels": labels}


def checkpoint_analysis(
    run: StoredRun,
    label: str,
    cfg: SculptConfig | None = None,
    store: Store | None = None,
    *,
    compute: bool = True,
) -> dict[str, pd.DataFrame]:
    """Census, populations and accuracy of one checkpoint of a run (cached).

    Returns
    -------
    dict of DataFrame
        ``grid`` and ``decision`` (the census tables, see :func:`lib.analysis.census.census`),
        ``populations`` (sizes and balance per context and definition; empty when the
        decision states are undefined), ``labels`` (one row per context, definition and
        unit), ``summary`` (``accuracy``; ``populations_reason`` when the populations are
        undefined).
    """
    cfg = cfg or SculptConfig()
    store = store or Store(run.path.parent.parent)
    view = run.at_checkpoint(label)
    cen = census(view, cfg.census, store, compute=compute)
    tabs = populations_analysis(view, cfg, store, compute=compute)
    return {"grid": cen["grid"], "decision": cen["decision"], **tabs}


def populations_analysis(
    run: StoredRun,
    cfg: SculptConfig | None = None,
    store: Store | None = None,
    *,
    compute: bool = True,
) -> dict[str, pd.DataFrame]:
    """Population labels, sizes and accuracy of a network (cached), without the census.

    ``run`` is a stored run (its trained network) or a checkpoint view of one
    (:meth:`lib.store.runs.StoredRun.at_checkpoint`). Returns the ``populations``, ``labels`` and
    ``summary`` tables of :func:`checkpoint_analysis`.
    """
    cfg = cfg or SculptConfig()
    version = leak_version(SCULPT_VERSION, run.spec.network.alpha)
    return cached(run, store, "sculpt", version, "sculpt", cfg, _compute_checkpoint, compute)


def _categories(grid: pd.DataFrame) -> pd.Series:
    g = grid.sort_values(["context", "c1", "c2"])
    cats = [grid_category(k, n) for k, n in zip(g["kinds"], g["n_fixed"], strict=True)]
    return pd.Series(cats, index=pd.MultiIndex.from_frame(g[["context", "c1", "c2"]]))


def _chance_agreement(labels: pd.DataFrame, ref: pd.DataFrame, definition: str) -> float:
    """Agreement expected if units were relabelled at random with the same population sizes:
    :math:`\\sum_k p_k q_k` (``p``, ``q`` the label frequencies of the two networks)."""
    a = labels[labels.definition == definition].label.value_counts(normalize=True)
    b = ref[ref.definition == definition].label.value_counts(normalize=True)
    if a.empty or b.empty:
        return float("nan")
    return float((a * b.reindex(a.index, fill_value=0.0)).sum())


def _label_agreement(labels: pd.DataFrame, ref: pd.DataFrame, definition: str) -> float:
    a = labels[labels.definition == definition].set_index(["context", "unit"]).label
    b = ref[ref.definition == definition].set_index(["context", "unit"]).label
    if a.empty or b.empty:
        return float("nan")
    a, b = a.align(b, join="inner")
    return float((a == b).mean()) if len(a) else float("nan")


def sculpting_table(
    run: StoredRun,
    cfg: SculptConfig | None = None,
    store: Store | None = None,
    *,
    compute: bool = True,
    analyses: dict[str, dict[str, pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """One row per distinct checkpoint of a run: progress, accuracy, landscape, populations.

    Columns: those of :func:`checkpoint_table`, plus ``algorithm``, ``seed``, ``run_id``,
    ``accuracy`` (greedy, fresh trials), ``qp_fraction`` (grid points with a quasi-periodic
    attractor), ``n_fixed_mean`` (mean number of fixed points per grid point),
    ``attractor_agreement`` (:math:`A_{att}`), ``label_agreement_ds`` and
    ``label_agreement_sel`` (:math:`A_{pop}` by the decision-state and the selectivity
    definition), and the decision-state population sizes and balance averaged over contexts
    (``n_plus``, ``n_minus``, ``n_a``, ``n_s``, ``balance``; NaN when undefined).

    ``analyses`` receives the per-checkpoint tables (keyed by label) when given.
    """
    cfg = cfg or SculptConfig()
    store = store or Store(run.path.parent.parent)
    cks = checkpoint_table(run)
    if cks.empty:
        raise ValueError(
            f"run {run.path.name} ({run.spec.algorithm} seed {run.spec.seed}) kept no "
            "checkpoints; train it with keep_checkpoints=True (`--checkpoints` on the CLI)"
        )
    res = {lab: checkpoint_analysis(run, lab, cfg, store, compute=compute) for lab in cks.label}
    if analyses is not None:
        analyses.update(res)
    final = res[cks.label[cks.is_final].iloc[0]]
    ref_cats = _categories(final["grid"])
    rows = []
    for ck in cks.itertuples(index=False):
        r = res[ck.label]
        cats = _categories(r["grid"])
        cats, ref = cats.align(ref_cats, join="inner")
        pops = r["populations"]
        ds = pops[pops.definition == "decision_states"] if len(pops) else pops
        sizes = {
            k: float(ds[k].mean()) if len(ds) else float("nan")
            for k in ("n_plus", "n_minus", "n_a", "n_s", "balance")
        }
        rows.append(
            {
                "run_id": run.path.name,
                "algorithm": run.spec.algorithm,
                "seed": run.spec.seed,
                **ck._asdict(),
                "accuracy": float(r["summary"].accuracy.iloc[0]),
                "qp_fraction": float(r["grid"].has_qp.mean()),
                "n_fixed_mean": float(r["grid"].n_fixed.mean()),
                "attractor_agreement": float((cats == ref).mean()),
                "label_agreement_ds": _label_agreement(
                    r["labels"], final["labels"], "decision_states"
                ),
                "label_agreement_sel": _label_agreement(
                    r["labels"], final["labels"], "selectivity"
                ),
                "label_chance_ds": _chance_agreement(
                    r["labels"], final["labels"], "decision_states"
                ),
                **sizes,
            }
        )
    return pd.DataFrame(rows)


def crystallisation_point(
    progress: np.ndarray | pd.Series, agreement: np.ndarray | pd.Series, level: float = 0.9
) -> float:
    """Training progress from which ``agreement`` stays ≥ ``level`` until the end.

    Parameters
    ----------
    progress : array
        Training progress of the checkpoints (any order; sorted here).
    agreement : array
        Agreement with the final network at those checkpoints (NaN counts as below level).
    level : float
        In (0, 1].

    Returns
    -------
    float
        The progress of the earliest checkpoint of the final run of checkpoints at or above
        ``level``; NaN when the last checkpoint itself is below it (or there is none).
    """
    if not 0 < level <= 1:
        raise ValueError(f"level must lie in (0, 1], got {level!r}")
    p = np.asarray(progress, dtype=float)
    a = np.asarray(agreement, dtype=float)
    if p.shape != a.shape:
        raise ValueError("progress and agreement must have the same shape")
    if p.size == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    p, ok = p[order], np.nan_to_num(a[order], nan=-1.0) >= level
    if not ok[-1]:
        return float("nan")
    first = p.size - np.argmin(ok[::-1]) if not ok.all() else 0
    return float(p[first])
