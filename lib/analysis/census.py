r"""Census of a trained network's attractors over coherence space.

For each context and each point (c1, c2) of a grid of signed coherences, the stimulus-period
input of the network's task (:func:`lib.core.task.period_inputs`, honouring its ``semantics``) is
held constant and noise-free,

.. math:: x = (1,\ \tfrac{1+c_1}{2},\ \tfrac{1-c_1}{2},\ \tfrac{1+c_2}{2},\ \tfrac{1-c_2}{2},
          \ \text{context one-hot}),

so the network is the autonomous map :math:`h \mapsto \mathrm{ReLU}(W_{rec} h + W_{in} x + b)`.
Its orbits are followed from several initial states (zero, the state at stimulus onset, and
states of real trials) and classified by :func:`lib.analysis.dynamics.classify_orbits`; coexisting
attractors reached from different initial states are deduplicated. The same machinery on the
delay- and decision-period inputs gives the decision fixed points.

Results are cached in the store (``data/analyses/<run_id>/``), keyed by the run, the
:class:`CensusConfig` and :data:`CENSUS_VERSION`. A leaky network (``alpha`` < 1) is followed
under its own map, :math:`h \mapsto (1-\alpha) h + \alpha\,\mathrm{ReLU}(W_{rec} h + c)`, and keyed
``CENSUS_VERSION + "-leak"`` (:func:`lib.analysis.dynamics.leak_version`): versions up to "2"
followed every network under the vanilla map, which is not a leaky network's map; their
entries for leaky networks stay in the store, unused.

Two orbit classifiers (:data:`VERSIONS`): version "3", the default
(:mod:`lib.analysis.relu_orbits`: float32, settled orbits stopped on their exact fixed point
or cycle, orbits of one grid point on one trajectory followed once), and version "2"
(:func:`lib.analysis.dynamics.classify_orbits` on every orbit, float64), whose stored
entries are kept so that the two can be compared (chapter 8b).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from lib.analysis.dynamics import (
    OrbitConfig,
    OrbitRecord,
    _classify,
    classify_orbits,
    leak_version,
    lyapunov_spectrum_qr,
    relu_eigvals,
    relu_jvp,
    relu_map,
    rotation_number,
)
from lib.analysis.relu_orbits import classify_relu_grid
from lib.core.network import ReLUMap, context_trials
from lib.core.task import TaskConfig, period_inputs
from lib.store.runs import Store, StoredRun, cached

__all__ = [
    "CENSUS_VERSION",
    "CensusConfig",
    "VERSIONS",
    "compare_censuses",
    "grid_categories",
    "split_verdicts",
    "census",
    "stimulus_inputs",
    "initial_states",
    "network_arrays",
    "OrbitViews",
    "orbit_views",
    "reproducible_qp_point",
]

#: Bump when the census code changes what it computes. Version 3 since 7 December 2026, every
#: stored census recomputed under it (``benchmarks/census_versions.py``; version 2's kept).
CENSUS_VERSION = "3"
#: The census versions this code computes: "2" (float64, every orbit followed to the end of
#: its record) and "3" (:mod:`lib.analysis.relu_orbits`: float32, settled orbits stopped
#: exactly, orbits on one attractor followed once).
VERSIONS = ("2", "3")


@dataclass(frozen=True)
class CensusConfig:
    """Settings of a coherence-space census (stored with every result).

    Parameters
    ----------
    grid : int
        Points per coherence axis (odd, so that 0 is on the grid).
    coh_max : float
        The grid spans signed coherences in [−coh_max, coh_max] percent.
    n_trial_states : int
        Initial states taken from real trials (plus the zero state and the state at
        stimulus onset).
    dedup_tol : float
        Relative distance under which two fixed points (or cycles) are the same attractor.
    trial_seed : int
        Seed of the real trials that provide initial states.
    orbit : OrbitConfig
        Settings of the orbit classifier.
    """

    grid: int = 21
    coh_max: float = 50.0
    n_trial_states: int = 3
    dedup_tol: float = 1e-6
    trial_seed: int = 2024
    orbit: OrbitConfig = field(default_factory=OrbitConfig)

    def __post_init__(self) -> None:
        if not (isinstance(self.grid, int) and self.grid >= 1):
            raise ValueError(f"CensusConfig.grid must be an int >= 1, got {self.grid!r}")
        if not (0 < self.coh_max <= 100):
            raise ValueError(f"CensusConfig.coh_max must lie in (0, 100], got {self.coh_max!r}")
        if not (isinstance(self.n_trial_states, int) and self.n_trial_states >= 0):
            raise ValueError("CensusConfig.n_trial_states must be an int >= 0")
        if not self.dedup_tol > 0:
            raise ValueError("CensusConfig.dedup_tol must be > 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields (the orbit settings nested)."""
        d = dataclasses.asdict(self)
        d["orbit"] = self.orbit.to_dict()
        return d

    @property
    def coherences(self) -> np.ndarray:
        """The grid's signed coherence values (percent)."""
        return np.linspace(-self.coh_max, self.coh_max, self.grid)


