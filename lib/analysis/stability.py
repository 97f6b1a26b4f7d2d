r"""Linear-stability census of coherence space: exact fixed points and their Jacobian spectra.

The alternative, named in the paper, to the orbit census (:func:`lib.analysis.census.census`). On the
same grid of signed coherences, both contexts, with the same noise-free stimulus-period input
(:func:`lib.analysis.census.stimulus_inputs`), the network is the autonomous piecewise-linear map
:math:`h \mapsto \mathrm{ReLU}(W_{rec} h + c)`. Instead of following orbits, every grid point's
exact fixed points are found together with the spectrum of their Jacobian
:math:`D W_{rec}`: candidate activation patterns D, each solved exactly,
:math:`(I - DW)h = Dc`, and kept only when it reproduces its own pattern.

The search (version 2, :func:`grid_fixed_points`) is batched over the whole grid of a
context:

1. **Forward iteration** of the map from every grid point's starts at once (``n_iter``
   steps; the patterns of the last three steps are candidates: stable fixed points).
2. **Adam** on :math:`\tfrac12\|F(h)-h\|^2` from the same starts, batched over the grid
   (Golub & Sussillo; it also reaches unstable fixed points; float32 when
   ``float32_search``: only the pattern it ends in is used, and that is solved in float64).
3. **Exact solves by region**: the matrix :math:`I - DW` depends on the pattern only, so each
   distinct candidate pattern is factorised once and solved for every grid point that
   proposes it.
4. **Continuation** (``continuation``): every accepted pattern is proposed to the four
   neighbouring grid points, again and again until no new fixed point appears; where it is
   rejected, the pattern of its own solution there is tried instead (a Newton step of the
   piecewise-linear map, at most ``newton_steps`` times). A fixed point that moves across
   the grid, into other regions, is so followed to every grid point where it exists,
   although the search from that point's own starts missed it.

Version 1 (stored entries keyed ``1``) searched one grid point at a time, from its own
starts and the fixed points of the previous grid point only, with Adam in float64:
~190 s per network against ~17 s (median of the 40 stored networks, two at a time on 2
cores; ``benchmarks/stability_versions.py`` compares the two versions point by point).

Classification of a grid point:

``stable FP``
    some fixed point has spectral radius :math:`\rho(DW) < 1`;
``unstable focus``
    a fixed point with a complex-conjugate eigenvalue pair outside the unit circle
    (:math:`|\mu| > 1`, :math:`|\mathrm{Im}\,\mu| > ` ``imag_tol`` :math:`\cdot\max(1, |\mu|)`);
``NS candidate`` (the quasi-periodic, Neimark–Sacker candidate of issue 10)
    no stable fixed point exists and an unstable focus does;
``strict NS candidate``
    no stable fixed point exists and some fixed point's only unstable eigenvalues are one
    complex pair (the generic situation just past a Neimark–Sacker bifurcation).

Results are cached in the store (``data/analyses/<run_id>/stability-<key>/``) through
:meth:`lib.store.runs.Store.cached_analysis`, exactly as the orbit census is: keyed by the
:class:`StabilityConfig` and :data:`STABILITY_VERSION`, written atomically with checksums and
``meta.json`` (run id, parameters, wall time, ``weights_sha256``, provenance).
:func:`agreement` compares the NS candidates with the orbit census's ``has_qp``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lib.analysis.census import CensusConfig, initial_states, network_arrays, stimulus_inputs
from lib.analysis.dynamics import (
    ReLUFixedPoints,
    _dedup,
    leak_version,
    leaky_spectra,
    relu_eigvals,
)
from lib.analysis.stats import cohen_kappa
from lib.store.runs import Store, StoredRun, cached

__all__ = [
    "STABILITY_VERSION",
    "StabilityConfig",
    "agreement",
    "compute_stability",
    "fixed_point_rows",
    "grid_fixed_points",
    "stability_census",
    "stability_tables",
]

log = logging.getLogger(__name__)

#: Bump when the stability census changes what it computes. 2: the batched search with
#: continuation over the whole grid (:func:`grid_fixed_points`); 1: one grid point at a time.
STABILITY_VERSION = "2"

_C = "companion"


@dataclass(frozen=True)
class StabilityConfig:
    """Settings of a linear-stability census (stored with every result).

    Parameters
    ----------
    grid, coh_max : int, float
        The coherence grid, as in :class:`lib.analysis.census.CensusConfig` (the same grid by default).
    n_trial_states, trial_seed : int
        The census's initial states used as starts of the fixed-point search.
    n_starts : int
        Random starts per grid point, uniform in :math:`[0, 2\\max|c|]^n`.
    seed : int
        Seed of the random starts (grid point ``g`` uses ``seed + g``).
    n_iter, adam_iters : int
        Forward iterations and Adam steps of :func:`lib.analysis.dynamics.relu_fixed_points`.
    continuation : bool
        Propose every accepted pattern to the neighbouring grid points until no new fixed
        point appears (see :func:`grid_fixed_points`).
    adam_stride : int
        Adam runs from the starts of every ``adam_stride``-th grid point along each axis
        (1: all); the continuation carries what it finds to the others.
    newton_steps : int
        In the continuation, how many times a rejected pattern is replaced by the pattern of
        its own solution and tried again (0: exact patterns only).
    float32_search : bool
        Forward iteration and Adam in float32 (the exact solves stay float64).
    dedup_tol : float
        Relative distance under which two fixed points are the same.
    imag_tol : float
        An eigenvalue is complex when :math:`|\\mathrm{Im}\\,\\mu| > ` imag_tol
        :math:`\\cdot\\max(1, |\\mu|)`.
    """

    grid: int = field(
        default=21, metadata={"source": _C, "why": "the orbit census's grid (CensusConfig)"}
    )
    coh_max: float = field(
        default=50.0, metadata={"source": _C, "why": "the orbit census's grid (CensusConfig)"}
    )
    n_trial_states: int = field(
        default=3, metadata={"source": _C, "why": "the orbit census's initial states"}
    )
    trial_seed: int = field(
        default=2024, metadata={"source": _C, "why": "the orbit census's initial states"}
    )
    n_starts: int = field(
        default=4,
        metadata={
            "source": _C,
            "why": "random starts found no fixed point beyond those from the census states on "
            "16 sampled grid points (4, 8, 16 and 128 starts the same; measured with version "
            "1's search, whose Adam over every start took ~3.5 min per network)",
        },
    )
    seed: int = field(default=0, metadata={"source": _C, "why": "reproducible random starts"})
    n_iter: int = field(default=300, metadata={"source": _C, "why": "relu_fixed_points default"})
    adam_iters: int = field(
        default=300,
        metadata={
            "source": _C,
            "why": "relu_fixed_points default; 100 steps missed the unstable foci",
        },
    )
    continuation: bool = field(
        default=True,
        metadata={"source": _C, "why": "fixed points move continuously with the input"},
    )
    adam_stride: int = field(
        default=3,
        metadata={
            "source": _C,
            "why": "7 x 7 of the 21 x 21 points: on two stored networks (PPO and SL) strides "
            "1, 2 and 3 gave the same labels at every grid point, the continuation carrying "
            "the rest; Adam from every point was half the census's time",
        },
    )
    newton_steps: int = field(
        default=4,
        metadata={
            "source": _C,
            "why": "a fixed point whose region changes between neighbouring grid points is "
            "found again in 1-2 steps",
        },
    )
    float32_search: bool = field(
        default=True,
        metadata={
            "source": _C,
            "why": "the iterations only propose patterns, each solved exactly in float64",
        },
    )
    dedup_tol: float = field(
        default=1e-8, metadata={"source": _C, "why": "relu_fixed_points default"}
    )
    imag_tol: float = field(
        default=1e-9, metadata={"source": _C, "why": "far above eigvals round-off"}
    )

    def __post_init__(self) -> None:
        for name in ("n_trial_states", "n_starts", "n_iter", "adam_iters", "newton_steps"):
            v = getattr(self, name)
            if not (isinstance(v, int | np.integer) and v >= 0):
                raise ValueError(f"StabilityConfig.{name} must be an int >= 0, got {v!r}")
        if not (isinstance(self.adam_stride, int | np.integer) and self.adam_stride >= 1):
            raise ValueError(
                f"StabilityConfig.adam_stride must be an int >= 1, got {self.adam_stride!r}"
            )
        if not (self.dedup_tol > 0 and self.imag_tol >= 0):
            raise ValueError("StabilityConfig needs dedup_tol > 0 and imag_tol >= 0")
        _ = self.census_config  # validates grid and coh_max

    @property
    def census_config(self) -> CensusConfig:
        """The orbit-census settings with the same grid and initial states."""
        return CensusConfig(
            grid=self.grid,
            coh_max=self.coh_max,
            n_trial_states=self.n_trial_states,
            trial_seed=self.trial_seed,
        )

    @property
    def coherences(self) -> np.ndarray:
        """The grid's signed coherence values (percent), as the orbit census's."""
        return self.census_config.coherences

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields."""
        return dataclasses.asdict(self)


