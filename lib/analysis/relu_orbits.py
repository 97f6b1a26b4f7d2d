r"""The census's orbit classifier for ReLU maps (census version 3).

The same classes as :func:`lib.analysis.dynamics.classify_orbits` (version 2's classifier),
for the census's layout: ``G`` constant drives (grid points), each with the same ``S`` initial
states, under the map :math:`F(h) = (1-\alpha) h + \alpha\,\mathrm{ReLU}(W h + c)`. What
differs is how the orbits are followed:

1. **float32**, batched over all G × S orbits (``torch.addmm``, one thread), subnormal
   numbers flushed to zero; decisions that need more precision are taken on exact float64
   solutions.
2. **Fixed points stop early.** Every ``escape_every`` steps, an orbit whose activation
   pattern is the one it had at the previous check has the exact fixed point of that region
   solved, :math:`(I - D W) h = D c` in float64. It stops there when that point is consistent
   (it reproduces its own pattern) and the orbit is within :data:`FP_RTOL` of it and closer
   than at the previous check. Its exponents are exact (the Jacobian's eigenvalues).
3. **Cycles stop early.** Every :data:`CYCLE_EVERY` steps the last ``max_period +
   n_period_checks`` states are searched for the smallest period p with
   :math:`\|x_t - x_{t-p}\| \le` :data:`PERIOD_RTOL32` :math:`(1 + \|x_t\|)` over
   ``n_period_checks`` steps; the cycle is then solved exactly from its p activation patterns
   (:math:`h = M h + v`, the affine map once around the cycle) and kept when the exact cycle
   reproduces its patterns and is stable. Its exponents are exact (eigenvalues of M).
4. **Orbits of one grid point on the same attractor are followed once.** Over the last
   :data:`DEDUP_WINDOW` transient steps, orbit j (the later initial state) joins orbit i when
   j's state at the window's start comes within :data:`DEDUP_TOL` × the RMS spread of i's
   window (plus :data:`DEDUP_ATOL`) of i's trajectory: j then lies on i's trajectory, and gets
   i's record. The census deduplicates the attractors of a grid point anyway; this only stops
   it from recording the same attractor several times.
5. **Lyapunov exponents only for what remains**: the ``n_record`` steps with ``n_exponents``
   tangent vectors (one GEMM for state and tangents, modified Gram-Schmidt every :data:`QR_EVERY` steps, logs
   accumulated in float64) run only on the representatives still undecided; the labels of
   the recorded orbits are then version 2's rules (:func:`lib.analysis.dynamics.rotation_number`,
   :func:`lib.analysis.dynamics.birkhoff_digits`, ``lyap_tol``).

A cycle or fixed point found by the loose float32 test whose exact solution is inconsistent
or far from the orbit (an orbit on a region's boundary, or a quasi-periodic orbit whose
rotation number is close to p/q) is a cycle only if version 2's own float64 test passes from
its last state; otherwise it is followed on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lib.analysis.dynamics import (
    OrbitConfig,
    OrbitRecord,
    _exponents_from_eigs,
    label_recorded_orbit,
    leaky_spectra,
    relu_eigvals,
)

__all__ = [
    "CYCLE_EVERY",
    "DEDUP_ATOL",
    "DEDUP_TOL",
    "DEDUP_WINDOW",
    "FP_RTOL",
    "PERIOD_RTOL32",
    "QR_EVERY",
    "classify_relu_grid",
]

Array = np.ndarray

#: An orbit within this distance (relative to 1 + |h*|) of its region's exact fixed point h*
#: stops there.
FP_RTOL = 1e-4
#: Periodicity tolerance of the float32 orbits (relative to 1 + |x|); candidates are then
#: solved exactly.
PERIOD_RTOL32 = 1e-5
#: Steps between the Gram-Schmidt re-orthonormalisations of the tangent vectors (the
#: exponents are those of the product of the Jacobians in between, the same in exact
#: arithmetic).
QR_EVERY = 2
#: Steps between the cycle searches.
CYCLE_EVERY = 250
#: Transient steps (the last ones) over which orbits of a grid point are compared.
DEDUP_WINDOW = 256
#: Relative and absolute distance under which an orbit lies on another's trajectory.
DEDUP_TOL = 0.05
DEDUP_ATOL = 1e-6


@dataclass
class _Rows:
    """The orbits still followed: float32 states, their drives and original row numbers."""

    x: torch.Tensor  # (b, n) float32
    c: torch.Tensor  # (b, n) float32
    rows: Array  # (b,) original row index
    pat: Array  # (b, n) bool, pattern at the previous check
    dist: Array  # (b,) distance to the previous check's exact fixed point
    fp: Array  # (b, n) float64, that fixed point (NaN when inconsistent or none)
    solved: Array  # (b,) bool, fp is the exact point of the pattern ``pat``

    def keep(self, m: Array) -> None:
        mt = torch.from_numpy(m)
        self.x, self.c = self.x[mt], self.c[mt]
        self.rows, self.pat, self.dist = self.rows[m], self.pat[m], self.dist[m]
        self.fp, self.solved = self.fp[m], self.solved[m]


class _Map:
    """float64 reference of the map for the exact steps (row drives ``C``, leak ``alpha``)."""

    def __init__(self, W: Array, C: Array, alpha: float) -> None:
        self.W, self.C, self.alpha = W, C, alpha

    def pre(self, H: Array, rows: Array) -> Array:
        return H @ self.W.T + self.C[rows]

    def step(self, H: Array, rows: Array) -> Array:
        r = np.maximum(self.pre(H, rows), 0.0)
        return r if self.alpha == 1.0 else (1 - self.alpha) * H + self.alpha * r

    def jacobian(self, h: Array, row: int) -> Array:
        """The Jacobian ``(n, n)`` at the state ``h``."""
        J = (self.pre(h[None], np.array([row]))[0] > 0)[:, None] * self.W
        return J if self.alpha == 1.0 else self.alpha * J + (1 - self.alpha) * np.eye(len(J))

    def fixed_points(self, P: Array, rows: Array) -> tuple[Array, Array]:
        """Exact fixed points of the regions ``P (m, n)`` for the drives of ``rows`` (the same
        for a leaky map: h = ReLU(W h + c)); and whether each reproduces its pattern."""
        n = self.W.shape[0]
        H = np.full(P.shape, np.nan)
        ok = np.zeros(len(P), dtype=bool)
        for j, (p, r) in enumerate(zip(P, rows, strict=True)):
            a = np.flatnonzero(p)
            h = np.zeros(n)
            if a.size:
                try:
                    h[a] = np.linalg.solve(np.eye(a.size) - self.W[np.ix_(a, a)], self.C[r, a])
                except np.linalg.LinAlgError:
                    continue
            q = self.pre(h[None], np.array([r]))[0]
            if np.array_equal(q > 0, p) and np.all(h >= 0):
                H[j], ok[j] = h, True
        return H, ok

    def cycle(self, Y: Array, row: int) -> tuple[Array | None, Array]:
        """The exact cycle through the activation patterns of the states ``Y (p, n)`` (in
        order), or None when it does not reproduce them; and the Jacobian product M once
        around (at the exact cycle, or along ``Y`` when there is none)."""
        p, n = Y.shape
        P = self.pre(Y, np.full(p, row)) > 0
        M, v = np.eye(n), np.zeros(n)
        c = self.C[row]
        for k in range(p):
            J = P[k][:, None] * self.W
            a = P[k] * c
            if self.alpha != 1.0:
                J = self.alpha * J + (1 - self.alpha) * np.eye(n)
                a = self.alpha * a
            M, v = J @ M, J @ v + a
        try:
            h = np.linalg.solve(np.eye(n) - M, v)
        except np.linalg.LinAlgError:
            return None, M
        out = np.empty((p, n))
        for k in range(p):
            out[k] = h
            if not np.array_equal(self.pre(h[None], np.array([row]))[0] > 0, P[k]):
                return None, M
            h = self.step(h[None], np.array([row]))[0]
        if np.linalg.norm(h - out[0]) > 1e-9 * (1 + np.linalg.norm(out[0])):
            return None, M
        return out, M


def _mgs(Z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Modified Gram-Schmidt (twice) of the rows of ``Z (b, k, n)`` in place; |diag R|. A
    direction the map annihilated gets |R| = 1e-30 and a fresh orthogonal vector."""
    b, k, n = Z.shape
    r = torch.empty(b, k, dtype=Z.dtype)
    for j in range(k):
        v = Z[:, j]
        for _ in range(2):
            for i in range(j):
                qi = Z[:, i]
                v -= (qi * v).sum(1, keepdim=True) * qi
        nv = torch.linalg.vector_norm(v, dim=1)
        tiny = nv < 1e-30
        if bool(tiny.any()):
            g = torch.Generator().manual_seed(j)
            w = torch.randn(int(tiny.sum()), n, generator=g, dtype=Z.dtype)
            for _ in range(2):
                for i in range(j):
                    qi = Z[tiny, i]
                    w -= (qi * w).sum(1, keepdim=True) * qi
            v[tiny] = w / torch.linalg.vector_norm(w, dim=1, keepdim=True)
            nv = torch.where(tiny, torch.ones_like(nv), nv)
            v[~tiny] /= nv[~tiny, None]
            nv = torch.where(tiny, torch.full_like(nv, 1e-30), nv)
        else:
            v /= nv[:, None]
        r[:, j] = nv
    return Z, r