def network_arrays(run: StoredRun) -> dict[str, np.ndarray]:
    """The trained weights as float64 NumPy arrays (W_rec, W_in, b, W_out, b_out)."""
    net = run.network()
    return {k: v.detach().double().numpy() for k, v in net.state_dict().items()}


def stimulus_inputs(
    context: int,
    c1: np.ndarray,
    c2: np.ndarray,
    period: str = "stimulus",
    semantics: str = "neurogym1",
) -> np.ndarray:
    """Noise-free inputs ``(G, 7)`` of a period: :func:`lib.core.task.period_inputs`.

    ``period`` is ``"stimulus"`` (stimulus channels on), ``"delay"`` or ``"decision"`` (no
    stimulus; in NeuroGym 1.0 semantics fixation is 1 in both but the decision period), or
    ``"fixation"``. ``context`` is 0 or 1. ``semantics`` is the task's (``run.spec.task``);
    the default is NeuroGym 1.0's.
    """
    return period_inputs(context, c1, c2, period, semantics)


@torch.no_grad()
def initial_states(run: StoredRun, context: int, n_trial: int, seed: int) -> np.ndarray:
    """Initial states for a context: zero, the state at stimulus onset (in the reset regime
    the fixation period is noise-free, so it is the same in every trial; in the continuous
    regime it is one trial's, and holds its previous trial) and ``n_trial`` states of real
    trials at the end of the stimulus period, alternating correct choices 1 and 2. The trials
    run in the run's trial regime (:func:`lib.core.network.context_trials`)."""
    task: TaskConfig = run.spec.task
    net = run.network()
    g = torch.Generator().manual_seed(seed)
    n = max(n_trial, 1) * 4
    # continuous regime: trials of a stream, each after a real previous trial
    tr, hs, _ = context_trials(net, task, n, g, context)
    onset = hs[task.n_fixation - 1, 0].double().numpy()
    end_stim = hs[task.n_fixation + task.n_stimulus - 1].double().numpy()
    order = np.argsort(tr.correct.numpy(), kind="stable")  # choice-1 trials first
    ones, twos = order[tr.correct.numpy()[order] == 1], order[tr.correct.numpy()[order] == 2]
    picks = [x for pair in zip(ones, twos, strict=False) for x in pair][:n_trial]
    states = [np.zeros_like(onset), onset] + [end_stim[i] for i in picks]
    return np.stack(states)