def fixed_point_rows(fps: ReLUFixedPoints, imag_tol: float) -> list[dict[str, Any]]:
    """One row per fixed point: its spectrum's summary.

    Parameters
    ----------
    fps : ReLUFixedPoints
        The fixed points of one input.
    imag_tol : float
        Complexity threshold (see :class:`StabilityConfig`).

    Returns
    -------
    list of dict
        ``n_active``, ``residual``, ``mean_rate``, ``spectral_radius``, ``leading_arg``
        (argument of the leading eigenvalue in [0, π]), ``leading_complex``, ``n_unstable``
        (eigenvalues with modulus > 1), ``n_unstable_complex``, ``stable``,
        ``unstable_focus`` (a complex pair outside the unit circle), ``leading_unstable_complex``
        (unstable and its leading eigenvalue complex) and ``pure_focus`` (the only unstable
        eigenvalues are one complex pair).
    """
    rows = []
    for i in range(len(fps)):
        ev = np.asarray(fps.eigenvalues[i], dtype=complex)
        mod = np.abs(ev)
        cplx = np.abs(ev.imag) > imag_tol * np.maximum(1.0, mod)
        unstable = mod > 1.0
        lead = ev[np.argmax(mod)] if ev.size else 0j
        lead_cplx = bool(ev.size and cplx[np.argmax(mod)])
        rad = float(fps.spectral_radius[i])
        if rad > (mod.max() if ev.size else 0.0):  # a leak's 1 - alpha of the inactive units
            lead, lead_cplx = complex(rad), False
        n_unst, n_unst_c = int(unstable.sum()), int((unstable & cplx).sum())
        rows.append(
            {
                "n_active": int(fps.patterns[i].sum()),
                "residual": float(fps.residual[i]),
                "mean_rate": float(fps.points[i].mean()),
                "spectral_radius": rad,
                "leading_arg": float(abs(np.angle(lead))),
                "leading_complex": lead_cplx,
                "n_unstable": n_unst,
                "n_unstable_complex": n_unst_c,
                "stable": bool(fps.stable[i]),
                "unstable_focus": n_unst_c >= 2,
                "leading_unstable_complex": bool(rad > 1.0 and lead_cplx),
                "pure_focus": bool(n_unst == 2 and n_unst_c == 2),
            }
        )
    return rows


