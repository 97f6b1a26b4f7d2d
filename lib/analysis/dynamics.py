r"""Attractors of discrete-time maps: classification, Lyapunov spectra, exact ReLU fixed points.

With the stimulus held constant a trained network is an autonomous map
:math:`h \mapsto F(h) = \mathrm{ReLU}(W h + c)`. This module classifies where its orbits go,
for any batched map so that it can be checked on classic systems first.

Classification of one orbit (:func:`classify_orbits`), after ``n_transient`` steps:

``divergent``
    the state left ``div_threshold`` or became non-finite;
``fixed_point`` / ``periodic``
    :math:`\|x_{t} - x_{t-p}\| \le \text{atol} + \text{rtol}\,\|x_t\|` on the last
    ``n_period_checks`` steps for some :math:`p \le` ``max_period`` (smallest such p); the
    exponents are then exact: :math:`\lambda_i = \frac1p \log|\mu_i|` with :math:`\mu_i` the
    eigenvalues of the Jacobian product around the cycle;
``chaotic``
    largest exponent :math:`\lambda_1 > ` ``lyap_tol``;
``quasi_periodic``
    bounded, not periodic, :math:`|\lambda_1| \le` ``lyap_tol``, :math:`\lambda_2 <
    -`\ ``lyap_tol``, the weighted Birkhoff averages of smooth observables converge fast
    (``birkhoff_digits``; Das, Saiki, Sander & Yorke 2017: super-polynomially on
    quasi-periodic orbits, like :math:`N^{-1/2}` on chaotic ones) and the rotation number is
    irrational (farther than ``rational_tol`` from every p/q with q ≤ ``max_period``);
``unclassified``
    none of the above (reported, never forced into a class).

Exponents of non-periodic orbits come from the QR (Benettin) method over ``n_record`` steps:
:math:`Z = J(x_t) Q_t`, :math:`Z = Q_{t+1} R_t`, :math:`\lambda_i = \frac1T \sum_t \log|R_{t,ii}|`.

For ReLU networks the Jacobian :math:`D(h) W` with :math:`D = \mathrm{diag}(W h + c > 0)` is
exact inside an activation region, so fixed points are found exactly
(:func:`relu_fixed_points`): solve :math:`(I - D W) h = D c` per candidate pattern and accept
a solution only when it reproduces its own pattern.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lib.core.network import ReLUMap

__all__ = [
    "KINDS",
    "OrbitConfig",
    "OrbitRecord",
    "ReLUFixedPoints",
    "adam_fixed_points",
    "birkhoff_digits",
    "classify_orbits",
    "lyapunov_spectrum_qr",
    "leak_version",
    "label_recorded_orbit",
    "leaky_spectra",
    "relu_fixed_points",
    "relu_map",
    "rotation_number",
    "weighted_birkhoff",
]

KINDS = ("fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent", "unclassified")

Array = np.ndarray
StepFn = Callable[[Array], Array]


@dataclass(frozen=True)
class OrbitConfig:
    """Every setting of the orbit classifier, with its default.

    Parameters
    ----------
    n_transient : int
        Steps discarded before anything is measured.
    n_record : int
        Recorded steps (Lyapunov exponents, Birkhoff averages, rotation number); even.
    max_period : int
        Longest cycle looked for; also the largest denominator of the rationality test.
    n_exponents : int
        Number of leading Lyapunov exponents computed.
    period_rtol, period_atol : float
        Tolerance of the periodicity test :math:`\\|x_t - x_{t-p}\\| \\le atol + rtol \\|x_t\\|`.
    n_period_checks : int
        Consecutive steps over which periodicity must hold.
    lyap_tol : float
        Exponents within ``lyap_tol`` of 0 count as zero (per step).
    div_threshold : float
        Max-norm beyond which an orbit is divergent.
    escape_norm, escape_growth, escape_every : float, float, int
        Early escape test: an orbit whose max-norm exceeds ``escape_norm`` and has grown by
        at least ``escape_growth`` over each of the last two windows of ``escape_every``
        steps is divergent (for a piecewise-linear map, far from the origin the input no
        longer matters and the growth of the homogeneous map goes on).
    birkhoff_digits : float
        Digits of agreement between the weighted Birkhoff averages of the two halves of the
        record (relative to the observable's sd) required for quasi-periodicity.
    rational_tol : float
        Rotation numbers closer than this to p/q (q ≤ ``max_period``) count as rational.
    n_observables : int
        Random linear observables used by the Birkhoff test and the rotation-number plane.
    n_points : int
        Representative points kept per orbit.
    seed : int
        Seed of the random tangent vectors and observables.
    """

    n_transient: int = 1000
    n_record: int = 2000
    max_period: int = 64
    n_exponents: int = 3
    period_rtol: float = 1e-7
    period_atol: float = 1e-9
    n_period_checks: int = 8
    lyap_tol: float = 5e-3
    div_threshold: float = 1e6
    escape_norm: float = 100.0
    escape_growth: float = 1.5
    escape_every: int = 50
    birkhoff_digits: float = 3.0
    rational_tol: float = 1e-5
    n_observables: int = 8
    n_points: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        for name in (
            "n_record",
            "max_period",
            "n_exponents",
            "n_period_checks",
            "n_observables",
            "n_points",
        ):
            v = getattr(self, name)
            if not (isinstance(v, int | np.integer) and v >= 1):
                raise ValueError(f"OrbitConfig.{name} must be an int >= 1, got {v!r}")
        if not (isinstance(self.n_transient, int | np.integer) and self.n_transient >= 0):
            raise ValueError(
                f"OrbitConfig.n_transient must be an int >= 0, got {self.n_transient!r}"
            )
        if self.n_record < 2 * (self.max_period + self.n_period_checks):
            raise ValueError(
                "OrbitConfig.n_record must be at least 2 * (max_period + n_period_checks)"
            )
        for name in ("period_rtol", "period_atol", "lyap_tol", "rational_tol"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"OrbitConfig.{name} must be >= 0, got {getattr(self, name)!r}")
        if not self.div_threshold > 0:
            raise ValueError("OrbitConfig.div_threshold must be > 0")
        if not (self.escape_norm > 0 and self.escape_growth > 1 and self.escape_every >= 1):
            raise ValueError(
                "OrbitConfig needs escape_norm > 0, escape_growth > 1, escape_every >= 1"
            )

    def to_dict(self) -> dict:
        """JSON-friendly dict of all fields."""
        return dataclasses.asdict(self)


@dataclass
class OrbitRecord:
    """What was measured on one orbit, so that a reader can check the verdict.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    lyapunov : array
        Leading exponents (natural log per step), descending.
    period : int or None
        Cycle length (1 for a fixed point).
    rotation_number : float or None
        In [0, 1/2] (orientation of the projection plane is arbitrary), for
        non-periodic bounded orbits.
    birkhoff_digits : float or None
        Agreement of the weighted Birkhoff averages of the two record halves.
    points : array ``(k, n)``
        Representative points (the cycle, or states spread over the record).
    max_norm : float
        Largest max-norm seen in the record.
    residual : float
        ``|F(x) - x|`` at a fixed point after the census's exact solve (NaN otherwise).
    n_initial_states : int
        How many initial states reached this attractor (set by the census's deduplication).
    """

    kind: str
    lyapunov: Array
    period: int | None = None
    rotation_number: float | None = None
    birkhoff_digits: float | None = None
    points: Array = field(default_factory=lambda: np.empty((0, 0)))
    max_norm: float = float("nan")
    residual: float = float("nan")
    n_initial_states: int = 1


# ---------------------------------------------------------------------------------------------
# building blocks


def _mgs(Z: Array) -> tuple[Array, Array]:
    """Batched modified Gram-Schmidt (applied twice) of the rows of ``Z (B, k, n)``.

    Returns Q with orthonormal rows and |diag R|. A direction annihilated by the map (dead
    ReLU units make J singular) gets |R_jj| = 1e-300 and a fresh orthogonal vector.
    """
    B, k, n = Z.shape
    Q = np.empty_like(Z)
    r = np.empty((B, k))
    for j in range(k):
        v = Z[:, j].copy()
        for _ in range(2):
            for i in range(j):
                v -= np.einsum("bn,bn->b", Q[:, i], v)[:, None] * Q[:, i]
        nv = np.sqrt(np.einsum("bn,bn->b", v, v))
        tiny = nv < 1e-300
        if tiny.any():
            w = np.random.default_rng(j).standard_normal((int(tiny.sum()), n))
            for _ in range(2):
                for i in range(j):
                    qi = Q[tiny, i]
                    w -= np.einsum("bn,bn->b", qi, w)[:, None] * qi
            v[tiny] = w / np.linalg.norm(w, axis=1, keepdims=True)
            nv_div = np.where(tiny, 1.0, nv)
            nv = np.where(tiny, 1e-300, nv)
        else:
            nv_div = nv
        Q[:, j] = v / nv_div[:, None]
        r[:, j] = nv
    return Q, r


def _initial_tangent(B: int, n: int, k: int, seed: int) -> Array:
    """Random orthonormal tangent vectors as rows, ``(B, k, n)``."""
    rng = np.random.default_rng(seed)
    Q, _ = _mgs(rng.standard_normal((B, k, n)))
    return Q


def lyapunov_spectrum_qr(
    step: StepFn,
    jacobian: Callable[[Array], Array],
    x0: Array,
    n_steps: int,
    k: int,
    *,
    jvp: Callable[[Array, Array], Array] | None = None,
    seed: int = 0,
) -> Array:
    """Leading ``k`` Lyapunov exponents by the QR (Benettin) method, from ``x0`` on.

    Parameters
    ----------
    step : (B, n) -> (B, n)
    jacobian : (B, n) -> (B, n, n)
    x0 : array ``(B, n)``
    n_steps : int
        Steps averaged over (no transient is discarded).
    k : int
        Number of exponents (``k <= n``).
    jvp : (x, Q) -> J(x) Q, optional
        Faster tangent map; defaults to ``jacobian(x) @ Q``.

    Returns
    -------
    array ``(B, k)``, descending.
    """
    x = np.array(x0, dtype=float)
    B, n = x.shape
    k = min(k, n)
    if jvp is None:
        jvp = lambda xx, Q: jacobian(xx) @ Q  # noqa: E731
    Q = _initial_tangent(B, n, k, seed)  # rows
    acc = np.zeros((B, k))
    for _ in range(n_steps):
        Q, r = _mgs(jvp(x, Q.transpose(0, 2, 1)).transpose(0, 2, 1))
        acc += np.log(r)
        x = step(x)
    return -np.sort(-acc / n_steps, axis=1)


def _bump_weights(N: int) -> Array:
    t = (np.arange(N) + 1) / (N + 1)
    w = np.exp(-1.0 / (t * (1 - t)))
    return w / w.sum()


def weighted_birkhoff(f: Array, axis: int = -1) -> Array:
    """Weighted Birkhoff average :math:`\\sum_n w(n/N) f_n / \\sum_n w(n/N)` with the bump
    :math:`w(t) = \\exp(-1/(t(1-t)))` (Das, Saiki, Sander & Yorke 2017)."""
    f = np.moveaxis(np.asarray(f, dtype=float), axis, -1)
    return f @ _bump_weights(f.shape[-1])


def birkhoff_digits(f: Array, axis: int = -1) -> Array:
    """Digits of agreement of the weighted Birkhoff averages of the two halves of ``f``.

    :math:`-\\log_{10}(|WB_1 - WB_2| / \\mathrm{sd}(f))`, capped at 16. Large (> 8) on
    quasi-periodic orbits of smooth maps, about 1-3 on chaotic ones.
    """
    f = np.moveaxis(np.asarray(f, dtype=float), axis, -1)
    N = f.shape[-1] // 2
    a, b = weighted_birkhoff(f[..., :N]), weighted_birkhoff(f[..., N : 2 * N])
    sd = f.std(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = -np.log10(np.abs(a - b) / np.where(sd > 0, sd, 1.0))
    return np.minimum(np.where(np.isfinite(d), d, 16.0), 16.0)


def rotation_number(y: Array) -> tuple[float, float]:
    """Rotation number of a planar orbit ``y (T, d)`` around its centre, in [0, 1/2].

    The orbit is projected on its two leading principal components; the angle increments
    around the centroid, wrapped to (−π, π], are averaged with the weighted Birkhoff average.
    Returns (rotation number, Birkhoff digits of the increments).
    """
    y = np.asarray(y, dtype=float)
    yc = y - y.mean(0)
    if yc.shape[1] > 2:
        _, _, vt = np.linalg.svd(yc[:: max(1, len(yc) // 500)], full_matrices=False)
        yc = yc @ vt[:2].T
    theta = np.arctan2(yc[:, 1], yc[:, 0])
    dth = np.angle(np.exp(1j * np.diff(theta)))
    rho = float(weighted_birkhoff(dth) / (2 * np.pi)) % 1.0
    return min(rho, 1.0 - rho), float(birkhoff_digits(dth))


def _is_rational(rho: float, qmax: int, tol: float) -> bool:
    q = np.arange(1, qmax + 1)
    return bool(np.any(np.abs(rho * q - np.round(rho * q)) / q <= tol))


# ---------------------------------------------------------------------------------------------
# the classifier


def _resolve(config: OrbitConfig | None, overrides: dict) -> OrbitConfig:
    cfg = config or OrbitConfig()
    if overrides:
        unknown = set(overrides) - {f.name for f in dataclasses.fields(OrbitConfig)}
        if unknown:
            raise TypeError(f"unknown OrbitConfig settings: {sorted(unknown)}")
        cfg = dataclasses.replace(cfg, **overrides)
    return cfg


def classify_orbits(
    step: StepFn,
    jacobian: Callable[[Array], Array],
    x0: Array,
    config: OrbitConfig | None = None,
    *,
    jvp: Callable[[Array, Array], Array] | None = None,
    eigvals: Callable[[Array], list[Array]] | None = None,
    **overrides,
) -> list[OrbitRecord]:
    """Classify the attractor reached from each initial state of a batched map.

    Parameters
    ----------
    step : (B, n) -> (B, n)
        The map, applied row-wise: it must accept any batch size (rows are independent and
        share the map's parameters).
    jacobian : (B, n) -> (B, n, n)
        Its Jacobian.
    x0 : array ``(B, n)``
        Initial states.
    config : OrbitConfig, optional
        Settings; single fields can also be overridden by keyword.
    jvp : (x, Q) -> J(x) Q, optional
        Faster tangent map for the Lyapunov exponents.
    eigvals : states (m, n) -> list of eigenvalue arrays, optional
        Faster Jacobian eigenvalues at fixed points (used for exact exponents).

    Returns
    -------
    list of OrbitRecord, one per initial state.
    """
    cfg = _resolve(config, overrides)
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (B, n), got {x0.shape}")
    tangent = jvp if jvp is not None else (lambda x, Q: jacobian(x) @ Q)

    def advance(x: Array, Qr: Array, idx: Array) -> tuple[Array, Array]:
        Z = tangent(x, Qr.transpose(0, 2, 1)).transpose(0, 2, 1)
        return step(x), Z

    return _classify(
        lambda x, idx: step(x),
        advance,
        lambda x, idx: jacobian(x),
        x0,
        cfg,
        (lambda X, idx: eigvals(X)) if eigvals is not None else None,
    )


def _classify(
    step: Callable[[Array, Array], Array],
    advance: Callable[[Array, Array, Array], tuple[Array, Array]],
    jacobian: Callable[[Array, Array], Array],
    x0: Array,
    cfg: OrbitConfig,
    eigvals: Callable[[Array, Array], list[Array]] | None,
) -> list[OrbitRecord]:
    """Core of :func:`classify_orbits`; every callable also receives the row indices.

    ``advance(x, Q, idx)`` returns the next states and the tangent vectors ``J(x) q`` for the
    rows q of ``Q (B, k, n)`` (fused, so that a ReLU map computes its pre-activation once).

    A pipeline of four named phases over the rows still undecided, each writing the records
    it decides: :func:`_transient` (retires divergent orbits and settled fixed points),
    :func:`_record` (QR exponents, ring buffer, observables) then :func:`_label_recorded`
    (periodic, chaotic, quasi-periodic or unclassified), :func:`_fixed_point_records` (exact
    exponents from the Jacobian's eigenvalues) and :func:`_cycle_exponents` (exact exponents
    of p-cycles from the product of Jacobians).
    """
    x = np.array(x0, dtype=float)
    B, n = x.shape
    k = min(cfg.n_exponents, n)
    records: list[OrbitRecord | None] = [None] * B
    idx, fixed = _transient(step, x, cfg, records, k)
    if idx.size:
        rec = _record(advance, x[idx], idx, cfg, k)
        fixed += _label_recorded(rec, x, idx, cfg, records, k)
    if fixed:
        _fixed_point_records(step, jacobian, eigvals, x, np.array(fixed), k, records)
    _cycle_exponents(jacobian, records, n, k)
    return [r for r in records]  # type: ignore[misc]


def _tol(cfg: OrbitConfig, a: Array) -> Array:
    """Periodicity tolerance at states ``a`` (absolute plus relative to their norm)."""
    return cfg.period_atol + cfg.period_rtol * np.linalg.norm(a, axis=-1)


def _divergent(k: int) -> OrbitRecord:
    return OrbitRecord("divergent", np.full(k, np.nan), max_norm=float("inf"))


def _transient(
    step: Callable[[Array, Array], Array],
    x: Array,
    cfg: OrbitConfig,
    records: list[OrbitRecord | None],
    k: int,
) -> tuple[Array, list[int]]:
    """Phase 1: iterate every row ``cfg.n_transient`` steps (``x`` in place), retiring
    divergent orbits (recorded) and rows settled on a fixed point. Returns the rows still
    undecided and those settled."""
    B = x.shape[0]
    idx = np.arange(B)
    calm = np.zeros(B, dtype=int)
    fixed: list[int] = []
    norm_prev = np.full(B, np.inf)
    grew = np.zeros(B, dtype=int)
    for t in range(cfg.n_transient):
        if idx.size == 0:
            break
        xa = x[idx]
        with np.errstate(over="ignore", invalid="ignore"):
            xn = step(xa, idx)
        nrm = np.abs(xn).max(1)
        bad = ~(nrm <= cfg.div_threshold)  # also catches NaN
        if (t + 1) % cfg.escape_every == 0:
            up = (nrm > cfg.escape_norm) & (nrm >= cfg.escape_growth * norm_prev[idx])
            grew[idx] = np.where(up, grew[idx] + 1, 0)
            norm_prev[idx] = nrm
            bad |= grew[idx] >= 2
        small = np.linalg.norm(xn - xa, axis=1) <= _tol(cfg, xn)
        calm[idx] = np.where(small, calm[idx] + 1, 0)
        x[idx] = np.where(bad[:, None], 0.0, xn)
        for i in idx[bad]:
            records[i] = _divergent(k)
        done_fp = (~bad) & (calm[idx] >= cfg.n_period_checks)
        fixed.extend(idx[done_fp].tolist())
        idx = idx[~bad & ~done_fp]
    return idx, fixed


@dataclass
class _Recording:
    """What phase 2 measured on the undecided rows (one entry per row)."""

    lyap: Array  # (Bi, k) exponents, descending
    ring: Array  # (Bi, L, n) the last L states, oldest first
    obs: Array  # (Bi, T, n_observables) random projections of the record
    pts: Array  # (Bi, n_points, n) states spread over the record
    alive: Array  # (Bi,) never diverged during the record
    maxn: Array  # (Bi,) largest max-norm seen


def _record(
    advance: Callable[[Array, Array, Array], tuple[Array, Array]],
    xs: Array,
    idx: Array,
    cfg: OrbitConfig,
    k: int,
) -> _Recording:
    """Phase 2: ``cfg.n_record`` more steps of the rows ``idx`` with QR-reorthonormalised
    tangent vectors, a ring buffer of the last states, random observables and representative
    points."""
    Bi, n = xs.shape
    T, L = cfg.n_record, cfg.max_period + cfg.n_period_checks
    rng = np.random.default_rng(cfg.seed)
    U = rng.standard_normal((n, cfg.n_observables)) / math.sqrt(n)
    keep_every = max(1, T // cfg.n_points)
    Q = _initial_tangent(Bi, n, k, cfg.seed)
    acc = np.zeros((Bi, k))
    ring = np.empty((Bi, L, n))
    obs = np.empty((Bi, T, cfg.n_observables))
    pts = np.empty((Bi, cfg.n_points, n))
    alive = np.ones(Bi, dtype=bool)
    maxn = np.zeros(Bi)
    for t in range(T):
        with np.errstate(over="ignore", invalid="ignore"):
            xs, Z = advance(xs, Q, idx)
        Q, r = _mgs(Z)
        with np.errstate(divide="ignore"):
            acc += np.log(r)
        nrm = np.abs(xs).max(1)
        bad = ~(nrm <= cfg.div_threshold)
        if bad.any():
            alive &= ~bad
            xs[bad] = 0.0
            Q[bad] = _initial_tangent(int(bad.sum()), n, k, cfg.seed)
        maxn = np.maximum(maxn, np.where(bad, np.inf, nrm))
        ring[:, t % L] = xs
        obs[:, t] = xs @ U
        if t % keep_every == 0 and t // keep_every < cfg.n_points:
            pts[:, t // keep_every] = xs
    order = (np.arange(L) + (T % L)) % L  # so that ring[:, -1] is the last state
    return _Recording(-np.sort(-acc / T, axis=1), ring[:, order], obs, pts, alive, maxn)


def label_recorded_orbit(
    lam: Array, obs: Array, points: Array, max_norm: float, cfg: OrbitConfig
) -> OrbitRecord:
    r"""The verdict on an orbit followed to the end of its record that neither diverged nor
    closed a cycle (the one rule of census versions 2 and 3).

    Chaotic if :math:`\lambda_1 >` ``lyap_tol``; quasi-periodic if
    :math:`|\lambda_1| \le` ``lyap_tol``, :math:`\lambda_2 < -`\ ``lyap_tol`` (when two
    exponents are measured), the weighted Birkhoff averages of the observables ``obs (T, m)``
    and the rotation number converge to ``birkhoff_digits`` digits and the rotation number is
    not rational with denominator ≤ ``max_period``; unclassified otherwise.

    Parameters
    ----------
    lam : array ``(k,)``
        Leading Lyapunov exponents, descending.
    obs : array ``(T, m)``
        Observables along the record (random projections of the state).
    points : array
        States kept along the record (stored with the verdict).
    max_norm : float
        Largest max-norm of the state along the record.
    cfg : OrbitConfig
    """
    rho, rho_digits = rotation_number(obs)
    digits = float(min(birkhoff_digits(obs.T).min(), rho_digits))
    if lam[0] > cfg.lyap_tol:
        kind = "chaotic"
    elif (
        abs(lam[0]) <= cfg.lyap_tol
        and (len(lam) < 2 or lam[1] < -cfg.lyap_tol)
        and digits >= cfg.birkhoff_digits
        and not _is_rational(rho, cfg.max_period, cfg.rational_tol)
    ):
        kind = "quasi_periodic"
    else:
        kind = "unclassified"
    return OrbitRecord(
        kind,
        np.array(lam, dtype=float, copy=True),
        rotation_number=rho,
        birkhoff_digits=digits,
        points=points,
        max_norm=max_norm,
    )


def _label_recorded(
    rec: _Recording,
    x: Array,
    idx: Array,
    cfg: OrbitConfig,
    records: list[OrbitRecord | None],
    k: int,
) -> list[int]:
    """Phase 3: label the recorded rows: divergent, periodic (p > 1), chaotic, quasi-periodic
    or unclassified (recorded); a period of 1 is a fixed point, returned (its state written
    to ``x``) for phase 4."""
    L = rec.ring.shape[1]
    periods = _smallest_periods(rec.ring, cfg, lambda a: _tol(cfg, a))
    fixed: list[int] = []
    for j, i in enumerate(idx):
        if not rec.alive[j]:
            records[i] = _divergent(k)
            continue
        p = int(periods[j])
        if p:
            if p == 1:
                fixed.append(int(i))
                x[i] = rec.ring[j, -1]
                continue
            records[i] = OrbitRecord(
                "periodic",
                np.full(k, np.nan),
                period=p,
                points=rec.ring[j, L - p :].copy(),
                max_norm=float(rec.maxn[j]),
            )
            continue
        records[i] = label_recorded_orbit(
            rec.lyap[j], rec.obs[j], rec.pts[j].copy(), float(rec.maxn[j]), cfg
        )
    return fixed


def _fixed_point_records(
    step: Callable[[Array, Array], Array],
    jacobian: Callable[[Array, Array], Array],
    eigvals: Callable[[Array, Array], list[Array]] | None,
    x: Array,
    fi: Array,
    k: int,
    records: list[OrbitRecord | None],
) -> None:
    """Phase 4: the settled rows ``fi`` as fixed points, their exponents exact from the
    Jacobian's eigenvalues (small systems: the point polished by Newton's method first)."""
    X = x[fi]
    if x.shape[1] <= 64:
        X = _newton_polish(step, jacobian, X, fi)
    ev = eigvals(X, fi) if eigvals is not None else _eigvals_chunked(jacobian, X, fi)
    for i, e, xi in zip(fi, ev, X, strict=True):
        records[i] = OrbitRecord(
            "fixed_point",
            _exponents_from_eigs(e, k, 1),
            period=1,
            points=xi[None].copy(),
            max_norm=float(np.abs(xi).max()),
        )


def _cycle_exponents(
    jacobian: Callable[[Array, Array], Array],
    records: list[OrbitRecord | None],
    n: int,
    k: int,
) -> None:
    """Phase 5: exact exponents of every p-cycle from the eigenvalues of the product of the
    Jacobians along it."""
    for i, rec in enumerate(records):
        if rec is not None and rec.kind == "periodic":
            P = rec.points  # (p, n), consecutive states of the cycle
            M = np.eye(n)
            for s in range(P.shape[0]):
                M = jacobian(P[s : s + 1], np.array([i]))[0] @ M
            rec.lyapunov = _exponents_from_eigs(np.linalg.eigvals(M), k, P.shape[0])


def _newton_polish(
    step: Callable[[Array, Array], Array],
    jacobian: Callable[[Array, Array], Array],
    X: Array,
    idx: Array,
    iters: int = 4,
) -> Array:
    """A few Newton steps x <- x - (J - I)^{-1} (F(x) - x), kept only where they reduce the
    residual (a converged orbit is within the periodicity tolerance; Newton makes the point,
    and so the exponents at it, exact to rounding)."""
    n = X.shape[1]
    for _ in range(iters):
        R = step(X, idx) - X
        A = jacobian(X, idx) - np.eye(n)[None]
        try:
            Xn = X - np.linalg.solve(A, R[..., None])[..., 0]
        except np.linalg.LinAlgError:
            break
        better = np.linalg.norm(step(Xn, idx) - Xn, axis=1) < np.linalg.norm(R, axis=1)
        X = np.where(better[:, None], Xn, X)
    return X


def _eigvals_chunked(
    jacobian: Callable[[Array, Array], Array], X: Array, idx: Array, chunk: int = 64
) -> list[Array]:
    out: list[Array] = []
    for s in range(0, len(X), chunk):
        out.extend(np.linalg.eigvals(jacobian(X[s : s + chunk], idx[s : s + chunk])))
    return out


def _exponents_from_eigs(e: Array, k: int, p: int) -> Array:
    mod = np.sort(np.abs(np.asarray(e)))[::-1]
    full = np.concatenate([mod, np.zeros(max(0, k - len(mod)))])[:k]
    with np.errstate(divide="ignore"):
        return np.log(full) / p


def _smallest_periods(ring: Array, cfg: OrbitConfig, tol: Callable[[Array], Array]) -> Array:
    """Per orbit, the smallest p with ||x_t − x_{t−p}|| ≤ tol on the last n_period_checks
    steps of ``ring (B, L, n)``; 0 where there is none."""
    L = ring.shape[1]
    c = cfg.n_period_checks
    last = ring[:, L - c :]
    tl = tol(last)
    out = np.zeros(ring.shape[0], dtype=int)
    for p in range(cfg.max_period, 0, -1):
        prev = ring[:, L - c - p : L - p]
        ok = np.all(np.linalg.norm(last - prev, axis=2) <= tl, axis=1)
        out[ok] = p
    return out


# ---------------------------------------------------------------------------------------------
# ReLU networks


def relu_map(W: Array, c: Array) -> tuple[StepFn, Callable[[Array], Array]]:
    """The map :math:`h \\mapsto \\mathrm{ReLU}(W h + c)` and its exact Jacobian.

    ``c`` is ``(n,)`` (one input for every row) or ``(B, n)`` (one per row; then the
    functions take exactly B rows). A thin view of the one NumPy map,
    :class:`lib.core.network.ReLUMap`.
    """
    m = ReLUMap(W, c)
    return m.step, m.jacobian


def relu_jvp(W: Array, c: Array) -> Callable[[Array, Array], Array]:
    """Tangent map ``(h, Q) -> D(h) W Q`` for ``Q (B, n, k)`` without forming the Jacobian
    (one GEMM): :meth:`lib.core.network.ReLUMap.jvp`."""
    return ReLUMap(W, c).jvp


def leak_version(version: str, alpha: float) -> str:
    """The cache version of an analysis of a network with leak ``alpha``: ``version`` itself
    without a leak, ``version + "-leak"`` with one. The analyses built on exact fixed points
    treated a leaky network as a vanilla one (or refused it) before :func:`relu_fixed_points`
    took ``alpha``; their entries for leaky networks get keys of their own, so any written
    before are computed again, while every non-leaky key stays as it was."""
    return version if float(alpha) == 1.0 else f"{version}-leak"


def relu_eigvals(W: Array, D: Array) -> list[Array]:
    """Eigenvalues of ``diag(D) W`` for each pattern row of ``D (m, n)``: those of the active
    block ``W[a][:, a]`` (inactive units contribute zeros, which are dropped)."""
    out = []
    for d in np.asarray(D, dtype=bool):
        a = np.flatnonzero(d)
        out.append(np.linalg.eigvals(W[np.ix_(a, a)]) if a.size else np.zeros(0))
    return out


def leaky_spectra(ev: list[Array], P: Array, alpha: float) -> tuple[list[Array], Array]:
    """Eigenvalues and spectral radii of the Jacobians of fixed points with patterns ``P``,
    from the eigenvalues ``ev`` of their active blocks ``D W``: unchanged without a leak;
    with a leak ``alpha`` < 1, :math:`1 - \\alpha + \\alpha\\lambda`, and every inactive unit
    adds :math:`1 - \\alpha` to the spectrum (counted in the radius)."""
    rad = np.array([np.abs(e).max() if e.size else 0.0 for e in ev])
    if alpha == 1.0:
        return ev, rad
    ev = [(1 - alpha) + alpha * e for e in ev]
    rad = np.array(
        [
            max(np.abs(e).max() if e.size else 0.0, 1 - alpha if (~p).any() else 0.0)
            for e, p in zip(ev, P, strict=True)
        ]
    )
    return ev, rad


@dataclass
class ReLUFixedPoints:
    """Exact fixed points of :math:`h = \\mathrm{ReLU}(W h + c)` for one input ``c``.

    Attributes
    ----------
    points : array ``(m, n)``
    patterns : bool array ``(m, n)``, active units
    residual : array ``(m,)``, :math:`\\|\\mathrm{ReLU}(W h + c) - h\\|`
    eigenvalues : list of arrays, eigenvalues of ``D W`` (active block) per point; of the
        leaky Jacobian's active block, :math:`1 - \\alpha + \\alpha\\lambda`, for a leaky map
    stable : bool array ``(m,)``, spectral radius of the Jacobian (``D W`` without a leak)
        below 1
    spectral_radius : array ``(m,)``
    """

    points: Array
    patterns: Array
    residual: Array
    eigenvalues: list[Array]
    stable: Array
    spectral_radius: Array

    def __len__(self) -> int:
        return len(self.points)


def _solve_patterns(W: Array, c: Array, patterns: Array, chunk: int = 256) -> tuple[Array, Array]:
    """Solve :math:`(I - D W) h = D c` for each pattern (NumPy batched solve); returns the
    states and whether each system was solvable."""
    n = W.shape[0]
    P = np.asarray(patterns, dtype=float)
    H = np.full(P.shape, np.nan)
    ok = np.zeros(len(P), dtype=bool)
    eye = np.eye(n)
    for s in range(0, len(P), chunk):
        D = P[s : s + chunk]
        A = eye[None] - D[:, :, None] * W[None]
        rhs = D * c
        try:
            H[s : s + chunk] = np.linalg.solve(A, rhs[..., None])[..., 0]
            ok[s : s + chunk] = True
        except np.linalg.LinAlgError:
            for j in range(len(D)):
                try:
                    H[s + j] = np.linalg.solve(A[j], rhs[j])
                    ok[s + j] = True
                except np.linalg.LinAlgError:
                    pass
    return H, ok


def adam_fixed_points(
    W: Array,
    c: Array,
    starts: Array,
    *,
    lr: float = 1e-2,
    max_iters: int = 20000,
    q_tol: float = 1e-12,
) -> tuple[Array, Array, int]:
    """Golub & Sussillo-style search: minimise :math:`q = \\tfrac12\\|F(h) - h\\|^2` by Adam.

    Batched over ``starts (S, n)``, float64, in torch. Returns the final states, their q and
    the number of iterations run (stops when every q < ``q_tol`` or at ``max_iters``).
    """
    import torch

    Wt = torch.as_tensor(np.asarray(W, dtype=float))
    ct = torch.as_tensor(np.asarray(c, dtype=float))
    h = torch.tensor(np.asarray(starts, dtype=float), requires_grad=True)
    opt = torch.optim.Adam([h], lr=lr)
    it = 0
    q = torch.full((h.shape[0],), float("inf"), dtype=torch.float64)
    while it < max_iters:
        it += 1
        F = torch.relu(h @ Wt.T + ct)
        q = 0.5 * ((F - h) ** 2).sum(1)
        if bool((q < q_tol).all()):
            break
        opt.zero_grad()
        q.sum().backward()
        opt.step()
    return h.detach().numpy(), q.detach().numpy(), it


def _dedup(H: Array, tol: float) -> Array:
    """Indices of the first of each group of rows closer than ``tol * (1 + |h|)``."""
    keep: list[int] = []
    if len(H) == 0:
        return np.zeros(0, dtype=int)
    D = np.linalg.norm(H[:, None] - H[None], axis=2) if len(H) <= 2000 else None
    for i in range(len(H)):
        if D is not None:
            close = [j for j in keep if D[i, j] <= tol * (1 + np.linalg.norm(H[j]))]
        else:
            close = [
                j for j in keep if np.linalg.norm(H[i] - H[j]) <= tol * (1 + np.linalg.norm(H[j]))
            ]
        if not close:
            keep.append(i)
    return np.array(keep, dtype=int)


def relu_fixed_points(
    W: Array,
    c: Array,
    candidates: Array | None = None,
    *,
    n_starts: int = 256,
    seed: int = 0,
    start_scale: float | None = None,
    n_iter: int = 300,
    adam_iters: int = 300,
    dedup_tol: float = 1e-8,
    alpha: float = 1.0,
) -> ReLUFixedPoints:
    """All fixed points of :math:`h = \\mathrm{ReLU}(W h + c)` reachable from the starts.

    Starts: the given candidate states plus ``n_starts`` random states in
    ``[0, start_scale]^n``. Candidate activation patterns come from (i) the last steps of
    ``n_iter`` forward iterations of the map from every start (stable fixed points), and (ii)
    a short batched Adam minimisation of :math:`q = \\tfrac12\\|F(h)-h\\|^2` from the same
    starts (Golub & Sussillo; it also reaches unstable fixed points). Each distinct pattern D
    is solved exactly, :math:`(I - DW)h = Dc`, and accepted only when :math:`W h + c` has
    pattern D again (a pre-activation within 1e-9 of 0 counts as either side). Solutions
    closer than ``dedup_tol`` (relative) are merged. Stability: spectral radius of D W < 1.

    With a leak ``alpha`` < 1 the map is :math:`(1-\\alpha) h + \\alpha\\,\\mathrm{ReLU}(W h + c)`:
    its fixed points are the same, the forward iterations follow the leaky map, and the
    Jacobian is :math:`(1-\\alpha) I + \\alpha D W`. Its eigenvalues are
    :math:`1 - \\alpha + \\alpha\\lambda` for the eigenvalues :math:`\\lambda` of the active
    block (``eigenvalues`` holds these), and :math:`1 - \\alpha` for every inactive unit
    (counted in ``spectral_radius``).
    """
    if not (0 < alpha <= 1):
        raise ValueError(f"alpha must lie in (0, 1], got {alpha!r}")
    W = np.asarray(W, dtype=float)
    c = np.asarray(c, dtype=float).reshape(-1)
    n = W.shape[0]
    rng = np.random.default_rng(seed)
    starts = [np.zeros((1, n))]
    if candidates is not None:
        starts.append(np.atleast_2d(np.asarray(candidates, dtype=float)))
    if n_starts > 0:
        scale = start_scale if start_scale is not None else max(1.0, 2 * float(np.abs(c).max()))
        starts.append(rng.uniform(0, scale, size=(n_starts, n)))
    S = np.concatenate(starts, 0)
    F = ReLUMap(W, c, alpha)
    pats = [np.zeros((1, n), dtype=bool)]
    h = S.copy()
    for t in range(n_iter):
        pre = F.preactivation(h)
        if t >= n_iter - 3:
            pats.append(pre > 0)
        h = F.output(h, pre)
        if not np.all(np.isfinite(h)):
            h = np.where(np.isfinite(h), h, 0.0)
    if adam_iters > 0:
        hA, _, _ = adam_fixed_points(W, c, S, max_iters=adam_iters, q_tol=0.0)
        pats.append((hA @ W.T + c) > 0)
    P = np.unique(np.concatenate(pats, 0), axis=0)
    H, ok = _solve_patterns(W, c, P)
    with np.errstate(invalid="ignore", over="ignore"):
        pre = H @ W.T + c
        slack = 1e-9 * (1 + np.abs(pre))
        consistent = ok & np.all(np.where(P, pre >= -slack, pre <= slack), 1)
    H, P = np.maximum(H[consistent], 0.0), P[consistent]
    keep = _dedup(H, dedup_tol)
    H, P = H[keep], P[keep]
    res = np.linalg.norm(ReLUMap(W, c).step(H) - H, axis=1) if len(H) else np.zeros(0)
    ev, rad = leaky_spectra(relu_eigvals(W, P), P, alpha)
    return ReLUFixedPoints(
        points=H, patterns=P, residual=res, eigenvalues=ev, stable=rad < 1, spectral_radius=rad
    )