def _relu_fns(W: np.ndarray, C: np.ndarray, alpha: float = 1.0) -> tuple[Callable[..., Any], ...]:
    """Index-aware step, fused step + tangent map, Jacobian and eigenvalues of the one NumPy
    map (:class:`lib.core.network.ReLUMap`, leak ``alpha``) for per-row inputs ``C``, as the
    orbit classifier calls them."""
    F = ReLUMap(W, C, alpha)

    def eigvals(X: np.ndarray, idx: np.ndarray) -> list[np.ndarray]:
        uniq, inv = np.unique(F.pattern(X, idx), axis=0, return_inverse=True)
        ev = relu_eigvals(W, uniq)
        if alpha != 1.0:  # the leaky Jacobian: 1 - alpha + alpha * lambda, 1 - alpha off the block
            ev = [
                np.concatenate([(1 - alpha) + alpha * e, np.full(int((~u).sum()), 1 - alpha)])
                for e, u in zip(ev, uniq, strict=True)
            ]
        return [ev[j] for j in np.asarray(inv).reshape(-1)]

    return F.step, F.advance, F.jacobian, eigvals


def _same(a: OrbitRecord, b: OrbitRecord, tol: float) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind in ("fixed_point", "periodic"):
        if a.period != b.period:
            return False
        # a cycle is the same if b's first point lies on a's cycle
        d = np.linalg.norm(a.points - b.points[0], axis=1).min()
        return bool(d <= tol * (1 + np.linalg.norm(b.points[0])))
    if a.kind == "divergent":
        return True
    # quasi-periodic / chaotic / unclassified: same rotation number and overlapping clouds
    if (a.rotation_number is not None and b.rotation_number is not None) and abs(
        a.rotation_number - b.rotation_number
    ) > 1e-3:
        return False
    ca, cb = a.points.mean(0), b.points.mean(0)
    spread = max(np.linalg.norm(a.points - ca, axis=1).max(), 1e-12)
    return bool(np.linalg.norm(ca - cb) <= 0.25 * spread + tol)


def _classify_inputs(
    W: np.ndarray,
    C: np.ndarray,
    H0: np.ndarray,
    cfg: CensusConfig,
    alpha: float = 1.0,
    version: str = CENSUS_VERSION,
) -> list[list[OrbitRecord]]:
    """Attractors (deduplicated) of each input row of ``C (G, n)`` from the states ``H0 (S, n)``
    under the map with leak ``alpha`` (1: the vanilla map), by the orbit classifier of census
    ``version``: "2", :func:`lib.analysis.dynamics.classify_orbits` in float64; "3",
    :func:`lib.analysis.relu_orbits.classify_relu_grid`."""
    G, S = len(C), len(H0)
    Crow = np.repeat(C, S, axis=0)
    if version == "3":
        recs = classify_relu_grid(W, C, H0, cfg.orbit, alpha)
    else:
        X0 = np.tile(H0, (G, 1))
        step, advance, jac, eig = _relu_fns(W, Crow, alpha)
        recs = _classify(step, advance, jac, X0, cfg.orbit, eig)
    # polish fixed points exactly: solve (I - W_aa) h_a = c_a on the orbit's active set a
    # (version 3's are exact already)
    seen: set[int] = set()
    for i, r in enumerate(recs):
        if r.kind != "fixed_point" or id(r) in seen:
            continue
        seen.add(id(r))
        if version == "3":
            F = ReLUMap(W, Crow[i], alpha)
            r.residual = float(np.linalg.norm(F.step(r.points[0]) - r.points[0]))
            continue
        x, c = r.points[0], Crow[i]
        F = ReLUMap(W, c)
        a = np.flatnonzero(F.pattern(x))
        h = np.zeros_like(x)
        if a.size:
            try:
                h[a] = np.linalg.solve(np.eye(a.size) - W[np.ix_(a, a)], c[a])
            except np.linalg.LinAlgError:
                h = x
        if np.array_equal(np.flatnonzero(F.pattern(h)), a) and np.all(h >= 0):
            r.points = h[None]
        r.residual = float(np.linalg.norm(F.step(r.points[0]) - r.points[0]))
    out = []
    for g in range(G):
        uniq: list[OrbitRecord] = []
        basin: list[int] = []
        for s in range(S):
            r = recs[g * S + s]
            for j, u in enumerate(uniq):
                if _same(u, r, cfg.dedup_tol):
                    basin[j] += 1
                    break
            else:
                uniq.append(r)
                basin.append(1)
        for u, b in zip(uniq, basin, strict=True):
            u.n_initial_states = b
        out.append(uniq)
    return out


