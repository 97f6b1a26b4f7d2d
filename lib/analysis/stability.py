r"""Linear-stability census of coherence space: exact fixed points and their Jacobian spectra.

The alternative, named in the paper, to the orbit census (:func:`lib.analysis.census.census`). On the
same grid of signed coherences, both contexts, with the same noise-free stimulus-period input
(:func:`lib.analysis.census.stimulus_inputs`), the network is the autonomous piecewise-linear map
:math:`h \mapsto \mathrm{ReLU}(W_{rec} h + c)`. Instead of following orbits, every grid point's
exact fixed points are found (:func:`lib.analysis.dynamics.relu_fixed_points`: candidate activation
patterns D from forward iteration and a short Adam minimisation of
:math:`\tfrac12\|F(h)-h\|^2`, each pattern solved exactly, :math:`(I - DW)h = Dc`, and kept
only when it reproduces its own pattern) together with the spectrum of their Jacobian
:math:`D W_{rec}`.

Starts of the search at each grid point (:class:`StabilityConfig`): the zero state, the
census's own initial states (:func:`lib.analysis.census.initial_states`: the state at stimulus onset
and ``n_trial_states`` states of real trials at the end of the stimulus period), the fixed
points found at the neighbouring grid point (continuation along the grid, when
``continuation``), and ``n_starts`` random states uniform in :math:`[0, 2\max|c|]^n`.

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
from lib.analysis.dynamics import ReLUFixedPoints, leak_version, relu_fixed_points
from lib.analysis.stats import cohen_kappa
from lib.store.runs import Store, StoredRun, cached

__all__ = [
    "STABILITY_VERSION",
    "StabilityConfig",
    "agreement",
    "compute_stability",
    "fixed_point_rows",
    "stability_census",
    "stability_tables",
]

log = logging.getLogger(__name__)

#: Bump when the stability census changes what it computes.
STABILITY_VERSION = "1"

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
        Also start from the fixed points found at the neighbouring grid point.
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
            "16 sampled grid points (4, 8, 16 and 128 starts the same); Adam over the starts "
            "dominates the cost (~0.2 s per grid point, ~3.5 min per network, one thread)",
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
    dedup_tol: float = field(
        default=1e-8, metadata={"source": _C, "why": "relu_fixed_points default"}
    )
    imag_tol: float = field(
        default=1e-9, metadata={"source": _C, "why": "far above eigvals round-off"}
    )

    def __post_init__(self) -> None:
        for name in ("n_trial_states", "n_starts", "n_iter", "adam_iters"):
            v = getattr(self, name)
            if not (isinstance(v, int | np.integer) and v >= 0):
                raise ValueError(f"StabilityConfig.{name} must be an int >= 0, got {v!r}")
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
    for ctx in (0, 1):
        H0 = np.atleast_2d(np.asarray(states[ctx], dtype=float))
        found: dict[tuple[int, int], np.ndarray] = {}
        for i in range(G):
            for j in range(G):
                c = (stimulus_inputs(ctx, [cohs[i]], [cohs[j]], "stimulus", semantics) @ Win.T + b)[
                    0
                ]
                cands = [H0]
                prev = (i, j - 1) if j > 0 else (i - 1, 0)
                if cfg.continuation and prev in found and len(found[prev]):
                    cands.append(found[prev])
                fps = relu_fixed_points(
                    W,
                    c,
                    np.concatenate(cands, 0),
                    n_starts=cfg.n_starts,
                    seed=cfg.seed + i * G + j,
                    n_iter=cfg.n_iter,
                    adam_iters=cfg.adam_iters,
                    dedup_tol=cfg.dedup_tol,
                    alpha=alpha,
                )
                found[(i, j)] = fps.points
                base = {"context": ctx + 1, "c1": float(cohs[i]), "c2": float(cohs[j])}
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