def _row_tangents(rows: Array, n: int, k: int, seed: int) -> Array:
    """Random orthonormal tangent vectors ``(b, k, n)`` float32, drawn per orbit from
    ``(seed, row)``, so that an orbit's exponents do not depend on which others share its
    batch."""
    Z = np.stack([np.random.default_rng([seed, int(r)]).standard_normal((k, n)) for r in rows])
    Q, _ = _mgs(torch.from_numpy(Z.astype(np.float32)))
    return Q.numpy()


def _on_cycle(points: Array, y: Array) -> bool:
    """Whether the state ``y`` lies on the cycle ``points (p, n)`` (float32 periodicity
    tolerance, ten times over)."""
    d = np.linalg.norm(points - y, axis=1).min()
    return bool(d <= 10 * PERIOD_RTOL32 * (1 + np.linalg.norm(y)))


def _smallest_period(ring: torch.Tensor, cfg: OrbitConfig) -> Array:
    """Per orbit, the smallest p ≤ max_period with ‖x_t − x_{t−p}‖ ≤ PERIOD_RTOL32 (1 + ‖x_t‖)
    on the last n_period_checks states of ``ring (b, L, n)`` (oldest first); 0 for none. The
    last state is screened against every earlier one first; only rows with a candidate are
    checked over all n_period_checks states."""
    L, c = ring.shape[1], cfg.n_period_checks
    out = np.zeros(ring.shape[0], dtype=int)
    last = ring[:, -1:]
    tol = PERIOD_RTOL32 * (1 + torch.linalg.vector_norm(last, dim=2))  # (b, 1)
    d = torch.linalg.vector_norm(ring[:, L - 1 - cfg.max_period : L - 1] - last, dim=2)
    cand = (d <= tol).numpy()  # [:, j]: period max_period - j
    rows = np.flatnonzero(cand.any(1))
    if rows.size == 0:
        return out
    sub = ring[torch.from_numpy(rows)]
    lastc = sub[:, L - c :]
    tolc = PERIOD_RTOL32 * (1 + torch.linalg.vector_norm(lastc, dim=2))
    found = np.zeros(rows.size, dtype=int)
    for p in range(cfg.max_period, 0, -1):
        m = cand[rows, cfg.max_period - p]
        if not m.any():
            continue
        mt = torch.from_numpy(m)
        dd = torch.linalg.vector_norm(lastc[mt] - sub[mt, L - c - p : L - p], dim=2)
        ok = np.zeros(rows.size, dtype=bool)
        ok[m] = (dd <= tolc[mt]).all(1).numpy()
        found[ok] = p
    out[rows] = found
    return out