def _attractor_rows(
    recs: list[OrbitRecord],
    base: dict[str, Any],
    A: dict[str, np.ndarray],
    c_go: np.ndarray,
    alpha: float = 1.0,
) -> list[dict[str, Any]]:
    """Table rows of the attractors of one input. ``readout_choice`` is the policy's argmax at
    the attractor's centre; ``go_choice`` the argmax one step after the go cue (decision-
    period input ``c_go``) from there: the choice the network would make if asked then."""
    W_out, b_out, W = A["W_out"], A["b_out"], A["W_rec"]
    rows = []
    for r in recs:
        lam = np.full(3, np.nan)
        lam[: min(3, len(r.lyapunov))] = r.lyapunov[:3]
        centre = r.points.mean(0) if r.points.size else np.full(W.shape[0], np.nan)
        finite = bool(np.all(np.isfinite(centre)))
        go = ReLUMap(W, c_go, alpha).step(centre) if finite else centre
        rows.append(
            {
                **base,
                "kind": r.kind,
                "period": r.period,
                "lambda1": lam[0],
                "lambda2": lam[1],
                "lambda3": lam[2],
                "rotation_number": r.rotation_number,
                "birkhoff_digits": r.birkhoff_digits,
                "residual": r.residual,
                "n_initial_states": r.n_initial_states,
                "mean_rate": float(centre.mean()),
                "n_active": int((centre > 0).sum()),
                "readout_choice": int(np.argmax(W_out @ centre + b_out)) if finite else -1,
                "go_choice": int(np.argmax(W_out @ go + b_out)) if finite else -1,
            }
        )
    return rows


def compute_census(
    run: StoredRun, cfg: CensusConfig, version: str = CENSUS_VERSION
) -> dict[str, pd.DataFrame]:
    """Run the census of one network (no caching); see :func:`census`. A leaky network's
    orbits follow its own map, (1 - alpha) h + alpha ReLU(W h + c). ``version`` picks the
    orbit classifier (:data:`VERSIONS`)."""
    if version not in VERSIONS:
        raise ValueError(f"unknown census version {version!r}; known: {VERSIONS}")
    A = network_arrays(run)
    alpha = float(run.spec.network.alpha)
    W, Win, b = A["W_rec"], A["W_in"], A["b"]
    sem = run.spec.task.semantics  # the inputs this network saw
    cohs = cfg.coherences
    c1, c2 = np.meshgrid(cohs, cohs, indexing="ij")
    c1, c2 = c1.ravel(), c2.ravel()
    attractors, decision = [], []
    for ctx in (0, 1):
        H0 = initial_states(run, ctx, cfg.n_trial_states, cfg.trial_seed)
        C = stimulus_inputs(ctx, c1, c2, semantics=sem) @ Win.T + b
        c_go = (stimulus_inputs(ctx, [0.0], [0.0], "decision", sem) @ Win.T + b)[0]
        per_point = _classify_inputs(W, C, H0, cfg, alpha, version)
        for g, recs in enumerate(per_point):
            base = {"context": ctx + 1, "c1": c1[g], "c2": c2[g]}
            attractors += _attractor_rows(recs, base, A, c_go, alpha)
        for inp in ("delay", "decision"):
            Cd = stimulus_inputs(ctx, [0.0], [0.0], inp, sem) @ Win.T + b
            recs = _classify_inputs(W, Cd, H0, cfg, alpha, version)[0]
            decision += _attractor_rows(recs, {"context": ctx + 1, "input": inp}, A, c_go, alpha)
    att = pd.DataFrame(attractors)
    grid = (
        att.groupby(["context", "c1", "c2"])
        .agg(
            n_attractors=("kind", "size"),
            kinds=("kind", lambda k: "+".join(sorted(set(k)))),
            has_qp=("kind", lambda k: bool((k == "quasi_periodic").any())),
            has_chaos=("kind", lambda k: bool((k == "chaotic").any())),
            n_fixed=("kind", lambda k: int((k == "fixed_point").sum())),
            lambda1_max=("lambda1", "max"),
        )
        .reset_index()
    )
    return {"attractors": att, "grid": grid, "decision": pd.DataFrame(decision)}