def _adam_patterns(W: np.ndarray, C: np.ndarray, S: np.ndarray, iters: int, dtype) -> np.ndarray:
    r"""The activation patterns where Adam on :math:`\tfrac12\|\mathrm{ReLU}(Wh+c)-h\|^2`
    ends after ``iters`` steps from the rows of ``S``, row ``r`` with input ``C[r]`` (as
    :func:`lib.analysis.dynamics.adam_fixed_points`, lr 1e-2; Adam is elementwise, so the
    batch is the same as one search per row). The pattern is read in float64."""
    import torch

    tdt = torch.float32 if dtype == np.float32 else torch.float64
    Wt = torch.as_tensor(W, dtype=tdt)
    Ct = torch.as_tensor(C, dtype=tdt)
    h = torch.tensor(S, dtype=tdt, requires_grad=True)
    opt = torch.optim.Adam([h], lr=1e-2)
    for _ in range(iters):
        q = 0.5 * ((torch.relu(h @ Wt.T + Ct) - h) ** 2).sum()
        opt.zero_grad()
        q.backward()
        opt.step()
    hA = h.detach().double().numpy()
    return (hA @ W.T + C) > 0


def _pattern_keys(P: np.ndarray) -> np.ndarray:
    """One hashable key (bytes) per boolean pattern row."""
    packed = np.packbits(P, axis=1)
    return np.array([r.tobytes() for r in packed], dtype=object)