class _Classifier:
    """One call of :func:`classify_relu_grid` (state shared by its phases)."""

    def __init__(self, W: Array, C: Array, H0: Array, cfg: OrbitConfig, alpha: float) -> None:
        self.cfg, self.alpha = cfg, float(alpha)
        self.G, self.S = len(C), len(H0)
        self.n = W.shape[0]
        self.k = min(cfg.n_exponents, self.n)
        B = self.G * self.S
        Crow = np.repeat(np.asarray(C, dtype=float), self.S, axis=0)
        self.ref = _Map(np.asarray(W, dtype=float), Crow, self.alpha)
        self.Wt = torch.from_numpy(np.ascontiguousarray(W.T, dtype=np.float32))
        self.records: list[OrbitRecord | None] = [None] * B
        self.L = cfg.max_period + cfg.n_period_checks
        X0 = np.tile(np.asarray(H0, dtype=float), (self.G, 1))
        self.live = _Rows(
            torch.from_numpy(X0.astype(np.float32)),
            torch.from_numpy(Crow.astype(np.float32)),
            np.arange(B),
            np.zeros((B, self.n), dtype=bool),
            np.full(B, np.inf),
            np.full((B, self.n), np.nan),
            np.zeros(B, dtype=bool),
        )
        self.rep = np.arange(B)  # the row whose record each row takes
        self.norm_prev = np.full(B, np.inf)
        self.grew = np.zeros(B, dtype=int)
        self._eig: dict[bytes, Array] = {}
        self._cycles_of: dict[int, list[OrbitRecord]] = {}

    # -- one step of the map, in place ------------------------------------------------------
    def _step(self, R: _Rows) -> torch.Tensor:
        pre = torch.addmm(R.c, R.x, self.Wt)
        if self.alpha == 1.0:
            R.x = torch.relu(pre)
        else:
            R.x = (1 - self.alpha) * R.x + self.alpha * torch.relu(pre)
        return pre

    # -- decided rows -----------------------------------------------------------------------
    def _fp_exponents(self, P: Array) -> Array:
        key = np.packbits(P).tobytes()
        if key not in self._eig:
            ev, _ = leaky_spectra(relu_eigvals(self.ref.W, P[None]), P[None], self.alpha)
            self._eig[key] = _exponents_from_eigs(ev[0], self.k, 1)
        return self._eig[key]

    def _fixed_point(self, row: int, h: Array) -> None:
        P = self.ref.pre(h[None], np.array([row]))[0] > 0
        self.records[row] = OrbitRecord(
            "fixed_point",
            self._fp_exponents(P).copy(),
            period=1,
            points=h[None].copy(),
            max_norm=float(np.abs(h).max()),
        )

    def _strict(self, y: Array, row: int, p: int) -> Array | None:
        """Version 2's periodicity test in float64 from ``y``: the last p states when
        ``‖x_t − x_{t−p}‖ ≤ period_atol + period_rtol ‖x_t‖`` holds over n_period_checks
        steps, else None."""
        c = self.cfg.n_period_checks
        X = np.empty((p + c + 1, self.n))
        X[0] = y
        for t in range(1, len(X)):
            X[t] = self.ref.step(X[t - 1 : t], np.array([row]))[0]
        last, prev = X[-c:], X[-c - p : -p]
        tol = self.cfg.period_atol + self.cfg.period_rtol * np.linalg.norm(last, axis=1)
        return X[-p:] if np.all(np.linalg.norm(last - prev, axis=1) <= tol) else None

    def _cycle_eigvals(self, M: Array, last: Array, row: int) -> Array:
        """Eigenvalues of the Jacobian product M once around a cycle ending at ``last``
        (without a leak M = D (...), so its nonzero ones are those of its active block)."""
        if self.alpha != 1.0:
            return np.linalg.eigvals(M)
        a = np.flatnonzero(self.ref.pre(last[None], np.array([row]))[0] > 0)
        return np.linalg.eigvals(M[np.ix_(a, a)]) if a.size else np.zeros(0)

    def _cycle(self, row: int, Y: Array, maxn: float) -> bool:
        """Record the cycle through the float32 states ``Y (p, n)`` when it is one: its exact
        solution (near the states), else version 2's float64 test from the last state.
        Returns whether the row was decided."""
        p = len(Y)
        near = 10 * PERIOD_RTOL32 * (1 + np.linalg.norm(Y[-1]))
        if p == 1:
            h, ok = self.ref.fixed_points(self.ref.pre(Y, np.array([row])) > 0, np.array([row]))
            stable = (
                ok[0] and self._fp_exponents(self.ref.pre(h[:1], np.array([row]))[0] > 0)[0] < 0
            )
            if stable and np.linalg.norm(h[0] - Y[0]) <= near:
                self._fixed_point(row, h[0])
                return True
            X = self._strict(Y[0], row, 1)
            if X is None:
                return False
            self._fixed_point(row, X[-1])
            return True
        g = row // self.S
        for rec in self._cycles_of.get(g, []):  # another orbit of this grid point found it
            if rec.period == p and _on_cycle(rec.points, Y[-1]):
                self.records[row] = rec
                return True
        exact, M = self.ref.cycle(Y, row)
        ev = self._cycle_eigvals(M, exact[-1] if exact is not None else Y[-1], row)
        stable = bool(np.abs(ev).max(initial=0.0) < 1)
        if exact is not None and stable and np.linalg.norm(exact - Y[-1], axis=1).min() <= near:
            pts = exact
        else:
            pts = self._strict(Y[-1], row, p)
            if pts is None:
                return False
            M = np.eye(self.n)
            for y in pts:
                M = self.ref.jacobian(y, row) @ M
            ev = self._cycle_eigvals(M, pts[-1], row)
        rec = OrbitRecord(
            "periodic",
            _exponents_from_eigs(ev, self.k, p),
            period=p,
            points=pts.copy(),
            max_norm=float(maxn),
        )
        self.records[row] = rec
        self._cycles_of.setdefault(g, []).append(rec)
        return True

    def _divergent(self, row: int) -> None:
        self.records[row] = OrbitRecord("divergent", np.full(self.k, np.nan), max_norm=float("inf"))

    # -- checks every escape_every steps ----------------------------------------------------
    def _check(self, R: _Rows, pre: torch.Tensor, t: int) -> Array:
        """Divergence (as version 2) and exact fixed points; returns the rows to keep."""
        cfg = self.cfg
        x = R.x.double().numpy()
        nrm = np.abs(x).max(1)
        bad = ~(nrm <= cfg.div_threshold)
        if t % cfg.escape_every == 0:
            up = (nrm > cfg.escape_norm) & (nrm >= cfg.escape_growth * self.norm_prev[R.rows])
            self.grew[R.rows] = np.where(up, self.grew[R.rows] + 1, 0)
            self.norm_prev[R.rows] = nrm
            bad |= self.grew[R.rows] >= 2
        for r in R.rows[bad]:
            self._divergent(int(r))
        P = pre.numpy() > 0
        same = (P == R.pat).all(1) & ~bad
        new = same & ~R.solved  # a region held since the last check: solve it once
        if new.any():
            H, ok = self.ref.fixed_points(P[new], R.rows[new])
            R.fp[new] = np.where(ok[:, None], H, np.nan)
            R.solved[new] = True
        with np.errstate(invalid="ignore"):
            d = np.linalg.norm(x - R.fp, axis=1)
        d = np.where(same & np.isfinite(d), d, np.inf)
        scale = 1 + np.linalg.norm(np.nan_to_num(R.fp), axis=1)
        conv = (d <= FP_RTOL * scale) & (d <= R.dist)
        for j in np.flatnonzero(conv):  # only a stable fixed point attracts the orbit
            pj = self.ref.pre(R.fp[j][None], R.rows[j : j + 1])[0] > 0
            if self._fp_exponents(pj)[0] < 0:
                self._fixed_point(int(R.rows[j]), R.fp[j])
            else:
                conv[j] = False
        R.dist = np.where(same, d, np.inf)
        R.solved &= same
        R.pat = P
        return ~(bad | conv)

    def _cycles(self, R: _Rows, ring: torch.Tensor, maxn: Array | None = None) -> Array:
        """Cycle search on the ring ``(b, L, n)`` (oldest first); returns the rows to keep."""
        per = _smallest_period(ring, self.cfg)
        keep = np.ones(len(per), dtype=bool)
        for j in np.flatnonzero(per):
            p = int(per[j])
            Y = ring[j, self.L - p :].double().numpy()
            m = float(maxn[j]) if maxn is not None else float(np.abs(Y).max())
            keep[j] = not self._cycle(int(R.rows[j]), Y, m)
        return keep

    # -- phase 1: transient -----------------------------------------------------------------
    def transient(self) -> None:
        cfg, R = self.cfg, self.live
        T = cfg.n_transient
        ring, filled = None, 0
        w0 = max(T - DEDUP_WINDOW, 0)
        win = _Window(self.G, self.S, self.n) if self.S > 1 else None
        for t in range(1, T + 1):
            if R.rows.size == 0:
                return
            pre = self._step(R)
            to_cycle = min(-(-t // CYCLE_EVERY) * CYCLE_EVERY, T) - t
            if to_cycle < self.L:  # the ring holds the steps before a cycle search
                if ring is None:
                    ring, filled = torch.empty(len(R.rows), self.L, self.n), 0
                ring[:, self.L - 1 - to_cycle] = R.x
                filled += 1
            if win is not None and t > w0:
                win.observe(R, t == w0 + 1)
            if t % cfg.escape_every == 0 or t == T:
                keep = self._check(R, pre, t)
                if not keep.all():
                    if ring is not None:
                        ring = ring[torch.from_numpy(keep)]
                    R.keep(keep)
            if to_cycle == 0 and ring is not None:
                if filled == self.L:
                    keep = self._cycles(R, ring)
                    if not keep.all():
                        R.keep(keep)
                ring = None
        if win is not None:
            self.rep = win.representatives(R.rows, self.rep)
            R.keep(self.rep[R.rows] == R.rows)

    # -- phase 2: record with tangents ------------------------------------------------------
    def record(self) -> None:
        cfg, R, k, n = self.cfg, self.live, self.k, self.n
        b = len(R.rows)
        if b == 0:
            return
        T = cfg.n_record
        rng = np.random.default_rng(cfg.seed)
        U = torch.from_numpy(
            (rng.standard_normal((n, cfg.n_observables)) / math.sqrt(n)).astype(np.float32)
        )
        Y = torch.empty(b, 1 + k, n)
        Y[:, 0] = R.x
        Y[:, 1:] = torch.from_numpy(_row_tangents(R.rows, n, k, cfg.seed))
        acc = torch.zeros(b, k, dtype=torch.float64)
        ring = torch.full((b, self.L, n), float("nan"))
        obs = torch.empty(b, T, cfg.n_observables)
        keep_every = max(1, T // cfg.n_points)
        pts = torch.empty(b, cfg.n_points, n)
        alive = np.ones(b, dtype=bool)
        maxn = np.zeros(b)
        c = R.c
        for t in range(T):
            out = (Y.view(-1, n) @ self.Wt).view(b, 1 + k, n)
            pre = out[:, 0] + c
            mask = pre > 0
            Z = out[:, 1:] * mask[:, None]
            if self.alpha == 1.0:
                Y[:, 0] = torch.relu_(pre)
            else:
                Y[:, 0] = (1 - self.alpha) * Y[:, 0] + self.alpha * torch.relu_(pre)
                Z = self.alpha * Z + (1 - self.alpha) * Y[:, 1:]
            if (t + 1) % QR_EVERY == 0 or t == T - 1:
                Z, r = _mgs(Z)
                acc += torch.log(r.double())
            Y[:, 1:] = Z
            x = Y[:, 0]
            if (t + 1) % cfg.escape_every == 0 or t == T - 1:
                nrm = x.abs().amax(1).double().numpy()
                bad = ~(nrm <= cfg.div_threshold)
                if bad.any():
                    alive &= ~bad
                    bt = torch.from_numpy(bad)
                    Y[bt, 0] = 0.0
                    Y[bt, 1:] = torch.from_numpy(_row_tangents(R.rows[bad], n, k, cfg.seed))
                maxn = np.maximum(maxn, np.where(bad | ~alive, np.inf, nrm))
            ring[:, t % self.L] = x
            obs[:, t] = x @ U
            if t % keep_every == 0 and t // keep_every < cfg.n_points:
                pts[:, t // keep_every] = x
        order = torch.from_numpy((np.arange(self.L) + (T % self.L)) % self.L)
        ring = ring[:, order]
        lyap = -np.sort(-(acc / T).numpy(), axis=1)
        per = _smallest_period(ring, cfg)
        for j, row in enumerate(R.rows):
            row = int(row)
            if not alive[j]:
                self._divergent(row)
                continue
            if per[j] and self._cycle(row, ring[j, self.L - per[j] :].double().numpy(), maxn[j]):
                continue
            self.records[row] = label_recorded_orbit(
                lyap[j], obs[j].double().numpy(), pts[j].double().numpy(), float(maxn[j]), cfg
            )

    def result(self) -> list[OrbitRecord]:
        out = []
        for row in range(len(self.records)):
            r = self.records[self.rep[row]]
            assert r is not None, f"row {row} left undecided"
            out.append(r)
        return out


class _Window:
    """Closest approach of each orbit's trajectory to the other orbits' states at the start
    of the window, per grid point (centred on the grid point's mean start, so that float32
    distances are accurate at the attractor's own scale)."""

    def __init__(self, G: int, S: int, n: int) -> None:
        self.G, self.S, self.n = G, S, n
        self.full = torch.zeros(G * S, n)
        self.active = np.zeros(G * S, dtype=bool)
        self.count = 0

    def _gather(self, R: _Rows) -> torch.Tensor:
        self.full.zero_()
        self.full[torch.from_numpy(R.rows)] = R.x
        return self.full.view(self.G, self.S, self.n)

    def observe(self, R: _Rows, first: bool) -> None:
        F = self._gather(R)
        if first:
            self.active[:] = False
            self.active[R.rows] = True
            a = torch.from_numpy(self.active.reshape(self.G, self.S)).float()[..., None]
            self.mu = (F * a).sum(1, keepdim=True) / a.sum(1, keepdim=True).clamp(min=1)
            self.refc = (F - self.mu).clone()
            self.rn2 = (self.refc**2).sum(2)  # (G, S)
            self.dmin = torch.full((self.G, self.S, self.S), float("inf"))
            self.s1 = torch.zeros(self.G, self.S, self.n)
            self.s2 = torch.zeros(self.G, self.S)
        Fc = F - self.mu
        fn2 = (Fc**2).sum(2)
        d2 = fn2[:, :, None] + self.rn2[:, None, :] - 2 * torch.bmm(Fc, self.refc.transpose(1, 2))
        torch.minimum(self.dmin, d2, out=self.dmin)
        self.s1 += Fc
        self.s2 += fn2
        self.count += 1

    def representatives(self, rows: Array, rep: Array) -> Array:
        """``rep`` with every live row j that lies on an earlier live row i's trajectory (same
        grid point) pointing at i's representative."""
        if self.count == 0:
            return rep
        live = np.zeros(self.G * self.S, dtype=bool)
        live[rows] = True
        live &= self.active
        m = self.s1 / self.count
        var = (self.s2 / self.count - (m**2).sum(2)).clamp(min=0).numpy()
        spread = np.sqrt(var)  # (G, S) RMS distance from the window's centroid
        dmin = np.sqrt(self.dmin.clamp(min=0).numpy())  # [g, i, j]: i's trajectory to j's start
        rep = rep.copy()
        L = live.reshape(self.G, self.S)
        for g in np.flatnonzero(L.sum(1) > 1):
            for j in range(1, self.S):
                if not L[g, j]:
                    continue
                for i in range(j):
                    if L[g, i] and dmin[g, i, j] <= DEDUP_TOL * spread[g, i] + DEDUP_ATOL * (
                        1 + math.sqrt(float(self.rn2[g, j]))
                    ):
                        rep[g * self.S + j] = rep[g * self.S + i]
                        break
        return rep


def classify_relu_grid(
    W: Array, C: Array, H0: Array, cfg: OrbitConfig, alpha: float = 1.0
) -> list[OrbitRecord]:
    """Classify the orbits of the map with leak ``alpha`` for every drive row of ``C (G, n)``
    from every initial state of ``H0 (S, n)``.

    Parameters
    ----------
    W : array ``(n, n)``
        Recurrent weights.
    C : array ``(G, n)``
        Constant drives ``W_in x + b``, one per grid point.
    H0 : array ``(S, n)``
        Initial states, the same for every drive.
    cfg : OrbitConfig
        The classifier's settings (the same as version 2's).
    alpha : float
        Leak in (0, 1].

    Returns
    -------
    list of OrbitRecord
        One per orbit, in the order (drive 0: states 0…S−1, drive 1: …); orbits found on an
        earlier orbit's trajectory share its record object.
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got {W.shape}")
    C, H0 = np.atleast_2d(C), np.atleast_2d(H0)
    if C.shape[1] != W.shape[0] or H0.shape[1] != W.shape[0]:
        raise ValueError(f"C {C.shape} and H0 {H0.shape} must have {W.shape[0]} columns")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha!r}")
    # a leaky network's silent units decay as (1 - alpha)^t into float32's subnormal range,
    # where x86 arithmetic is about 100 times slower: flushed to zero while classifying
    torch.set_flush_denormal(True)
    try:
        cl = _Classifier(W, C, H0, cfg, alpha)
        cl.transient()
        cl.record()
        return cl.result()
    finally:
        torch.set_flush_denormal(False)