def census(
    run: StoredRun,
    cfg: CensusConfig | None = None,
    store: Store | None = None,
    *,
    compute: bool = True,
    version: str | None = None,
) -> dict[str, pd.DataFrame]:
    """The census of one network, from the store's cache or computed (and cached).

    ``version`` (default :data:`CENSUS_VERSION`) picks the orbit classifier and the cache
    key (:data:`VERSIONS`); every version's entries stay in the store.

    Returns
    -------
    dict of DataFrames
        ``attractors``: one row per (context, c1, c2, attractor) with kind, period, three
        leading exponents, rotation number, Birkhoff digits, residual (fixed points), how many
        initial states reached it and the readout's choice at its centre; ``grid``: one row
        per grid point (number and kinds of attractors, QP present); ``decision``: the
        attractors of the delay- and decision-period inputs (the decision fixed points).
    """
    cfg = cfg or CensusConfig()
    version = version or CENSUS_VERSION
    if version not in VERSIONS:
        raise ValueError(f"unknown census version {version!r}; known: {VERSIONS}")
    key = leak_version(version, run.spec.network.alpha)
    return cached(
        run,
        store,
        "census",
        key,
        "census",
        cfg,
        lambda r, c: compute_census(r, c, version),
        compute,
    )


#: Display categories of a grid point, in order of precedence.
CATEGORIES = (
    "chaotic",
    "quasi-periodic",
    "periodic",
    "unclassified",
    "fixed point + divergent",
    "divergent",
    "2+ fixed points",
    "1 fixed point",
)


def grid_category(kinds: str, n_fixed: int) -> str:
    """One display label per grid point from its ``kinds`` ("+"-joined) and fixed-point count.

    The most complex attractor present wins (chaotic > quasi-periodic > periodic >
    unclassified); otherwise divergence, then the number of fixed points.
    """
    ks = set(str(kinds).split("+"))
    for k, label in (
        ("chaotic", "chaotic"),
        ("quasi_periodic", "quasi-periodic"),
        ("periodic", "periodic"),
        ("unclassified", "unclassified"),
    ):
        if k in ks:
            return label
    if "divergent" in ks:
        return "fixed point + divergent" if "fixed_point" in ks else "divergent"
    return "2+ fixed points" if n_fixed >= 2 else "1 fixed point"


def grid_categories(grid: pd.DataFrame) -> np.ndarray:
    """The display category (:func:`grid_category`) of every grid point, in the grid's order."""
    return np.array([grid_category(k, n) for k, n in zip(grid.kinds, grid.n_fixed, strict=True)])


def split_verdicts(attractors: pd.DataFrame, tol: float = 1e-3) -> float:
    """Fraction of grid points where one attractor got two verdicts: a quasi-periodic record
    beside an unclassified or chaotic one with the same rotation number (within ``tol``),
    i.e. the same invariant circle reached from two initial states and classified twice
    (version 2 classified every orbit; version 3 follows an attractor once)."""
    a = attractors[attractors.kind.isin(["quasi_periodic", "unclassified", "chaotic"])]
    n_points = attractors.groupby(["context", "c1", "c2"]).ngroups
    hits = 0
    for _, g in a.groupby(["context", "c1", "c2"]):
        q = g[g.kind == "quasi_periodic"].rotation_number.to_numpy(dtype=float)
        o = g[g.kind != "quasi_periodic"].rotation_number.to_numpy(dtype=float)
        if q.size and o.size and (np.abs(q[:, None] - o[None, :]) <= tol).any():
            hits += 1
    return hits / max(n_points, 1)