def grid_fixed_points(
    W: np.ndarray,
    C: np.ndarray,
    H0: np.ndarray,
    cfg: StabilityConfig,
    shape: tuple[int, int],
    *,
    alpha: float = 1.0,
    seeds: np.ndarray | None = None,
) -> list[ReLUFixedPoints]:
    r"""Exact fixed points of :math:`h = \mathrm{ReLU}(W h + c_g)` at every point g of a
    grid, searched for the whole grid at once (see the module docstring, steps 1–4).

    Parameters
    ----------
    W : ndarray (n, n)
        Recurrent weights.
    C : ndarray (P, n)
        The input of each grid point, row-major over ``shape``.
    H0 : ndarray (S, n)
        Starts shared by every grid point (the census's initial states); the zero state and
        ``cfg.n_starts`` random states per point are added.
    cfg : StabilityConfig
        ``n_starts``, ``n_iter``, ``adam_iters``, ``continuation``, ``dedup_tol``,
        ``float32_search``.
    shape : (int, int)
        The grid, ``P = shape[0] * shape[1]``; neighbours differ by one in one index.
    alpha : float
        The leak (forward iteration and Jacobian as in
        :func:`lib.analysis.dynamics.relu_fixed_points`).
    seeds : ndarray (P,), optional
        Seed of each point's random starts (default ``cfg.seed + g``).

    Returns
    -------
    list of ReLUFixedPoints
        One per grid point, patterns in lexicographic order, duplicates merged.
    """
    W = np.asarray(W, dtype=float)
    C = np.asarray(C, dtype=float)
    P, n = C.shape
    if P != shape[0] * shape[1]:
        raise ValueError(f"{P} inputs for a {shape[0]} x {shape[1]} grid")
    seeds = np.asarray(seeds if seeds is not None else cfg.seed + np.arange(P))
    H0 = np.atleast_2d(np.asarray(H0, dtype=float)).reshape(-1, n)
    starts, owner = [], []
    for g in range(P):
        sg = [np.zeros((1, n)), H0]
        if cfg.n_starts > 0:
            scale = max(1.0, 2 * float(np.abs(C[g]).max()))
            sg.append(np.random.default_rng(int(seeds[g])).uniform(0, scale, (cfg.n_starts, n)))
        sg = np.concatenate(sg, 0)
        starts.append(sg)
        owner.append(np.full(len(sg), g))
    S, own = np.concatenate(starts, 0), np.concatenate(owner)
    dt = np.float32 if cfg.float32_search else np.float64
    Wd, Cr = W.astype(dt), C[own].astype(dt)

    # 1. forward iteration (the patterns of its last three steps); a row that has stopped
    # moving (no unit moves by more than 1e-6 of the state's size in float32, 1e-12 in
    # float64) has reached a fixed point: its pattern is recorded and it leaves the batch
    cand_g, cand_p = [np.arange(P)], [np.zeros((P, n), dtype=bool)]
    h, rows = S.astype(dt), np.arange(len(S))
    tol = 1e-6 if dt == np.float32 else 1e-12
    for t in range(cfg.n_iter):
        pre = h @ Wd.T + Cr[rows]
        if t >= cfg.n_iter - 3:
            cand_g.append(own[rows])
            cand_p.append(pre > 0)
        r = np.maximum(pre, 0)
        h_next = r if alpha == 1.0 else (1 - alpha) * h + alpha * r
        if not np.all(np.isfinite(h_next)):
            h_next = np.where(np.isfinite(h_next), h_next, 0.0).astype(dt)
        if t % 10 == 9 and t < cfg.n_iter - 3:
            still = np.abs(h_next - h).max(1) <= tol * (1 + np.abs(h).max(1))
            if still.any():
                cand_g.append(own[rows[still]])
                cand_p.append(pre[still] > 0)
                rows, h_next = rows[~still], h_next[~still]
        h = h_next
        if not len(rows):
            break
    # 2. Adam from the same starts
    if cfg.adam_iters > 0:  # at every adam_stride-th grid point along each axis
        i_own, j_own = np.divmod(own, shape[1])
        on = (i_own % cfg.adam_stride == 0) & (j_own % cfg.adam_stride == 0)
        cand_g.append(own[on])
        cand_p.append(_adam_patterns(W, C[own[on]], S[on], cfg.adam_iters, dt))
    gs, pats = np.concatenate(cand_g), np.concatenate(cand_p, 0)

    eye = np.eye(n)
    tried: set[tuple[int, bytes]] = set()
    found: dict[int, dict[bytes, np.ndarray]] = {g: {} for g in range(P)}
    pattern_of: dict[bytes, np.ndarray] = {}
    lu_cache: dict[bytes, Any] = {}

    def solve(
        proposals: dict[bytes, list[int]], keep_lu: bool
    ) -> tuple[list[tuple[int, bytes]], list[tuple[int, np.ndarray]]]:
        """3. Solve each pattern for all its grid points. Returns the accepted (g, key) pairs
        and, for the rejected ones, (g, the pattern that the solution itself has)."""
        from scipy.linalg import lu_factor, lu_solve

        new, rejected = [], []
        for key, glist in proposals.items():
            D = pattern_of[key]
            rhs = (C[glist] * D).T
            with np.errstate(all="ignore"):
                try:
                    lu = lu_cache.get(key)
                    if lu is None:
                        lu = lu_factor(eye - D[:, None] * W, check_finite=False)
                        if keep_lu:
                            lu_cache[key] = lu
                    H = lu_solve(lu, rhs, check_finite=False).T
                except (np.linalg.LinAlgError, ValueError):
                    continue
                if not np.all(np.isfinite(lu[0].diagonal())) or np.any(lu[0].diagonal() == 0):
                    continue
                pre = H @ W.T + C[glist]
                slack = 1e-9 * (1 + np.abs(pre))
                fin = np.all(np.isfinite(H), 1)
                ok = fin & np.all(np.where(D, pre >= -slack, pre <= slack), 1)
            for g, hg, good, pg, f in zip(glist, H, ok, pre, fin, strict=True):
                if good:
                    found[g][key] = np.maximum(hg, 0.0)
                    new.append((g, key))
                elif f:
                    rejected.append((g, pg > 0))
        return new, rejected

    def propose(items: list[tuple[int, np.ndarray]]) -> dict[bytes, list[int]]:
        """Group (g, pattern) pairs not tried yet by pattern."""
        out: dict[bytes, list[int]] = {}
        if not items:
            return out
        ks = _pattern_keys(np.array([q for _, q in items], dtype=bool))
        for (g, q), k in zip(items, ks, strict=True):
            if (g, k) in tried:
                continue
            tried.add((g, k))
            pattern_of.setdefault(k, q)
            out.setdefault(k, []).append(g)
        return out

    new, _ = solve(propose([(int(g), q) for g, q in zip(gs, pats, strict=True)]), keep_lu=False)
    # 4. continuation: every accepted pattern proposed to the neighbouring grid points; where
    # it is rejected, the pattern its solution has there is tried next (a Newton step of the
    # piecewise-linear map), at most ``newton_steps`` times
    G1, G2 = shape
    while cfg.continuation and new:
        items = []
        for g, k in new:
            i, j = divmod(g, G2)
            for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
                if 0 <= a < G1 and 0 <= b < G2:
                    items.append((a * G2 + b, pattern_of[k]))
        new, rejected = solve(propose(items), keep_lu=True)
        for _ in range(cfg.newton_steps):
            if not rejected:
                break
            more, rejected = solve(propose(rejected), keep_lu=False)
            new += more

    eig_cache: dict[bytes, np.ndarray] = {}
    out = []
    for g in range(P):
        ks = sorted(found[g], key=lambda k: tuple(pattern_of[k]))  # as np.unique orders them
        Pg = np.array([pattern_of[k] for k in ks], dtype=bool).reshape(-1, n)
        Hg = np.array([found[g][k] for k in ks], dtype=float).reshape(-1, n)
        keep = _dedup(Hg, cfg.dedup_tol)
        Pg, Hg, ks = Pg[keep], Hg[keep], [ks[i] for i in keep]
        for k, pk in zip(ks, Pg, strict=True):
            if k not in eig_cache:
                eig_cache[k] = relu_eigvals(W, pk[None])[0]
        ev = [eig_cache[k] for k in ks]
        res = (
            np.linalg.norm(np.maximum(Hg @ W.T + C[g], 0) - Hg, axis=1) if len(Hg) else np.zeros(0)
        )
        ev, rad = leaky_spectra(ev, Pg, alpha)
        out.append(
            ReLUFixedPoints(
                points=Hg,
                patterns=Pg,
                residual=res,
                eigenvalues=ev,
                stable=rad < 1,
                spectral_radius=rad,
            )
        )
    return out


