r"""Populations of units around the two decision states, and their balance.

The paper groups the units of a trained network into four populations, :math:`G_s, G_+, G_-,
G_a`, and reports that RL gives *balanced* populations where SL gives imbalanced ones. Its
exact definitions are not known; this module implements the companion definition and an
independent alternative, so that a conclusion can be checked against the choice of definition.

**Decision states** (:func:`decision_states`). During the delay the input is constant, so the
network is the autonomous map

.. math:: F(h) = \mathrm{ReLU}(W_{rec}\, h + W_{in}\, x_{delay} + b).

The states of real trials at the last delay step (step ``decision_on - 1``) are iterated under
:math:`F` (batched, until they settle) and matched to the stable fixed points of :math:`F`,
found exactly by :func:`lib.analysis.dynamics.relu_fixed_points`. :math:`h^+` is the stable fixed point
reached by a strict majority of the correct choice-1 trials, :math:`h^-` the one reached by a
strict majority of the correct choice-2 trials (``method = "fixed_points"``). When there is no
such pair of *distinct* attractors (both choices flow to the same fixed point, i.e. the
decision is held only transiently, or one choice's orbits diverge or never settle) the
fallback is the mean state at the go cue (step ``decision_on``) over the correct trials of each
choice (``method = "mean_states"``), and :attr:`DecisionStates.reason` says why.

**Populations** (:func:`populations`), with a unit active when its rate exceeds a threshold
:math:`\theta`:

.. math::

    G_+ = \{i : h^+_i > \theta \ge h^-_i\},\quad G_- = \{i : h^-_i > \theta \ge h^+_i\},\quad
    G_a = \{i : h^+_i > \theta,\ h^-_i > \theta\},\quad G_s = \{i : h^\pm_i \le \theta\}.

**Balance** (:func:`balance_index`):

.. math:: \beta = 1 - \frac{\bigl|\,|G_+| - |G_-|\,\bigr|}{|G_+| + |G_-|} \in [0, 1],

1 when the two choice populations are equal in size, 0 when one is empty; it is NaN when both
are empty (no choice-specific unit at all, so balance is undefined rather than perfect).

**Selectivity populations** (:func:`selectivity_populations`, :func:`choice_selectivity`): an
alternative that uses no attractor. Per unit, the go-cue activity of correct choice-1 and
choice-2 trials is compared by a two-sided Mann-Whitney U test (vectorised over units); the
p-values of the non-silent units are Holm-corrected (:func:`lib.analysis.information.holm`). Silent
units (mean rate :math:`\le \theta` in both choices) form :math:`G_s`; a unit significantly
higher for choice 1 (adjusted :math:`p \le \alpha`) is in :math:`G_+`, for choice 2 in
:math:`G_-`; the other active units form :math:`G_a`. The same balance index applies.

Contexts are 0 (modality 1 relevant) and 1 (modality 2 relevant), as in
:class:`lib.core.task.Trials`; :func:`population_table` reports them 1-based, as the census tables do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from scipy.stats import mannwhitneyu

from lib.analysis.dynamics import ReLUFixedPoints, relu_fixed_points
from lib.analysis.information import holm
from lib.core.network import RNN, ReLUMap, context_trials
from lib.core.task import TaskConfig, period_inputs
from lib.store.runs import StoredRun
from lib.train.evaluation import greedy_choices

#: The population definitions' settings shared by every analysis that defines populations
#: (:class:`lib.analysis.balance.BalanceConfig`, :class:`lib.analysis.sculpting.SculptConfig`
#: take their defaults from here), so that the sweeps' populations and chapter 3's are the same
#: quantities: real trials per context, their seed, the activity threshold, the Holm level.
POPULATION_TRIALS = 400
POPULATION_SEED = 0
ACTIVITY_THRESHOLD = 1e-6
SELECTIVITY_ALPHA = 0.01

__all__ = [
    "ACTIVITY_THRESHOLD",
    "POPULATION_SEED",
    "POPULATION_TRIALS",
    "SELECTIVITY_ALPHA",
    "DecisionStates",
    "Populations",
    "SelectivityPopulations",
    "TrialActivity",
    "balance_index",
    "choice_selectivity",
    "decision_states",
    "populations",
    "population_table",
    "selectivity_populations",
    "trial_activity",
    "unit_labels",
]

Array = np.ndarray

#: Flow outcome codes of :attr:`DecisionStates.flow_outcome` (values >= 0 index a stable fixed
#: point).
DIVERGED, UNSETTLED = -1, -2

LABELS = ("G+", "G-", "Ga", "Gs")


# ------------------------------------------------------------------------------- balance
def balance_index(n_plus: int | float, n_minus: int | float) -> float:
    r"""Balance of two population sizes, :math:`1 - |n_+ - n_-| / (n_+ + n_-)`.

    Parameters
    ----------
    n_plus, n_minus : int or float
        Sizes :math:`|G_+|` and :math:`|G_-|` (non-negative).

    Returns
    -------
    float
        In [0, 1]: 1 for equal sizes, 0 when exactly one is empty; NaN when both are empty.
    """
    a, b = float(n_plus), float(n_minus)
    if not (np.isfinite(a) and np.isfinite(b) and a >= 0 and b >= 0):
        raise ValueError(f"population sizes must be finite and >= 0, got {n_plus!r}, {n_minus!r}")
    if a + b == 0:
        return float("nan")
    return 1.0 - abs(a - b) / (a + b)


# ---------------------------------------------------------------------------- populations
@dataclass(frozen=True)
class Populations:
    """A partition of the units into :math:`G_+, G_-, G_a, G_s`.

    Attributes
    ----------
    g_plus, g_minus, g_a, g_s : bool arrays ``(N,)``
        Membership masks; every unit is in exactly one population (checked).
    threshold : float
        Activity threshold :math:`\\theta` used.
    definition : str
        ``"decision_states"`` or ``"selectivity"``.
    """

    g_plus: Array
    g_minus: Array
    g_a: Array
    g_s: Array
    threshold: float
    definition: str = "decision_states"

    def __post_init__(self) -> None:
        masks = [np.asarray(m) for m in (self.g_plus, self.g_minus, self.g_a, self.g_s)]
        if any(m.dtype != bool or m.ndim != 1 for m in masks):
            raise ValueError("population masks must be 1-D boolean arrays")
        if len({m.shape for m in masks}) != 1:
            raise ValueError("population masks must have the same length")
        if not np.all(np.sum(masks, axis=0) == 1):
            raise ValueError("population masks must partition the units (each unit in one)")

    @property
    def n_units(self) -> int:
        """Number of units N."""
        return int(self.g_plus.size)

    @property
    def n_plus(self) -> int:
        """:math:`|G_+|`."""
        return int(self.g_plus.sum())

    @property
    def n_minus(self) -> int:
        """:math:`|G_-|`."""
        return int(self.g_minus.sum())

    @property
    def n_a(self) -> int:
        """:math:`|G_a|` (active at both / not choice-selective)."""
        return int(self.g_a.sum())

    @property
    def n_s(self) -> int:
        """:math:`|G_s|` (silent)."""
        return int(self.g_s.sum())

    @property
    def balance(self) -> float:
        """:func:`balance_index` of :math:`|G_+|` and :math:`|G_-|` (NaN if both are empty)."""
        return balance_index(self.n_plus, self.n_minus)

    def labels(self) -> Array:
        """Population label per unit: ``"G+"``, ``"G-"``, ``"Ga"`` or ``"Gs"``."""
        out = np.empty(self.n_units, dtype=object)
        for lab, m in zip(LABELS, (self.g_plus, self.g_minus, self.g_a, self.g_s), strict=True):
            out[m] = lab
        return out

    def sizes(self) -> dict[str, float]:
        """Sizes and balance as a flat dict (one table row)."""
        return {
            "n_units": self.n_units,
            "n_plus": self.n_plus,
            "n_minus": self.n_minus,
            "n_a": self.n_a,
            "n_s": self.n_s,
            "balance": self.balance,
        }


def populations(
    h_plus: Array, h_minus: Array, threshold: float = ACTIVITY_THRESHOLD
) -> Populations:
    r"""Populations from the two decision states.

    Unit :math:`i` is active at a state when :math:`h_i > \theta`. :math:`G_+`: active only at
    :math:`h^+`; :math:`G_-`: only at :math:`h^-`; :math:`G_a`: at both; :math:`G_s`: at
    neither.

    Parameters
    ----------
    h_plus, h_minus : arrays ``(N,)``
        The decision states (see :func:`decision_states`).
    threshold : float
        :math:`\theta \ge 0`.
    """
    hp = np.asarray(h_plus, dtype=float)
    hm = np.asarray(h_minus, dtype=float)
    if hp.ndim != 1 or hp.shape != hm.shape:
        raise ValueError(
            f"h_plus and h_minus must be 1-D of the same length, got {hp.shape} and {hm.shape}"
        )
    if not (np.all(np.isfinite(hp)) and np.all(np.isfinite(hm))):
        raise ValueError("h_plus and h_minus must be finite")
    if not (np.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    ap, am = hp > threshold, hm > threshold
    return Populations(
        g_plus=ap & ~am, g_minus=am & ~ap, g_a=ap & am, g_s=~ap & ~am, threshold=float(threshold)
    )


@dataclass(frozen=True)
class SelectivityPopulations(Populations):
    """:class:`Populations` from choice selectivity, with the per-unit statistics.

    Attributes
    ----------
    pvalue, pvalue_holm : arrays ``(N,)``
        Two-sided Mann-Whitney p-values and their Holm-adjusted values (NaN for silent units,
        which are not tested).
    effect : array ``(N,)``
        Rank-biserial correlation :math:`r = 2U_1/(n_1 n_2) - 1 = P(X_1 > X_2) - P(X_1 < X_2)`
        (positive: higher for choice 1).
    alpha : float
        Family-wise error level of the Holm correction.
    """

    pvalue: Array = field(default_factory=lambda: np.zeros(0))
    pvalue_holm: Array = field(default_factory=lambda: np.zeros(0))
    effect: Array = field(default_factory=lambda: np.zeros(0))
    alpha: float = 0.01


def choice_selectivity(
    activity: Array,
    choice: Array,
    *,
    threshold: float = ACTIVITY_THRESHOLD,
    alpha: float = SELECTIVITY_ALPHA,
) -> SelectivityPopulations:
    r"""Populations from the choice selectivity of each unit (statistics only, no network).

    Parameters
    ----------
    activity : array ``(n_trials, N)``
        One activity value per trial and unit (e.g. the go-cue state of correct trials).
    choice : array ``(n_trials,)``
        1 or 2 per trial.
    threshold : float
        A unit whose mean activity is :math:`\le \theta` in both choices is silent
        (:math:`G_s`) and not tested.
    alpha : float
        Level of the Holm-corrected tests, in (0, 1).

    Returns
    -------
    SelectivityPopulations
        :math:`G_+`: adjusted :math:`p \le \alpha` and :math:`r > 0`; :math:`G_-`: adjusted
        :math:`p \le \alpha` and :math:`r < 0`; :math:`G_a`: the other non-silent units.
        A non-silent unit whose values are all equal gets :math:`p = 1`.
    """
    X = np.asarray(activity, dtype=float)
    c = np.asarray(choice)
    if X.ndim != 2:
        raise ValueError(f"activity must be (n_trials, N), got shape {X.shape}")
    if c.shape != (X.shape[0],):
        raise ValueError(f"choice must have shape ({X.shape[0]},), got {c.shape}")
    if not np.all(np.isin(c, (1, 2))):
        raise ValueError("choice must contain only 1 and 2")
    n1, n2 = int((c == 1).sum()), int((c == 2).sum())
    if n1 < 2 or n2 < 2:
        raise ValueError(f"need at least 2 trials of each choice, got {n1} and {n2}")
    if not np.all(np.isfinite(X)):
        raise ValueError("activity must be finite")
    if not (np.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    if not (0 < alpha < 1):
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    X1, X2 = X[c == 1], X[c == 2]
    N = X.shape[1]
    silent = (X1.mean(0) <= threshold) & (X2.mean(0) <= threshold)
    tested = np.flatnonzero(~silent)
    p = np.full(N, np.nan)
    effect = np.zeros(N)
    if tested.size:
        res = mannwhitneyu(X1[:, tested], X2[:, tested], axis=0, alternative="two-sided")
        constant = np.ptp(X[:, tested], axis=0) == 0
        p[tested] = np.where(constant | np.isnan(res.pvalue), 1.0, res.pvalue)
        effect[tested] = 2.0 * res.statistic / (n1 * n2) - 1.0
    p_adj = holm(p)
    sig = ~silent & (p_adj <= alpha)
    plus, minus = sig & (effect > 0), sig & (effect < 0)
    return SelectivityPopulations(
        g_plus=plus,
        g_minus=minus,
        g_a=~silent & ~plus & ~minus,
        g_s=silent,
        threshold=float(threshold),
        definition="selectivity",
        pvalue=p,
        pvalue_holm=p_adj,
        effect=effect,
        alpha=float(alpha),
    )


# ------------------------------------------------------------------------ trial activity
@dataclass(frozen=True)
class TrialActivity:
    """States of real trials of one context around the go cue.

    Attributes
    ----------
    delay_end : array ``(B, N)``
        State at the last delay step (``decision_on - 1``).
    go : array ``(B, N)``
        State at the go cue, the first decision step (``decision_on``).
    delay_input : array ``(7,)``
        The (noise-free) delay-period input :math:`x_{delay}` of this context.
    choice, correct : int arrays ``(B,)``
        The greedy choice (0: none) and the correct choice (1 or 2).
    """

    delay_end: Array
    go: Array
    delay_input: Array
    choice: Array
    correct: Array

    @property
    def is_correct(self) -> Array:
        """Trials where the greedy choice is the correct one."""
        return self.choice == self.correct


def _net_task(source: StoredRun | RNN, task: TaskConfig | None) -> tuple[RNN, TaskConfig]:
    if isinstance(source, StoredRun):
        return source.network(), task if task is not None else source.spec.task
    if isinstance(source, RNN):
        return source, task if task is not None else TaskConfig()
    raise TypeError(f"expected a StoredRun or an RNN, got {type(source).__name__}")


def _check_common(context: int, n_trials: int) -> None:
    if context not in (0, 1):
        raise ValueError(f"context must be 0 or 1, got {context!r}")
    if not (isinstance(n_trials, int | np.integer) and n_trials >= 2):
        raise ValueError(f"n_trials must be an int >= 2, got {n_trials!r}")


@torch.no_grad()
def trial_activity(
    source: StoredRun | RNN,
    context: int,
    n_trials: int = 400,
    seed: int = 0,
    *,
    task: TaskConfig | None = None,
) -> TrialActivity:
    """Run ``n_trials`` fresh trials of one context and collect the states around the go cue.

    Parameters
    ----------
    source : StoredRun or RNN
        The network (a bare RNN runs on ``task``, by default :class:`TaskConfig`'s defaults).
    context : {0, 1}
    n_trials : int
    seed : int
        Seed of the private trial generator.
    task : TaskConfig, optional
        Overrides the run's task.
    """
    _check_common(context, n_trials)
    net, task = _net_task(source, task)
    gen = torch.Generator().manual_seed(int(seed))
    tr, hs, logits = context_trials(net, task, int(n_trials), gen, context)
    idx = torch.arange(int(n_trials))
    # the delay input is noise-free and the same in every trial of the context
    x_delay = period_inputs(context, 0.0, 0.0, "delay", task.semantics)[0]
    return TrialActivity(
        delay_end=hs[tr.decision_on - 1, idx].double().numpy(),
        go=hs[tr.decision_on, idx].double().numpy(),
        delay_input=x_delay,
        choice=greedy_choices(logits, tr).numpy(),
        correct=tr.correct.numpy(),
    )


# ----------------------------------------------------------------------- decision states
@dataclass(frozen=True)
class DecisionStates:
    """The two decision states of a network in one context.

    Attributes
    ----------
    context : int
        0 or 1.
    method : {"fixed_points", "mean_states"}
        How :attr:`h_plus` and :attr:`h_minus` were obtained (see the module docstring).
    h_plus, h_minus : arrays ``(N,)``
    reason : str
        Why the fallback was used ("" for ``fixed_points``).
    fixed_points : ReLUFixedPoints
        The fixed points of the delay map found from the settled trial states.
    stable_index : int array
        Rows of ``fixed_points.points`` that are stable; ``flow_outcome`` indexes this array.
    flow_outcome : int array ``(B,)``
        Per trial: index of the stable fixed point its delay state flows to, ``-1``
        (diverged) or ``-2`` (not settled within the allowed steps, or settled away from every
        stable fixed point).
    attractor_plus, attractor_minus : int
        The majority attractor of the correct choice-1 / choice-2 trials (index into the
        stable fixed points; -1 where none has a strict majority).
    support_plus, support_minus : float
        Fraction of the correct choice-1 / choice-2 trials that flow to that attractor.
    n_plus_trials, n_minus_trials : int
        Correct choice-1 / choice-2 trials.
    """

    context: int
    method: str
    h_plus: Array
    h_minus: Array
    reason: str
    fixed_points: ReLUFixedPoints
    stable_index: Array
    flow_outcome: Array
    attractor_plus: int
    attractor_minus: int
    support_plus: float
    support_minus: float
    n_plus_trials: int
    n_minus_trials: int

    @property
    def n_stable(self) -> int:
        """Number of stable fixed points of the delay map found."""
        return int(self.stable_index.size)


def _flow(
    W: Array,
    c: Array,
    H0: Array,
    n_steps: int,
    tol: float,
    div_threshold: float,
    check_every: int = 25,
    alpha: float = 1.0,
) -> tuple[Array, Array]:
    r"""Iterate :math:`h \mapsto (1-\alpha) h + \alpha\,\mathrm{ReLU}(W h + c)` from the rows
    of ``H0`` (batched; ``alpha`` = 1, the vanilla map, by default).

    Every ``check_every`` steps, rows with :math:`\|F(h) - h\| \le tol\,(1 + \|h\|)` are
    *settled* and rows whose max-norm exceeds ``div_threshold`` (or that grew by more than
    1.5x over each of the last two check windows while above 100) are *diverged*; both are
    dropped from the loop. Returns the final states and a status per row (0 settled,
    :data:`DIVERGED`, :data:`UNSETTLED`).
    """
    H = np.array(H0, dtype=float, copy=True)
    status = np.full(len(H), UNSETTLED)
    idx = np.arange(len(H))
    F = ReLUMap(W, c, alpha)
    X = H.copy()
    norms: list[Array] = []
    for t in range(1, n_steps + 1):
        X = F.step(X)
        if t % check_every and t != n_steps:
            continue
        FX = F.step(X)
        mx = np.abs(X).max(1) if X.size else np.zeros(0)
        settled = np.linalg.norm(FX - X, axis=1) <= tol * (1 + np.linalg.norm(X, axis=1))
        grow = np.zeros(len(X), dtype=bool)
        if len(norms) >= 2:
            grow = (mx > 100.0) & (mx > 1.5 * norms[-1]) & (norms[-1] > 1.5 * norms[-2])
        diverged = ~np.isfinite(mx) | (mx > div_threshold) | grow
        settled &= ~diverged
        status[idx[settled]] = 0
        status[idx[diverged]] = DIVERGED
        H[idx] = X
        done = settled | diverged
        X, idx = X[~done], idx[~done]
        norms = [n[~done] for n in norms[-1:]] + [mx[~done]]
        if not len(X):
            break
    return H, status


def _majority(outcome: Array, n_classes: int) -> tuple[int, float]:
    """The attractor reached by a strict majority of ``outcome`` (-1 if none) and its share."""
    if outcome.size == 0 or n_classes == 0:
        return -1, float("nan")
    counts = np.bincount(outcome[outcome >= 0], minlength=n_classes)
    best = int(np.argmax(counts))
    share = float(counts[best] / outcome.size)
    return (best if counts[best] > outcome.size / 2 else -1), share


def decision_states(
    source: StoredRun | RNN,
    context: int,
    n_trials: int = 400,
    seed: int = 0,
    *,
    task: TaskConfig | None = None,
    n_flow: int = 1000,
    settle_tol: float = 1e-7,
    match_tol: float = 1e-4,
    div_threshold: float = 1e6,
) -> DecisionStates:
    r"""The decision states :math:`h^+` and :math:`h^-` of a network in one context.

    1. ``n_trials`` fresh trials of the context are run (:func:`trial_activity`);
    2. each trial's state at the last delay step is iterated under the delay map
       :math:`F(h) = (1-\alpha) h + \alpha\,\mathrm{ReLU}(W_{rec} h + W_{in} x_{delay} + b)`
       (:math:`\alpha = 1` without a leak) for at most ``n_flow``
       steps, until it settles (:math:`\|F(h)-h\| \le` ``settle_tol`` :math:`(1+\|h\|)`) or
       diverges (max-norm above ``div_threshold``, or steady growth);
    3. the settled states are the candidates of :func:`lib.analysis.dynamics.relu_fixed_points`, which
       solves the fixed points exactly per activation pattern and tests their stability
       (spectral radius of the Jacobian :math:`(1-\alpha) I + \alpha D W_{rec}` below 1); each
       settled trial is matched to the
       nearest stable fixed point within ``match_tol`` :math:`(1 + \|h^*\|)`;
    4. :math:`h^+` (:math:`h^-`) is the stable fixed point reached by a strict majority of the
       correct choice-1 (choice-2) trials, if the two differ (``method="fixed_points"``);
       otherwise :math:`h^\pm` are the mean go-cue states over the correct trials of each
       choice (``method="mean_states"``) and ``reason`` says why.

    Parameters
    ----------
    source : StoredRun or RNN
    context : {0, 1}
    n_trials : int
    seed : int
        Seed of the trials.
    task : TaskConfig, optional
        Overrides the run's task (a bare RNN uses the default task).
    n_flow : int
        Most steps of the delay map per trial.
    settle_tol, match_tol, div_threshold : float
        See above.

    Notes
    -----
    A leaky network (``alpha`` < 1) has the same fixed points; the delay map is then the
    leaky one and a fixed point's stability is that of :math:`(1-\alpha) I + \alpha D W_{rec}`
    (:func:`lib.analysis.dynamics.relu_fixed_points` with ``alpha``).
    """
    _check_common(context, n_trials)
    if not (isinstance(n_flow, int | np.integer) and n_flow >= 1):
        raise ValueError(f"n_flow must be an int >= 1, got {n_flow!r}")
    for name, v in (
        ("settle_tol", settle_tol),
        ("match_tol", match_tol),
        ("div_threshold", div_threshold),
    ):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be finite and > 0, got {v!r}")
    net, task = _net_task(source, task)
    act = trial_activity(net, context, n_trials, seed, task=task)
    W = net.W_rec.detach().double().numpy()
    c = act.delay_input @ net.W_in.detach().double().numpy().T + net.b.detach().double().numpy()

    alpha = float(net.cfg.alpha)
    H, status = _flow(W, c, act.delay_end, int(n_flow), settle_tol, div_threshold, alpha=alpha)
    settled = status == 0
    cand = np.unique(H[settled], axis=0) if settled.any() else None
    fps = relu_fixed_points(W, c, cand, n_starts=0, n_iter=3, adam_iters=0, alpha=alpha)
    stable_index = np.flatnonzero(fps.stable)
    S = fps.points[stable_index]
    outcome = np.where(status == DIVERGED, DIVERGED, UNSETTLED)
    if settled.any() and len(S):
        D = np.linalg.norm(H[settled][:, None, :] - S[None], axis=2)
        near = D.argmin(1)
        ok = D[np.arange(len(near)), near] <= match_tol * (1 + np.linalg.norm(S[near], axis=1))
        outcome[settled] = np.where(ok, near, UNSETTLED)

    right = act.is_correct
    one, two = right & (act.correct == 1), right & (act.correct == 2)
    n1, n2 = int(one.sum()), int(two.sum())
    if n1 == 0 or n2 == 0:
        raise ValueError(
            f"context {context}: no correct trials of choice {1 if n1 == 0 else 2} among "
            f"{n_trials}; the decision states are undefined (use more trials)"
        )
    a_plus, s_plus = _majority(outcome[one], len(S))
    a_minus, s_minus = _majority(outcome[two], len(S))

    def share(sel: Array, k: int) -> str:
        o = outcome[sel]
        return (
            f"{np.mean(o == k):.0%} reach its most common stable fixed point, "
            f"{np.mean(o == DIVERGED):.0%} diverge, {np.mean(o == UNSETTLED):.0%} do not settle"
        )

    if len(S) == 0:
        reason = "the delay map has no stable fixed point reached by the trials"
    elif a_plus < 0:
        k = int(np.bincount(outcome[one][outcome[one] >= 0], minlength=len(S)).argmax())
        reason = f"no stable fixed point holds choice 1 (of its correct trials {share(one, k)})"
    elif a_minus < 0:
        k = int(np.bincount(outcome[two][outcome[two] >= 0], minlength=len(S)).argmax())
        reason = f"no stable fixed point holds choice 2 (of its correct trials {share(two, k)})"
    elif a_plus == a_minus:
        reason = "both choices flow to the same stable fixed point (the decision is transient)"
    else:
        reason = ""
    if reason:
        method, hp, hm = "mean_states", act.go[one].mean(0), act.go[two].mean(0)
    else:
        method, hp, hm = "fixed_points", S[a_plus].copy(), S[a_minus].copy()
    return DecisionStates(
        context=int(context),
        method=method,
        h_plus=hp,
        h_minus=hm,
        reason=reason,
        fixed_points=fps,
        stable_index=stable_index,
        flow_outcome=outcome,
        attractor_plus=a_plus,
        attractor_minus=a_minus,
        support_plus=s_plus,
        support_minus=s_minus,
        n_plus_trials=n1,
        n_minus_trials=n2,
    )


def selectivity_populations(
    source: StoredRun | RNN,
    context: int,
    n_trials: int = 400,
    seed: int = 0,
    threshold: float = 1e-6,
    alpha: float = 0.01,
    *,
    task: TaskConfig | None = None,
) -> SelectivityPopulations:
    """Populations by choice selectivity of the go-cue activity (see :func:`choice_selectivity`).

    The activity is the state at the go cue (step ``decision_on``) of the correct trials among
    ``n_trials`` fresh trials of the context; the choice is the (correct) choice made.
    """
    act = trial_activity(source, context, n_trials, seed, task=task)
    right = act.is_correct
    return choice_selectivity(act.go[right], act.correct[right], threshold=threshold, alpha=alpha)


def population_table(
    source: StoredRun | RNN,
    contexts: tuple[int, ...] = (0, 1),
    n_trials: int = 400,
    seed: int = 0,
    threshold: float = 1e-6,
    alpha: float = 0.01,
    *,
    task: TaskConfig | None = None,
) -> pd.DataFrame:
    """Population sizes and balance of one network by both definitions, per context.

    Returns
    -------
    DataFrame
        One row per (context, definition): ``context`` (1-based, as in the census tables),
        ``definition`` (``decision_states`` or ``selectivity``), ``method``
        (``fixed_points`` / ``mean_states`` for the first, ``mannwhitney_holm`` for the
        second), ``n_units``, ``n_plus``, ``n_minus``, ``n_a``, ``n_s``, ``balance``,
        ``support_plus``, ``support_minus`` and ``n_stable`` (decision states only; NaN
        otherwise), ``reason``; plus ``run_id``, ``algorithm``, ``seed`` for a stored run.
    """
    if not contexts or any(c not in (0, 1) for c in contexts):
        raise ValueError(f"contexts must be a non-empty subset of (0, 1), got {contexts!r}")
    meta: dict[str, object] = {}
    if isinstance(source, StoredRun):
        meta = {
            "run_id": source.path.name,
            "algorithm": source.spec.algorithm,
            "seed": source.spec.seed,
        }
    net, task = _net_task(source, task)
    rows = []
    for ctx, definition, pops, extra in _population_partitions(
        net, task, contexts, n_trials, seed, threshold, alpha
    ):
        rows.append({**meta, "context": ctx + 1, "definition": definition, **extra, **pops.sizes()})
    cols = [*meta, "context", "definition", "method", "n_units", "n_plus", "n_minus", "n_a"]
    cols += ["n_s", "balance", "support_plus", "support_minus", "n_stable", "reason"]
    return pd.DataFrame(rows)[cols]


def _population_partitions(
    net: RNN,
    task: TaskConfig,
    contexts: tuple[int, ...],
    n_trials: int,
    seed: int,
    threshold: float,
    alpha: float,
) -> list[tuple[int, str, Populations, dict[str, object]]]:
    """``(context, definition, populations, extra columns)`` for both definitions."""
    out: list[tuple[int, str, Populations, dict[str, object]]] = []
    for ctx in contexts:
        ds = decision_states(net, ctx, n_trials, seed, task=task)
        extra = {
            "method": ds.method,
            "support_plus": ds.support_plus,
            "support_minus": ds.support_minus,
            "n_stable": ds.n_stable,
            "reason": ds.reason,
        }
        out.append((ctx, "decision_states", populations(ds.h_plus, ds.h_minus, threshold), extra))
        sp = selectivity_populations(net, ctx, n_trials, seed, threshold, alpha, task=task)
        extra = {
            "method": "mannwhitney_holm",
            "support_plus": np.nan,
            "support_minus": np.nan,
            "n_stable": np.nan,
            "reason": "",
        }
        out.append((ctx, "selectivity", sp, extra))
    return out


def unit_labels(
    source: StoredRun | RNN,
    contexts: tuple[int, ...] = (0, 1),
    n_trials: int = 400,
    seed: int = 0,
    threshold: float = 1e-6,
    alpha: float = 0.01,
    *,
    task: TaskConfig | None = None,
) -> pd.DataFrame:
    """The population of every unit, by both definitions, per context (long format).

    Returns
    -------
    DataFrame
        Columns ``context`` (1-based), ``definition``, ``unit`` and ``label`` (``G+``,
        ``G-``, ``Ga`` or ``Gs``); the per-unit counterpart of :func:`population_table`, with
        the same arguments.
    """
    if not contexts or any(c not in (0, 1) for c in contexts):
        raise ValueError(f"contexts must be a non-empty subset of (0, 1), got {contexts!r}")
    net, task = _net_task(source, task)
    frames = [
        pd.DataFrame(
            {
                "context": ctx + 1,
                "definition": definition,
                "unit": np.arange(pops.n_units),
                "label": pops.labels(),
            }
        )
        for ctx, definition, pops, _ in _population_partitions(
            net, task, contexts, n_trials, seed, threshold, alpha
        )
    ]
    return pd.concat(frames, ignore_index=True)