def compare_censuses(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, float]:
    """Per-grid-point agreement of two censuses' ``grid`` tables of one network (two census
    versions): display category, kinds present, QP present and fixed-point count; QP
    fractions, mean attractors per grid point and each category's fraction under both
    (suffixes ``_old`` and ``_new``). Raises ``ValueError`` when the grids differ."""
    keys = ["context", "c1", "c2"]
    old, new = old.sort_values(keys), new.sort_values(keys)
    m = old.merge(new, on=keys, suffixes=("_old", "_new"))
    if not len(m) == len(old) == len(new):
        raise ValueError("the two censuses cover different grids")
    co, cn = grid_categories(old), grid_categories(new)
    row = {
        "grid_points": len(m),
        "agree_category": float((co == cn).mean()),
        "agree_kinds": float((m.kinds_old == m.kinds_new).mean()),
        "agree_has_qp": float((m.has_qp_old == m.has_qp_new).mean()),
        "n_fixed_equal": float((m.n_fixed_old == m.n_fixed_new).mean()),
        "qp_fraction_old": float(m.has_qp_old.mean()),
        "qp_fraction_new": float(m.has_qp_new.mean()),
        "n_attractors_old": float(m.n_attractors_old.mean()),
        "n_attractors_new": float(m.n_attractors_new.mean()),
    }
    for cat in CATEGORIES:
        row[f"frac_{cat}_old"] = float((co == cat).mean())
        row[f"frac_{cat}_new"] = float((cn == cat).mean())
    return row


def qp_fraction_sensitivity(
    attractors: pd.DataFrame, thresholds: tuple[float, ...], lyap_tol: float
) -> pd.DataFrame:
    """Fraction of grid points with a quasi-periodic attractor under other Birkhoff thresholds.

    Re-applies the quasi-periodicity rule (|λ1| ≤ lyap_tol, λ2 < −lyap_tol, Birkhoff digits ≥
    threshold) to the orbits the classifier called quasi-periodic or unclassified, from the
    stored measurements (the rationality test is kept as the classifier applied it: orbits it
    rejected as rational are not rescued).
    """
    a = attractors
    cand = (
        a["kind"].isin(["quasi_periodic", "unclassified"])
        & (a["lambda1"].abs() <= lyap_tol)
        & (a["lambda2"] < -lyap_tol)
    )
    rows = []
    n_points = a.groupby(["context", "c1", "c2"]).ngroups
    for thr in thresholds:
        qp = cand & (a["birkhoff_digits"] >= thr)
        pts = a[qp].groupby(["context", "c1", "c2"]).ngroups
        rows.append({"birkhoff_threshold": thr, "qp_fraction": pts / max(n_points, 1)})
    return pd.DataFrame(rows)


def trace_orbit(
    run: StoredRun,
    context: int,
    c1: float,
    c2: float,
    h0: np.ndarray,
    n_transient: int,
    n_steps: int,
    period: str = "stimulus",
) -> np.ndarray:
    """States ``(n_steps, N)`` of the autonomous map at one grid point after a transient."""
    A = network_arrays(run)
    c = grid_drive(run, context, c1, c2, period)
    return record_orbit(ReLUMap(A["W_rec"], c, run.spec.network.alpha), h0, n_transient, n_steps)


def grid_drive(
    run: StoredRun, context: int, c1: float, c2: float, period: str = "stimulus"
) -> np.ndarray:
    """The constant drive ``W_in x + b`` of one grid point (context index 0/1, coherences in
    percent), in the network's own input encoding."""
    A = network_arrays(run)
    x = stimulus_inputs(context, [c1], [c2], period, run.spec.task.semantics)
    return (x @ A["W_in"].T + A["b"])[0]


def record_orbit(F: ReLUMap, h0: np.ndarray, n_transient: int, n_steps: int) -> np.ndarray:
    """States ``(n_steps, N)`` of the map ``F`` from ``h0`` after ``n_transient`` steps."""
    h = np.asarray(h0, dtype=float).copy()
    for _ in range(n_transient):
        h = F.step(h)
    out = np.empty((n_steps, h.size))
    for t in range(n_steps):
        h = F.step(h)
        out[t] = h
    return out