def _grid_row(base: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    stable = any(r["stable"] for r in rows)
    focus = any(r["unstable_focus"] for r in rows)
    rad = [r["spectral_radius"] for r in rows]
    return {
        **base,
        "n_fixed": len(rows),
        "n_stable": sum(r["stable"] for r in rows),
        "n_unstable_focus": sum(r["unstable_focus"] for r in rows),
        "has_stable_fp": stable,
        "has_unstable_focus": focus,
        "ns_candidate": (not stable) and focus,
        "ns_strict": (not stable) and any(r["pure_focus"] for r in rows),
        "min_spectral_radius": min(rad) if rad else np.nan,
    }


def stability_tables(
    arrays: Mapping[str, np.ndarray],
    states: Mapping[int, np.ndarray],
    cfg: StabilityConfig | None = None,
    semantics: str = "neurogym1",
) -> dict[str, pd.DataFrame]:
    """The linear-stability census of a network given as arrays (no store, no run).

    Parameters
    ----------
    arrays : mapping
        ``W_rec (n, n)``, ``W_in (n, 7)`` and ``b (n,)`` (e.g. :func:`lib.analysis.census.network_arrays`);
        optionally ``alpha``, the leak (1 when absent), which sets the Jacobian's stability.
    states : mapping
        Per context (0, 1) the census's initial states ``(S, n)``, starts of the search
        (e.g. :func:`lib.analysis.census.initial_states`; the task enters only through them).
    cfg : StabilityConfig, optional
        Settings (default ones if omitted).
    semantics : str
        The task semantics the network was trained with (its input encoding).

    Returns
    -------
    dict of DataFrames
        ``fixed_points``: one row per (context, c1, c2, fixed point), see
        :func:`fixed_point_rows`; ``grid``: one row per grid point with ``n_fixed``,
        ``n_stable``, ``n_unstable_focus``, ``has_stable_fp``, ``has_unstable_focus``,
        ``ns_candidate``, ``ns_strict`` and ``min_spectral_radius``. Contexts are numbered
        1 and 2 as in the orbit census.
    """
    cfg = cfg or StabilityConfig()
    W, Win, b = (np.asarray(arrays[k], dtype=float) for k in ("W_rec", "W_in", "b"))
    alpha = float(arrays.get("alpha", 1.0))
    cohs = cfg.coherences
    G = len(cohs)
    fp_rows: list[dict[str, Any]] = []
    grid_rows: list[dict[str, Any]] = []
    gi, gj = (a.ravel() for a in np.meshgrid(np.arange(G), np.arange(G), indexing="ij"))
    for ctx in (0, 1):
        H0 = np.atleast_2d(np.asarray(states[ctx], dtype=float))
        C = stimulus_inputs(ctx, cohs[gi], cohs[gj], "stimulus", semantics) @ Win.T + b
        fps_grid = grid_fixed_points(
            W, C, H0, cfg, (G, G), alpha=alpha, seeds=cfg.seed + gi * G + gj
        )
        for g, fps in enumerate(fps_grid):
            base = {"context": ctx + 1, "c1": float(cohs[gi[g]]), "c2": float(cohs[gj[g]])}
            rows = fixed_point_rows(fps, cfg.imag_tol)
            fp_rows += [{**base, "index": k, **r} for k, r in enumerate(rows)]
            grid_rows.append(_grid_row(base, rows))
        log.info("stability census: context %d done (%d grid points)", ctx + 1, G * G)
    fp_cols = ["context", "c1", "c2", "index", *_FP_COLUMNS]
    return {
        "fixed_points": pd.DataFrame(fp_rows, columns=fp_cols),
        "grid": pd.DataFrame(grid_rows),
    }


_FP_COLUMNS = (
    "n_active",
    "residual",
    "mean_rate",
    "spectral_radius",
    "leading_arg",
    "leading_complex",
    "n_unstable",
    "n_unstable_complex",
    "stable",
    "unstable_focus",
    "leading_unstable_complex",
    "pure_focus",
)


def compute_stability(run: StoredRun, cfg: StabilityConfig) -> dict[str, pd.DataFrame]:
    """The linear-stability census of one stored network (no caching); see
    :func:`stability_census`."""
    cc = cfg.census_config
    states = {ctx: initial_states(run, ctx, cc.n_trial_states, cc.trial_seed) for ctx in (0, 1)}
    arrays = {**network_arrays(run), "alpha": np.float64(run.spec.network.alpha)}
    return stability_tables(arrays, states, cfg, run.spec.task.semantics)


def stability_census(
    run: StoredRun,
    cfg: StabilityConfig | None = None,
    store: Store | None = None,
    *,
    compute: bool = True,
) -> dict[str, pd.DataFrame]:
    """The linear-stability census of one network, from the store's cache or computed (and
    cached under ``analyses/<run id>/stability-<key>/``).

    Parameters
    ----------
    run : StoredRun
        The network.
    cfg : StabilityConfig, optional
        Settings (default ones if omitted); with :data:`STABILITY_VERSION` they are the key.
    store : Store, optional
        The store (default: the run's own).
    compute : bool
        With ``False`` a missing entry raises ``FileNotFoundError`` (see
        :meth:`lib.store.runs.Store.cached_analysis`).

    Returns
    -------
    dict of DataFrames
        ``fixed_points`` and ``grid``, see :func:`stability_tables`.
    """
    cfg = cfg or StabilityConfig()
    return cached(
        run,
        store,
        "stability",
        leak_version(STABILITY_VERSION, run.spec.network.alpha),
        "stability",
        cfg,
        compute_stability,
        compute,
    )


def agreement(
    stability_grid: pd.DataFrame,
    orbit_grid: pd.DataFrame,
    *,
    predictor: str = "ns_candidate",
    reference: str = "has_qp",
) -> dict[str, float]:
    """Agreement of the NS candidates with the orbit census's quasi-periodic points.

    Parameters
    ----------
    stability_grid : DataFrame
        The ``grid`` table of :func:`stability_census` (one network).
    orbit_grid : DataFrame
        The ``grid`` table of :func:`lib.analysis.census.census` of the same network and grid.
    predictor, reference : str
        Boolean columns compared (default: NS candidate vs ``has_qp``).

    Returns
    -------
    dict
        The 2 × 2 table ``both`` (NS and QP), ``ns_only``, ``qp_only``, ``neither``; ``n``,
        ``accuracy`` and Cohen's kappa (NaN when chance agreement is 1, i.e. both columns
        constant and equal).

    Raises
    ------
    ValueError
        If the two grids do not hold the same points.
    """
    keys = ["context", "c1", "c2"]

    def keyed(df: pd.DataFrame, col: str) -> pd.DataFrame:
        out = df[keys + [col]].copy()
        out["c1"], out["c2"] = out["c1"].round(9), out["c2"].round(9)
        out[col] = out[col].astype(bool)
        return out

    a, o = keyed(stability_grid, predictor), keyed(orbit_grid, reference)
    m = a.merge(o, on=keys, how="inner", suffixes=("_s", "_o"))
    if not (len(m) == len(a) == len(o)) or a.duplicated(keys).any():
        raise ValueError(
            f"the grids differ: {len(a)} stability points, {len(o)} orbit points, "
            f"{len(m)} in common"
        )
    p = m[predictor + "_s" if predictor == reference else predictor].to_numpy(bool)
    r = m[reference + "_o" if predictor == reference else reference].to_numpy(bool)
    n = len(m)
    both, ns_only = int((p & r).sum()), int((p & ~r).sum())
    qp_only, neither = int((~p & r).sum()), int((~p & ~r).sum())
    po, kappa = cohen_kappa(p, r)
    return {
        "both": both,
        "ns_only": ns_only,
        "qp_only": qp_only,
        "neither": neither,
        "n": n,
        "accuracy": float(po),
        "kappa": float(kappa),
    }