@dataclass
class OrbitViews:
    """One attractor seen four ways (chapter 2's quasi-periodic example).

    Attributes
    ----------
    pcs : ndarray (T, k)
        The recorded orbit on its ``k = min(3, N)`` leading principal components.
    frequencies, power : ndarray
        Power spectrum of the first component (Hann window), frequencies in cycles per step.
    rotation, rotation_digits : float
        Rotation number in [0, 1/2] and its Birkhoff digits (:func:`lib.analysis.dynamics.rotation_number`).
    angle_increments : ndarray (T - 1,)
        Angle increments around the centroid of the first two components, in turns.
    lyapunov : DataFrame
        Leading exponents (``lambda1``…) estimated over ``steps`` steps (QR method).
    """

    pcs: np.ndarray
    frequencies: np.ndarray
    power: np.ndarray
    rotation: float
    rotation_digits: float
    angle_increments: np.ndarray
    lyapunov: pd.DataFrame


def orbit_views(
    W_rec: np.ndarray,
    c: np.ndarray,
    h0: np.ndarray,
    n_transient: int,
    n_record: int = 4096,
    lyap_steps: Sequence[int] = (100, 200, 400, 800, 1600, 3200),
    n_exponents: int = 3,
) -> OrbitViews:
    """The orbit of the map ``h -> ReLU(W_rec h + c)`` from ``h0`` after ``n_transient``
    steps, on its principal components, with its power spectrum, rotation number and the
    convergence of its leading Lyapunov exponents. A pure function of the map."""
    X = record_orbit(ReLUMap(W_rec, c), h0, n_transient, n_record)
    Xc = X - X.mean(0)
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    P = Xc @ vt[: min(3, X.shape[1])].T
    freqs = np.fft.rfftfreq(len(P))
    power = np.abs(np.fft.rfft(P[:, 0] * np.hanning(len(P)))) ** 2
    rho, digits = rotation_number(P[:, :2])
    theta = np.arctan2(P[:, 1], P[:, 0])
    dth = np.angle(np.exp(1j * np.diff(theta))) / (2 * np.pi)
    k = min(n_exponents, X.shape[1])
    step, jac = relu_map(W_rec, c)
    jvp = relu_jvp(W_rec, c)
    lyap = np.array([lyapunov_spectrum_qr(step, jac, X[:1], n, k, jvp=jvp)[0] for n in lyap_steps])
    table = pd.DataFrame(lyap, columns=[f"lambda{i + 1}" for i in range(k)]).assign(
        steps=list(lyap_steps)
    )
    return OrbitViews(P, freqs, power, float(rho), float(digits), dth, table)


def reproducible_qp_point(
    run: StoredRun, attractors: pd.DataFrame, cfg: CensusConfig, max_points: int = 5
) -> tuple[pd.Series, int, np.ndarray, np.ndarray] | None:
    """The first of a census's quasi-periodic grid points (at most ``max_points`` tried) whose
    QP orbit the classifier finds again from the census's own initial states.

    Returns ``(attractor row, context index 0/1, initial state, input drive c)`` or ``None``
    when the network has no such point (a rerun may select networks without any).
    """
    A = network_arrays(run)
    for _, row in attractors[attractors.kind == "quasi_periodic"].head(max_points).iterrows():
        ctx = int(row.context) - 1
        H0 = initial_states(run, ctx, cfg.n_trial_states, cfg.trial_seed)
        c = grid_drive(run, ctx, row.c1, row.c2)
        step, jac = relu_map(A["W_rec"], c)
        recs = classify_orbits(step, jac, H0, cfg.orbit, jvp=relu_jvp(A["W_rec"], c))
        j = next((i for i, r in enumerate(recs) if r.kind == "quasi_periodic"), None)
        if j is not None:
            return row, ctx, H0[j], c
    return None
