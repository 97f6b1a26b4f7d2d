"""Known-answer tests of :mod:`lib.analysis.dynamics` (orbit classifier, Lyapunov spectra, ReLU fixed points).

Every expected value below is derived by hand (or from a classic reference) and stated in the
docstring of the test that uses it. Lyapunov exponents are natural logs per step.

Two conventions are accepted where the API leaves a choice:

* the rotation number of a circle rotating by ``omega`` per step may be reported as ``omega``
  or ``1 - omega`` (the orientation of the plane the orbit is projected on is arbitrary);
* an exponent of a fixed point or cycle whose Jacobian is singular is ``log 0 = -inf``; an
  implementation may instead report a very negative finite number, so only ``< -10`` is
  required there (NaN is not accepted).

Maps whose finite-record estimates are statistical (Hénon, Lozi, logistic r=4) are run with
``n_record=20000`` so that the stated tolerance is several standard deviations wide (with the
default 2000 steps the scatter of the Hénon estimate over starting points is about 0.01).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from numpy.polynomial import polynomial as npoly

from lib.analysis.dynamics import (
    OrbitConfig,
    classify_orbits,
    lyapunov_spectrum_qr,
    relu_fixed_points,
    relu_map,
)

KINDS = {"fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent", "unclassified"}
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0  # 0.6180339887...


# ---------------------------------------------------------------------------------------------
# reference maps: batched step (B, n) -> (B, n) and analytic Jacobian (B, n) -> (B, n, n)


def linear_map(A: np.ndarray, xstar: np.ndarray | None = None):
    """x' = A (x - x*) + x*, Jacobian A everywhere."""
    A = np.asarray(A, dtype=float)
    xs = np.zeros(A.shape[0]) if xstar is None else np.asarray(xstar, dtype=float)

    def step(x):
        return (x - xs) @ A.T + xs

    def jac(x):
        return np.broadcast_to(A, (x.shape[0],) + A.shape).copy()

    return step, jac


def logistic(r: float):
    """x' = r x (1 - x)."""

    def step(x):
        return r * x * (1.0 - x)

    def jac(x):
        return (r * (1.0 - 2.0 * x))[:, :, None]

    return step, jac


def henon(a: float = 1.4, b: float = 0.3):
    """(x, y)' = (1 - a x^2 + y, b x); det J = -b."""

    def step(v):
        x, y = v[:, 0], v[:, 1]
        return np.stack([1.0 - a * x * x + y, b * x], axis=1)

    def jac(v):
        J = np.zeros((v.shape[0], 2, 2))
        J[:, 0, 0] = -2.0 * a * v[:, 0]
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = b
        return J

    return step, jac


def lozi(a: float = 1.7, b: float = 0.5):
    """(x, y)' = (1 - a |x| + y, b x); |det J| = b."""

    def step(v):
        x, y = v[:, 0], v[:, 1]
        return np.stack([1.0 - a * np.abs(x) + y, b * x], axis=1)

    def jac(v):
        J = np.zeros((v.shape[0], 2, 2))
        J[:, 0, 0] = -a * np.sign(v[:, 0])
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = b
        return J

    return step, jac


def delayed_logistic(a: float):
    """(x, y)' = (a x (1 - y), x). Fixed point (1 - 1/a, 1 - 1/a), where J = [[1, 1 - a], [1, 0]]:
    eigenvalues solve mu^2 - mu + (a - 1) = 0, a complex pair of modulus sqrt(a - 1) for
    a > 5/4; Neimark-Sacker bifurcation at a = 2 (|mu| = 1)."""

    def step(v):
        x, y = v[:, 0], v[:, 1]
        return np.stack([a * x * (1.0 - y), x], axis=1)

    def jac(v):
        J = np.zeros((v.shape[0], 2, 2))
        J[:, 0, 0] = a * (1.0 - v[:, 1])
        J[:, 0, 1] = -a * v[:, 0]
        J[:, 1, 0] = 1.0
        return J

    return step, jac


def circle_normal_form(omega: float, mu: float = 0.2):
    """z' = (1 + mu (1 - |z|^2)) R(2 pi omega) z, in Cartesian coordinates.

    In polar coordinates r' = r + mu r (1 - r^2), theta' = theta + 2 pi omega: the unit circle
    is invariant and attracting, dr'/dr = 1 - 2 mu there, and the angle advances by exactly
    omega turns per step. On the circle the Jacobian is R (I - 2 mu z z^T): tangential
    multiplier 1, radial multiplier 1 - 2 mu, so lambda = (0, log(1 - 2 mu)) exactly.
    """
    cth, sth = math.cos(2 * math.pi * omega), math.sin(2 * math.pi * omega)
    R = np.array([[cth, -sth], [sth, cth]])

    def step(z):
        s = 1.0 + mu * (1.0 - np.einsum("bi,bi->b", z, z))
        return (s[:, None] * z) @ R.T

    def jac(z):
        s = 1.0 + mu * (1.0 - np.einsum("bi,bi->b", z, z))
        G = s[:, None, None] * np.eye(2)[None] - 2.0 * mu * z[:, :, None] * z[:, None, :]
        return R[None] @ G

    return step, jac


def tent(s: float):
    """x' = s min(x, 1 - x); |f'| = s everywhere (except x = 1/2), so lambda = log s exactly."""

    def step(x):
        return s * np.minimum(x, 1.0 - x)

    def jac(x):
        return np.where(x < 0.5, s, -s)[:, :, None]

    return step, jac


def cat_map():
    """Arnold's cat map on the torus: (x, y)' = (2x + y, x + y) mod 1, constant J = [[2,1],[1,1]]."""
    A = np.array([[2.0, 1.0], [1.0, 1.0]])

    def step(v):
        return np.mod(v @ A.T, 1.0)

    def jac(v):
        return np.broadcast_to(A, (v.shape[0], 2, 2)).copy()

    return step, jac


def fd_jacobian(step, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite-difference Jacobian of a batched map at the rows of x."""
    B, n = x.shape
    J = np.empty((B, n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        J[:, :, j] = (step(x + e) - step(x - e)) / (2 * eps)
    return J


def rotation_matrix(t: float) -> np.ndarray:
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


# a fixed, non-orthogonal change of basis (condition number about 7) used to make matrices
# non-normal while keeping their eigenvalues known
V3 = np.array([[1.0, 0.6, -0.3], [0.2, 1.0, 0.5], [-0.4, 0.3, 1.0]])


def assert_rotation(rho, omega, tol):
    """rho equals omega or 1 - omega (orientation is arbitrary), within tol."""
    assert rho is not None
    assert 0.0 <= rho < 1.0
    assert min(abs(rho - omega), abs(rho - (1.0 - omega))) <= tol, (rho, omega)


def assert_record_shape(rec, n, k_expected):
    assert rec.kind in KINDS
    lam = np.asarray(rec.lyapunov)
    assert lam.shape == (k_expected,)
    if rec.kind != "divergent":
        pts = np.asarray(rec.points)
        assert pts.ndim == 2 and pts.shape[1] == n and pts.shape[0] >= 1
        assert np.all(np.isfinite(pts))
        assert not np.any(np.isnan(lam))
        # descending; -inf (log of a zero eigenvalue) may repeat at the end
        for a, b in zip(lam[:-1], lam[1:], strict=True):
            assert b == -np.inf or a >= b - 1e-12, f"exponents not descending: {lam}"


# ---------------------------------------------------------------------------------------------
# sanity of the reference maps themselves (so that a failure below is about lib.analysis.dynamics)


@pytest.mark.parametrize(
    "maker, x",
    [
        (lambda: logistic(3.7), np.array([[0.123], [0.8]])),
        (lambda: henon(), np.array([[0.1, 0.1], [-0.7, 0.2]])),
        (lambda: lozi(), np.array([[0.1, 0.1], [-0.7, 0.2]])),
        (lambda: delayed_logistic(2.1), np.array([[0.6, 0.6], [0.3, 0.5]])),
        (lambda: circle_normal_form(GOLDEN), np.array([[0.3, -0.8], [1.2, 0.4]])),
        (lambda: tent(1.9), np.array([[0.3], [0.71]])),
        (lambda: cat_map(), np.array([[0.3, 0.2], [0.1, 0.25]])),
    ],
)
def test_reference_map_jacobians_match_finite_differences(maker, x):
    """The analytic Jacobians used as inputs below agree with central differences."""
    step, jac = maker()
    np.testing.assert_allclose(jac(x), fd_jacobian(step, x), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# 1. linear contractions: fixed point with lambda_i = log |eigenvalue_i|


def test_linear_contraction_real_eigenvalues_is_fixed_point_with_log_eigenvalues():
    """x' = A (x - x*) + x*, A = V diag(0.9, 0.5, -0.3) V^-1 (non-normal).

    Known answer: every orbit converges to x* = (1, -2, 0.5); kind "fixed_point", period 1,
    lambda = (log 0.9, log 0.5, log 0.3) (Jacobian = A, so exact), no rotation number.
    """
    A = V3 @ np.diag([0.9, 0.5, -0.3]) @ np.linalg.inv(V3)
    xstar = np.array([1.0, -2.0, 0.5])
    step, jac = linear_map(A, xstar)
    x0 = np.array([[0.0, 0.0, 0.0], [3.0, 1.0, -2.0], [-5.0, 4.0, 7.0]])
    recs = classify_orbits(step, jac, x0)
    assert len(recs) == 3
    expected = np.log([0.9, 0.5, 0.3])
    for rec in recs:
        assert_record_shape(rec, 3, 3)
        assert rec.kind == "fixed_point"
        assert rec.period == 1
        assert rec.rotation_number is None
        np.testing.assert_allclose(rec.lyapunov, expected, atol=1e-6)
        # convergence is at rate 0.9 and stops at a relative step of ~1e-7: x* within 1e-5
        np.testing.assert_allclose(np.asarray(rec.points)[0], xstar, atol=1e-5)


def test_linear_contraction_complex_pair_is_fixed_point():
    """A = V blockdiag(0.8 R(1 rad), 0.6) V^-1: eigenvalues 0.8 e^{+-i}, 0.6.

    Known answer: fixed point at x* = (0.5, 0.5, -1); lambda = (log 0.8, log 0.8, log 0.6).
    """
    Bk = np.zeros((3, 3))
    Bk[:2, :2] = 0.8 * rotation_matrix(1.0)
    Bk[2, 2] = 0.6
    A = V3 @ Bk @ np.linalg.inv(V3)
    xstar = np.array([0.5, 0.5, -1.0])
    step, jac = linear_map(A, xstar)
    recs = classify_orbits(step, jac, np.array([[2.0, -1.0, 3.0], [0.4, 0.6, -0.9]]))
    for rec in recs:
        assert rec.kind == "fixed_point"
        assert rec.period == 1
        np.testing.assert_allclose(rec.lyapunov, np.log([0.8, 0.8, 0.6]), atol=1e-6)
        np.testing.assert_allclose(np.asarray(rec.points)[0], xstar, atol=1e-5)


def test_number_of_exponents_is_min_of_n_and_n_exponents():
    """A = diag(0.9, 0.5, -0.3, 0.1) (n = 4), fixed point 0.

    Known answer: by default (n_exponents=3) lambda = log(0.9, 0.5, 0.3); with n_exponents=4,
    log(0.9, 0.5, 0.3, 0.1); with n_exponents=6 still 4 exponents (min(n, k)); for a 1-D map
    always one exponent.
    """
    step, jac = linear_map(np.diag([0.9, 0.5, -0.3, 0.1]))
    x0 = np.array([[1.0, -1.0, 2.0, 0.5]])
    (rec,) = classify_orbits(step, jac, x0)
    assert rec.kind == "fixed_point"
    np.testing.assert_allclose(rec.lyapunov, np.log([0.9, 0.5, 0.3]), atol=1e-9)
    (rec,) = classify_orbits(step, jac, x0, n_exponents=4)
    np.testing.assert_allclose(rec.lyapunov, np.log([0.9, 0.5, 0.3, 0.1]), atol=1e-9)
    (rec,) = classify_orbits(step, jac, x0, n_exponents=6)
    assert np.asarray(rec.lyapunov).shape == (4,)
    step1, jac1 = linear_map(np.array([[-0.7]]))
    (rec,) = classify_orbits(step1, jac1, np.array([[3.0]]))
    assert rec.kind == "fixed_point"
    np.testing.assert_allclose(rec.lyapunov, [math.log(0.7)], atol=1e-9)


def test_config_object_and_keyword_overrides_combine():
    """classify_orbits(config=OrbitConfig(...), **overrides): overrides win. Known answer: with
    n_exponents=1 from the config and n_exponents=2 as keyword, two exponents come back."""
    step, jac = linear_map(np.diag([0.9, 0.5, -0.3]))
    cfg = OrbitConfig(n_exponents=1)
    (rec,) = classify_orbits(step, jac, np.ones((1, 3)), config=cfg)
    np.testing.assert_allclose(rec.lyapunov, [math.log(0.9)], atol=1e-9)
    (rec,) = classify_orbits(step, jac, np.ones((1, 3)), config=cfg, n_exponents=2)
    np.testing.assert_allclose(rec.lyapunov, np.log([0.9, 0.5]), atol=1e-9)


# ---------------------------------------------------------------------------------------------
# 2. lyapunov_spectrum_qr on constant Jacobians


@pytest.mark.parametrize(
    "A, expected",
    [
        # normal, diagonal
        (np.diag([0.9, 0.5, -0.3]), np.log([0.9, 0.5, 0.3])),
        # strongly non-normal upper triangular, distinct real eigenvalues on the diagonal
        (
            np.array([[0.9, 5.0, -2.0], [0.0, 0.5, 3.0], [0.0, 0.0, -0.3]]),
            np.log([0.9, 0.5, 0.3]),
        ),
        # non-normal with an expanding direction
        (
            V3 @ np.diag([1.2, -0.7, 0.25]) @ np.linalg.inv(V3),
            np.log([1.2, 0.7, 0.25]),
        ),
        # expanding complex pair (modulus 1.1) plus a real contraction, non-normal
        (
            V3
            @ np.block([[1.1 * rotation_matrix(1.0), np.zeros((2, 1))], [np.zeros((1, 2)), 0.5]])
            @ np.linalg.inv(V3),
            np.log([1.1, 1.1, 0.5]),
        ),
    ],
    ids=["diagonal", "nonnormal-triangular", "nonnormal-expanding", "complex-pair"],
)
def test_qr_spectrum_of_constant_linear_map_is_log_abs_eigenvalues(A, expected):
    """For x' = A x the Lyapunov spectrum is log|eig(A)| sorted descending (Oseledets; for a
    constant matrix the QR/Benettin estimate converges at rate O(1/n_steps)).

    Starting at the fixed point x0 = 0 keeps the orbit finite even when A expands.
    Tolerance 1e-2 at n_steps=2000 (the O(1/T) bias is about log(cond V)/T ~ 1e-3).
    """
    step, jac = linear_map(A)
    x0 = np.zeros((3, 3))
    lam = lyapunov_spectrum_qr(step, jac, x0, 2000, 3)
    assert lam.shape == (3, 3)
    for row in lam:
        np.testing.assert_allclose(row, expected, atol=1e-2)
        assert np.all(np.diff(row) <= 0)
    lam2 = lyapunov_spectrum_qr(step, jac, x0[:1], 2000, 2)
    assert lam2.shape == (1, 2)
    np.testing.assert_allclose(lam2[0], expected[:2], atol=1e-2)


def test_qr_spectrum_starts_at_x0_and_averages_jacobians_along_the_orbit():
    """1-D map x' = x + 1 with a made-up 'Jacobian' J(x) = 2 for x < 9.5 and 1/2 otherwise.

    From x0 = 0 the orbit is 0, 1, 2, ...; lambda = (1/N) sum_{t=0}^{N-1} log|J(x_t)|.
    Known answers: N = 10 -> log 2 (only x_0..x_9 < 9.5); N = 20 -> 0 exactly
    (an off-by-one in the orbit indexing, or a discarded transient, gives a nonzero value);
    N = 15 -> (10 log 2 - 5 log 2)/15 = log(2)/3.
    """

    def step(x):
        return x + 1.0

    def jac(x):
        return np.where(x < 9.5, 2.0, 0.5)[:, :, None]

    x0 = np.zeros((1, 1))
    assert lyapunov_spectrum_qr(step, jac, x0, 10, 1)[0, 0] == pytest.approx(math.log(2), abs=1e-12)
    assert lyapunov_spectrum_qr(step, jac, x0, 20, 1)[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert lyapunov_spectrum_qr(step, jac, x0, 15, 1)[0, 0] == pytest.approx(
        math.log(2) / 3, abs=1e-12
    )


def test_qr_spectrum_sum_equals_mean_log_det_on_henon():
    """For k = n the QR exponents sum to the mean of log|det J| along the orbit; for Hénon
    det J = -b, so lambda_1 + lambda_2 = log 0.3 to rounding error, for any orbit length."""
    step, jac = henon()
    x0 = np.array([[0.1, 0.1], [0.3, -0.1]])
    for _ in range(100):
        x0 = step(x0)
    lam = lyapunov_spectrum_qr(step, jac, x0, 300, 2)
    np.testing.assert_allclose(lam.sum(1), math.log(0.3), atol=1e-10)


# ---------------------------------------------------------------------------------------------
# 3. logistic map: cycles with analytic answers


def test_logistic_r32_two_cycle():
    """Logistic r = 3.2 (between the period-doubling points 3 and 1+sqrt(6)).

    Known answer (solve f(f(x)) = x, divide out the fixed points): the stable 2-cycle
    x_+- = (r + 1 +- sqrt((r - 3)(r + 1))) / (2 r) = 0.79946, 0.51304; its multiplier is
    f'(x_+) f'(x_-) = r^2 (1 - 2x_+)(1 - 2x_-) = 4 + 2r - r^2 = 0.16, so
    lambda = (1/2) log 0.16 = log 0.4.
    """
    r = 3.2
    step, jac = logistic(r)
    d = math.sqrt((r - 3) * (r + 1))
    cycle = np.sort([(r + 1 - d) / (2 * r), (r + 1 + d) / (2 * r)])
    recs = classify_orbits(step, jac, np.array([[0.2], [0.7]]))
    for rec in recs:
        assert_record_shape(rec, 1, 1)
        assert rec.kind == "periodic"
        assert rec.period == 2
        assert rec.rotation_number is None
        pts = np.sort(np.asarray(rec.points)[:, 0])
        np.testing.assert_allclose(pts, cycle, atol=1e-9)
        assert rec.lyapunov[0] == pytest.approx(0.5 * math.log(abs(4 + 2 * r - r * r)), abs=1e-9)
        assert rec.lyapunov[0] == pytest.approx(math.log(0.4), abs=1e-9)


def _logistic_stable_cycle(r: float, p: int) -> tuple[np.ndarray, float]:
    """Stable p-cycle of the logistic map, independent of lib.analysis.dynamics: real roots of the
    polynomial f^p(x) - x (numpy polynomial composition), each polished by Newton's method on
    x -> f^p(x) - x evaluated by iteration (the degree-2^p coefficients are ill-conditioned),
    keeping roots of minimal period p with |multiplier| < 1."""
    f = np.array([0.0, r, -r])
    g = f.copy()
    for _ in range(p - 1):  # g <- f(g)
        g = npoly.polyadd(npoly.polyadd([f[0]], f[1] * g), f[2] * npoly.polymul(g, g))
    roots = npoly.polyroots(npoly.polysub(g, [0.0, 1.0]))
    roots = roots[np.abs(roots.imag) < 1e-6].real

    def orbit_and_multiplier(x):
        orbit, m = [x], 1.0
        for _ in range(p):
            m *= r * (1 - 2 * orbit[-1])
            orbit.append(r * orbit[-1] * (1 - orbit[-1]))
        return orbit, m

    found = []
    for x in roots:
        for _ in range(30):
            orbit, m = orbit_and_multiplier(x)
            if m == 1.0:
                break
            x = x - (orbit[-1] - x) / (m - 1.0)
        orbit, m = orbit_and_multiplier(x)
        assert abs(orbit[-1] - x) < 1e-13
        minimal = all(abs(orbit[q] - orbit[0]) > 1e-6 for q in range(1, p))
        if minimal and abs(m) < 1:
            found.append((np.sort(orbit[:p]), math.log(abs(m)) / p))
    assert found, "no stable cycle found by the reference computation"
    pts, lam = found[0]
    for other, _ in found[1:]:
        np.testing.assert_allclose(other, pts, atol=1e-12)  # all roots are the same cycle
    return pts, lam


def test_logistic_r35_four_cycle():
    """Logistic r = 3.5 (between 1+sqrt(6) = 3.449 and 3.544): stable 4-cycle.

    Known answer: the cycle computed from the roots of f^4(x) - x (approx. 0.38282, 0.50088,
    0.82694, 0.87500) and lambda = (1/4) log|prod f'| = -0.87251 (both from the reference
    polynomial computation, not from lib.analysis.dynamics).
    """
    r = 3.5
    cycle, lam = _logistic_stable_cycle(r, 4)
    assert lam == pytest.approx(-0.8725, abs=1e-3)  # the reference computation itself
    step, jac = logistic(r)
    recs = classify_orbits(step, jac, np.array([[0.1], [0.55], [0.9]]))
    for rec in recs:
        assert rec.kind == "periodic"
        assert rec.period == 4
        np.testing.assert_allclose(np.sort(np.asarray(rec.points)[:, 0]), cycle, atol=1e-8)
        assert rec.lyapunov[0] == pytest.approx(lam, abs=1e-6)


def test_logistic_r28_fixed_point():
    """Logistic r = 2.8: fixed point x* = 1 - 1/r with multiplier f'(x*) = 2 - r, so
    lambda = log|2 - r| = log 0.8."""
    r = 2.8
    step, jac = logistic(r)
    recs = classify_orbits(step, jac, np.array([[0.1], [0.5], [0.95]]))
    for rec in recs:
        assert_record_shape(rec, 1, 1)
        assert rec.kind == "fixed_point"
        assert rec.period == 1
        assert np.asarray(rec.points)[0, 0] == pytest.approx(1 - 1 / r, abs=1e-6)
        assert rec.lyapunov[0] == pytest.approx(math.log(abs(2 - r)), abs=1e-5)


# ---------------------------------------------------------------------------------------------
# 4-5. chaotic maps


def test_logistic_r4_is_chaotic_with_exponent_log2():
    """Logistic r = 4 is conjugate to the tent map of slope 2: lambda_1 = ln 2 = 0.6931 (Ulam &
    von Neumann). Generic starts 0.123, 0.377 (not preperiodic). Default record: chaotic;
    20000-step record: lambda_1 within 0.03 of ln 2."""
    step, jac = logistic(4.0)
    x0 = np.array([[0.123], [0.377]])
    for rec in classify_orbits(step, jac, x0):
        assert rec.kind == "chaotic"
        assert rec.period is None
    for rec in classify_orbits(step, jac, x0, n_record=20000):
        assert_record_shape(rec, 1, 1)
        assert rec.kind == "chaotic"
        assert rec.lyapunov[0] == pytest.approx(math.log(2), abs=0.03)


def test_henon_is_chaotic_with_known_spectrum_from_four_starts():
    """Hénon a = 1.4, b = 0.3 (classic parameters): lambda_1 = 0.4192 (e.g. Sprott, Chaos and
    Time-Series Analysis, table of exponents; 0.41934 from a 2e5-step QR run), and
    lambda_1 + lambda_2 = log|det J| = log 0.3 = -1.2040 exactly. Four starts in the basin,
    one batch: all chaotic."""
    step, jac = henon()
    x0 = np.array([[0.1, 0.1], [0.0, 0.0], [-0.5, 0.2], [0.5, -0.1]])
    recs = classify_orbits(step, jac, x0, n_record=20000)
    assert len(recs) == 4
    for rec in recs:
        assert_record_shape(rec, 2, 2)
        assert rec.kind == "chaotic"
        assert rec.period is None
        assert rec.lyapunov[0] == pytest.approx(0.4192, abs=0.02)
        assert rec.lyapunov[0] + rec.lyapunov[1] == pytest.approx(math.log(0.3), abs=1e-8)
        # points lie on the attractor: inside its known bounding box |x| < 1.3, |y| < 0.4
        pts = np.asarray(rec.points)
        assert np.all(np.abs(pts[:, 0]) < 1.3) and np.all(np.abs(pts[:, 1]) < 0.4)


def test_henon_default_record_is_chaotic():
    """Same map with the default settings: still 'chaotic' (lambda_1 is 0.42 >> lyap_tol)."""
    step, jac = henon()
    (rec,) = classify_orbits(step, jac, np.array([[0.1, 0.1]]))
    assert rec.kind == "chaotic"
    assert rec.lyapunov[0] == pytest.approx(0.4192, abs=0.05)


def test_lozi_is_chaotic_with_known_spectrum():
    """Lozi a = 1.7, b = 0.5: lambda_1 = 0.4703 (Sprott's table; 0.47085 from a 2e5-step QR run),
    lambda_1 + lambda_2 = log b = -0.6931 exactly (|det J| = b)."""
    step, jac = lozi()
    (rec,) = classify_orbits(step, jac, np.array([[0.1, 0.1]]), n_record=20000)
    assert rec.kind == "chaotic"
    assert rec.lyapunov[0] == pytest.approx(0.4703, abs=0.02)
    assert rec.lyapunov[0] + rec.lyapunov[1] == pytest.approx(math.log(0.5), abs=1e-8)


def test_tent_map_slope_19_exponent_is_exactly_log_slope():
    """Tent map of slope 1.9: |f'| = 1.9 at every point of the orbit, so lambda = ln 1.9 =
    0.641854 exactly for every record length; chaotic."""
    step, jac = tent(1.9)
    for rec in classify_orbits(step, jac, np.array([[0.3], [0.7123]])):
        assert rec.kind == "chaotic"
        assert rec.lyapunov[0] == pytest.approx(math.log(1.9), abs=1e-9)
        pts = np.asarray(rec.points)[:, 0]
        # the attractor is the interval [s (1 - s/2), s/2] = [0.095, 0.95]
        assert np.all((pts >= 0.095 - 1e-12) & (pts <= 0.95 + 1e-12))


def test_cat_map_is_chaotic_with_exponents_log_golden_squared():
    """Arnold's cat map (torus, mod 1): constant J = [[2, 1], [1, 1]], eigenvalues
    (3 +- sqrt 5)/2, so lambda = +-ln((3 + sqrt 5)/2) = +-0.962424; sum 0 (area preserving).
    Tolerance 5e-3 covers the O(1/T) alignment bias of the random initial tangent vector."""
    step, jac = cat_map()
    lam1 = math.log((3 + math.sqrt(5)) / 2)
    for rec in classify_orbits(step, jac, np.array([[0.1234, 0.5678], [0.31, 0.77]])):
        assert rec.kind == "chaotic"
        np.testing.assert_allclose(rec.lyapunov, [lam1, -lam1], atol=5e-3)
        assert rec.lyapunov[0] + rec.lyapunov[1] == pytest.approx(0.0, abs=1e-8)


# ---------------------------------------------------------------------------------------------
# 6-7. invariant circles: quasi-periodic vs phase-locked


# Rotation number of the delayed logistic map at a = 2.1 around its fixed point, from the
# unwrapped angle of (x - x*, y - x*) over 1e6 steps after 2e4 transient steps (plain average;
# error < 1e-6). Nearest rational with denominator <= 64: 5/32 (1.4e-4 away).
RHO_DELAYED_LOGISTIC_21 = 0.156106005


def test_delayed_logistic_a21_is_quasi_periodic():
    """Delayed logistic (x, y)' = (a x (1 - y), x), a = 2.1: above the Neimark-Sacker
    bifurcation at a = 2 the fixed point is a repeller inside an attracting invariant circle
    (Aronson, Chory, Hall & McGehee 1982) with irrational rotation number 0.156106.

    Known answer: quasi_periodic, |lambda_1| < 5e-3 (exactly 0 on a smooth circle with
    irrational rotation), lambda_2 < 0, rotation number 0.156106 (or 1 - that) within 1e-5, not
    within 1e-4 of any p/q with q <= 10, and the same for three starts (within 1e-6).
    """
    step, jac = delayed_logistic(2.1)
    x0 = np.array([[0.6, 0.6], [0.5, 0.55], [0.4, 0.45]])
    recs = classify_orbits(step, jac, x0)
    rhos = []
    for rec in recs:
        assert_record_shape(rec, 2, 2)
        assert rec.kind == "quasi_periodic"
        assert rec.period is None
        assert abs(rec.lyapunov[0]) < 5e-3
        assert rec.lyapunov[1] < -5e-3
        assert_rotation(rec.rotation_number, RHO_DELAYED_LOGISTIC_21, 1e-5)
        rho = rec.rotation_number
        for q in range(1, 11):
            assert abs(rho * q - round(rho * q)) / q > 1e-4
        rhos.append(rho)
        # the circle surrounds the repelling fixed point: points are off it, in (0, 1)^2
        pts = np.asarray(rec.points)
        assert np.all(np.linalg.norm(pts - (1 - 1 / 2.1), axis=1) > 1e-2)
        assert np.all((pts > 0) & (pts < 1))
    assert max(rhos) - min(rhos) < 1e-6


def test_delayed_logistic_a19_is_fixed_point():
    """Delayed logistic a = 1.9 (below the Neimark-Sacker bifurcation at a = 2): the fixed point
    (1 - 1/a, 1 - 1/a) attracts, J there = [[1, 1 - a], [1, 0]] with a complex pair of modulus
    sqrt(a - 1), so lambda_1 = lambda_2 = (1/2) log 0.9 = -0.05268."""
    a = 1.9
    step, jac = delayed_logistic(a)
    recs = classify_orbits(step, jac, np.array([[0.6, 0.6], [0.3, 0.5]]))
    for rec in recs:
        assert rec.kind == "fixed_point"
        assert rec.period == 1
        np.testing.assert_allclose(np.asarray(rec.points)[0], [1 - 1 / a] * 2, atol=1e-6)
        np.testing.assert_allclose(rec.lyapunov, [0.5 * math.log(a - 1)] * 2, atol=1e-5)


@pytest.mark.parametrize(
    "omega", [GOLDEN, math.sqrt(2.0) - 1.0, 1.0 / math.e], ids=["golden", "silver", "1/e"]
)
def test_circle_normal_form_irrational_rotation_is_quasi_periodic(omega):
    """z' = (1 + mu (1 - |z|^2)) R(2 pi omega) z, mu = 0.2, omega irrational: (sqrt 5 - 1)/2,
    sqrt 2 - 1 or 1/e.

    Known answer (by construction): attracting unit circle rotated rigidly by omega turns per
    step, so quasi_periodic with rotation number omega (or 1 - omega) within 1e-6;
    lambda_1 = 0 (|lambda_1| < 5e-3), lambda_2 = log(1 - 2 mu) = log 0.6 within 5e-3, and
    lambda_1 + lambda_2 = log 0.6 to rounding (|det J| = 0.6 on the circle). Points on |z| = 1.
    """
    step, jac = circle_normal_form(omega)
    x0 = np.array([[0.3, 0.1], [-1.2, 0.5]])
    for rec in classify_orbits(step, jac, x0):
        assert_record_shape(rec, 2, 2)
        assert rec.kind == "quasi_periodic"
        assert rec.period is None
        assert abs(rec.lyapunov[0]) < 5e-3
        assert rec.lyapunov[1] == pytest.approx(math.log(0.6), abs=5e-3)
        assert rec.lyapunov[0] + rec.lyapunov[1] == pytest.approx(math.log(0.6), abs=1e-8)
        assert_rotation(rec.rotation_number, omega, 1e-6)
        np.testing.assert_allclose(np.linalg.norm(np.asarray(rec.points), axis=1), 1.0, atol=1e-9)


def test_circle_normal_form_rational_rotation_is_period_5():
    """Same map with omega = 1/5: every orbit on the circle is a 5-cycle (rotation by 72 deg).

    Known answer: periodic, period 5, points on |z| = 1 at angles spaced by 2 pi/5;
    the Jacobian product around the cycle has eigenvalues 1 (tangent) and 0.6^5 (radial), so
    lambda = (0, log 0.6) exactly.
    """
    step, jac = circle_normal_form(0.2)
    for rec in classify_orbits(step, jac, np.array([[0.3, 0.1], [-1.2, 0.5]])):
        assert rec.kind == "periodic"
        assert rec.period == 5
        assert rec.rotation_number is None
        pts = np.asarray(rec.points)
        assert pts.shape == (5, 2)
        np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 1.0, atol=1e-9)
        ang = np.sort(np.mod(np.arctan2(pts[:, 1], pts[:, 0]), 2 * np.pi))
        gaps = np.diff(np.concatenate([ang, [ang[0] + 2 * np.pi]]))
        np.testing.assert_allclose(gaps, 2 * np.pi / 5, atol=1e-8)
        np.testing.assert_allclose(rec.lyapunov, [0.0, math.log(0.6)], atol=1e-9)


def test_weighted_birkhoff_averages_known_answers():
    """Weighted Birkhoff average with the exp(-1/(t(1-t))) bump (Das, Saiki, Sander & Yorke 2017).

    Known answers: along the rotation theta_n = n omega (omega golden) the space averages of
    cos(2 pi theta) and cos^2(2 pi theta) are 0 and 1/2, and the weighted average converges
    super-polynomially (error < 1e-10 with 4000 terms, where the plain mean is off by ~6e-6);
    so the two halves agree to > 8 digits. On i.i.d. noise the halves agree only to about
    log10(sqrt(N)) ~ 1.5-2 digits (< 3).
    """
    from lib.analysis.dynamics import birkhoff_digits, weighted_birkhoff

    n = np.arange(4000)
    f = np.cos(2 * np.pi * GOLDEN * n)
    assert abs(weighted_birkhoff(f)) < 1e-10
    assert weighted_birkhoff(f**2) == pytest.approx(0.5, abs=1e-10)
    assert abs(f.mean()) > 1e-6  # the plain mean is ~1e4 times worse (sanity of the test)
    assert birkhoff_digits(f) > 8
    noise = np.random.default_rng(0).standard_normal(4000)
    assert birkhoff_digits(noise) < 3
    # batched along an axis
    F = np.stack([f, f**2])
    np.testing.assert_allclose(weighted_birkhoff(F, axis=1), [0.0, 0.5], atol=1e-10)


# ---------------------------------------------------------------------------------------------
# divergence


def test_expanding_affine_map_is_divergent():
    """x' = 2x + 1 from x0 = 1: x_t = 2^{t+1} - 1 -> infinity. Known answer: divergent, no
    period, no rotation number."""

    def step(x):
        return 2.0 * x + 1.0

    def jac(x):
        return np.full((x.shape[0], 1, 1), 2.0)

    (rec,) = classify_orbits(step, jac, np.array([[1.0]]))
    assert rec.kind == "divergent"
    assert rec.period is None
    assert rec.rotation_number is None
    assert np.asarray(rec.lyapunov).shape == (1,)


def test_mixed_batch_converging_and_escaping():
    """x' = x (0.5 + x): fixed points 0 (multiplier 0.5, attracting) and 0.5 (multiplier 2,
    repelling). From 0.3 and -0.3 the orbit goes to 0 (lambda = log 0.5); from 0.7 and -2.0
    (-2 -> 3 -> ...) it escapes super-exponentially. One batch, row order preserved."""

    def step(x):
        return x * (0.5 + x)

    def jac(x):
        return (0.5 + 2.0 * x)[:, :, None]

    recs = classify_orbits(step, jac, np.array([[0.3], [0.7], [-0.3], [-2.0]]))
    assert [r.kind for r in recs] == ["fixed_point", "divergent", "fixed_point", "divergent"]
    for rec in (recs[0], recs[2]):
        assert rec.period == 1
        assert abs(np.asarray(rec.points)[0, 0]) < 1e-6
        assert rec.lyapunov[0] == pytest.approx(math.log(0.5), abs=1e-6)


def test_non_finite_state_is_divergent():
    """A map that returns NaN once the state exceeds 1 (doubling from 0.1: 0.1, 0.2, 0.4, 0.8,
    1.6 -> NaN): known answer divergent (a non-finite state counts as divergence); a second row
    starting at 0 (a fixed point of x' = 2x) is a fixed point in the same batch."""

    def step(x):
        return np.where(x > 1.0, np.nan, 2.0 * x)

    def jac(x):
        return np.full((x.shape[0], 1, 1), 2.0)

    recs = classify_orbits(step, jac, np.array([[0.1], [0.0]]))
    assert recs[0].kind == "divergent"
    assert recs[1].kind == "fixed_point"
    assert recs[1].lyapunov[0] == pytest.approx(math.log(2.0), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# 8. ReLU networks


def _sort_rows(P):
    P = np.asarray(P, dtype=float)
    return P[np.lexsort(P.T[::-1])]


def _nonzero_sorted(e):
    e = np.asarray(e)
    e = e[np.abs(e) > 1e-12]
    return np.sort_complex(e.astype(complex))


def _brute_force_relu_fixed_points(W, c):
    """All fixed points of h = ReLU(W h + c), by trying every activation pattern D: solve
    (I - D W) h = D c and keep h if W h + c has pattern D (independent of lib.analysis.dynamics)."""
    n = len(c)
    out = []
    for pat in itertools.product([0.0, 1.0], repeat=n):
        D = np.diag(pat)
        A = np.eye(n) - D @ W
        if abs(np.linalg.det(A)) < 1e-12:
            continue
        h = np.linalg.solve(A, D @ c)
        pre = W @ h + c
        if all((pre[i] > 0) if pat[i] else (pre[i] <= 0) for i in range(n)):
            out.append(h)
    return np.array(out).reshape(-1, n)


def test_relu_map_step_and_jacobian_match_definition_and_finite_differences():
    """relu_map(W, c): step = ReLU(W h + c); Jacobian = diag(W h + c > 0) W, equal to central
    differences at generic points (no pre-activation within 1e-3 of 0)."""
    rng = np.random.default_rng(1)
    n, B = 5, 6
    W = rng.normal(0, 0.8, (n, n))
    c = rng.normal(0, 1, n)
    h = rng.normal(0, 1, (B, n))
    pre = h @ W.T + c
    assert np.abs(pre).min() > 1e-3
    step, jac = relu_map(W, c)
    np.testing.assert_allclose(step(h), np.maximum(pre, 0), atol=1e-14)
    J = jac(h)
    assert J.shape == (B, n, n)
    np.testing.assert_allclose(J, (pre > 0)[:, :, None] * W[None], atol=1e-14)
    np.testing.assert_allclose(J, fd_jacobian(step, h, eps=1e-7), atol=1e-7)
    assert (pre < 0).any() and (pre > 0).any()  # both branches exercised


def test_relu_map_is_batched_over_inputs():
    """relu_map(W, C) with C of shape (B, n): row b uses input C[b]; identical to building
    one map per row."""
    rng = np.random.default_rng(2)
    n, B = 4, 5
    W = rng.normal(0, 0.8, (n, n))
    C = rng.normal(0, 1, (B, n))
    h = rng.normal(0, 1, (B, n))
    step, jac = relu_map(W, C)
    s, J = step(h), jac(h)
    assert s.shape == (B, n) and J.shape == (B, n, n)
    for b in range(B):
        sb, jb = relu_map(W, C[b])
        np.testing.assert_allclose(s[b], sb(h[b : b + 1])[0], atol=1e-14)
        np.testing.assert_allclose(J[b], jb(h[b : b + 1])[0], atol=1e-14)


def test_relu_contracting_network_unique_stable_fixed_point():
    """W = 0.5 I, c = (1, -1): unit 2 has pre-activation -1 < 0 (off), unit 1 solves
    h = 0.5 h + 1. Known answer: unique fixed point (2, 0), stable, D W = diag(0.5, 0)
    (eigenvalues 0.5 and 0). classify_orbits with relu_map: fixed point (2, 0), lambda_1 = log 0.5.
    With c = (1, 0.5) both units are on: (2, 1), lambda = (log 0.5, log 0.5)."""
    W = 0.5 * np.eye(2)
    c = np.array([1.0, -1.0])
    fps = relu_fixed_points(W, c)
    assert len(fps.points) == 1
    np.testing.assert_allclose(fps.points[0], [2.0, 0.0], atol=1e-12)
    assert fps.residual[0] < 1e-10
    assert bool(fps.stable[0])
    np.testing.assert_allclose(_nonzero_sorted(fps.eigenvalues[0]), [0.5], atol=1e-12)

    step, jac = relu_map(W, c)
    for rec in classify_orbits(step, jac, np.array([[0.0, 0.0], [5.0, 3.0], [-1.0, 2.0]])):
        assert rec.kind == "fixed_point"
        np.testing.assert_allclose(np.asarray(rec.points)[0], [2.0, 0.0], atol=1e-6)
        assert rec.lyapunov[0] == pytest.approx(math.log(0.5), abs=1e-9)

    c2 = np.array([1.0, 0.5])
    fps = relu_fixed_points(W, c2)
    np.testing.assert_allclose(fps.points, [[2.0, 1.0]], atol=1e-12)
    step, jac = relu_map(W, c2)
    (rec,) = classify_orbits(step, jac, np.array([[0.3, 0.3]]))
    assert rec.kind == "fixed_point"
    np.testing.assert_allclose(rec.lyapunov, np.log([0.5, 0.5]), atol=1e-9)


def test_relu_bistable_single_unit():
    """n = 1, W = 2, c = -0.5: h = ReLU(2h - 0.5).

    Known answer: h = 0 (pre-activation -0.5, off; D W = 0, stable) and h = 0.5 (on:
    h = 2h - 0.5; D W = 2, unstable). No other solution. Orbits: 0.2 -> 0 and
    0.3 -> 0.1 -> 0 (fixed point 0); 0.6 -> 0.7 -> 0.9 -> ... (divergent).
    """
    W = np.array([[2.0]])
    c = np.array([-0.5])
    fps = relu_fixed_points(W, c)
    assert len(fps.points) == 2
    order = np.argsort(fps.points[:, 0])
    np.testing.assert_allclose(fps.points[order, 0], [0.0, 0.5], atol=1e-12)
    assert np.all(fps.residual < 1e-10)
    assert list(np.asarray(fps.stable)[order]) == [True, False]
    assert _nonzero_sorted(fps.eigenvalues[order[0]]).size == 0
    np.testing.assert_allclose(_nonzero_sorted(fps.eigenvalues[order[1]]), [2.0], atol=1e-12)

    step, jac = relu_map(W, c)
    recs = classify_orbits(step, jac, np.array([[0.2], [0.3], [0.6]]))
    assert [r.kind for r in recs] == ["fixed_point", "fixed_point", "divergent"]
    for rec in recs[:2]:
        assert np.asarray(rec.points)[0, 0] == pytest.approx(0.0, abs=1e-12)
        assert rec.lyapunov[0] < -10  # D W = 0: lambda = log 0 = -inf


def test_relu_mutual_inhibition_two_stable_one_saddle():
    """W = [[0, -2], [-2, 0]], c = (1, 1) (winner-take-all pair).

    Known answer (check every pattern): (1, 0): pre = (1, -1), D W = [[0, -2], [0, 0]]
    (nilpotent, spectral radius 0) -> stable; (0, 1) likewise; (1/3, 1/3): pre = (1/3, 1/3),
    D W = W with eigenvalues +-2 -> unstable; h = 0 is not fixed (pre = (1, 1)). Exactly three.
    Orbits: (0.9, 0.1) -> (0.8, 0) -> (1, 0); (0.1, 0.9) -> (0, 1); on the diagonal
    h' = ReLU(1 - 2h): 0.2 -> 0.6 -> 0 -> 1 -> 0 ..., the 2-cycle {(0, 0), (1, 1)} (Jacobian
    product W * 0 = 0: superstable, also off the diagonal).
    """
    W = np.array([[0.0, -2.0], [-2.0, 0.0]])
    c = np.array([1.0, 1.0])
    ref = _brute_force_relu_fixed_points(W, c)
    np.testing.assert_allclose(_sort_rows(ref), [[0, 1], [1 / 3, 1 / 3], [1, 0]], atol=1e-12)

    fps = relu_fixed_points(W, c)
    assert len(fps.points) == 3
    P = np.asarray(fps.points)
    order = np.lexsort(P.T[::-1])
    np.testing.assert_allclose(P[order], [[0, 1], [1 / 3, 1 / 3], [1, 0]], atol=1e-12)
    assert np.all(fps.residual < 1e-10)
    assert list(np.asarray(fps.stable)[order]) == [True, False, True]
    assert _nonzero_sorted(fps.eigenvalues[order[0]]).size == 0
    assert _nonzero_sorted(fps.eigenvalues[order[2]]).size == 0
    np.testing.assert_allclose(_nonzero_sorted(fps.eigenvalues[order[1]]), [-2, 2], atol=1e-12)

    step, jac = relu_map(W, c)
    recs = classify_orbits(step, jac, np.array([[0.9, 0.1], [0.1, 0.9], [0.2, 0.2]]))
    assert [r.kind for r in recs] == ["fixed_point", "fixed_point", "periodic"]
    np.testing.assert_allclose(np.asarray(recs[0].points)[0], [1, 0], atol=1e-9)
    np.testing.assert_allclose(np.asarray(recs[1].points)[0], [0, 1], atol=1e-9)
    assert recs[2].period == 2
    np.testing.assert_allclose(_sort_rows(recs[2].points), [[0, 0], [1, 1]], atol=1e-9)
    for rec in recs:
        assert rec.lyapunov[0] < -10  # singular Jacobian products: log 0


def test_relu_two_cycle_with_finite_exponent():
    """W = [[-1, 0.5], [0.5, -1]], c = (1, 1).

    Known answer, by hand: p = (2, 0) has pre = (-1, 2) -> (0, 2) = q; q has pre = (2, -1) -> p.
    Jacobians D(p) W = [[0, 0], [0.5, -1]], D(q) W = [[-1, 0.5], [0, 0]], product
    [[0.25, -0.5], [0, 0]] with eigenvalues 0.25, 0: a stable 2-cycle with
    lambda_1 = (1/2) log 0.25 = log 0.5. The only fixed point is (2/3, 2/3) (all units on,
    eigenvalues of W: -0.5, -1.5 -> unstable); (h1, 0) would need h1 = 0.5 but then unit 2 is on.
    Off-diagonal starts (1, 0.2), (0.2, 1) converge to the cycle (checked by direct iteration).
    """
    W = np.array([[-1.0, 0.5], [0.5, -1.0]])
    c = np.array([1.0, 1.0])
    step, jac = relu_map(W, c)
    x0 = np.array([[1.0, 0.2], [0.2, 1.0], [3.0, 0.0]])
    # direct iteration (independent of classify_orbits)
    x = x0.copy()
    for _ in range(200):
        x = step(x)
    np.testing.assert_allclose(_sort_rows(np.concatenate([x[:1], step(x[:1])])), [[0, 2], [2, 0]])
    np.testing.assert_allclose(step(step(x)), x, atol=1e-12)

    recs = classify_orbits(step, jac, x0)
    for rec in recs:
        assert rec.kind == "periodic"
        assert rec.period == 2
        np.testing.assert_allclose(_sort_rows(rec.points), [[0, 2], [2, 0]], atol=1e-9)
        assert rec.lyapunov[0] == pytest.approx(math.log(0.5), abs=1e-9)
        assert rec.lyapunov[1] < -10

    fps = relu_fixed_points(W, c)
    assert len(fps.points) == 1
    np.testing.assert_allclose(fps.points[0], [2 / 3, 2 / 3], atol=1e-12)
    assert not bool(fps.stable[0])
    np.testing.assert_allclose(_nonzero_sorted(fps.eigenvalues[0]), [-1.5, -0.5], atol=1e-12)


def test_relu_fixed_points_from_candidates_only():
    """Mutual-inhibition network, no random starts: a candidate state near (1, 0) (pattern
    (on, off)) yields the exact fixed point (1, 0); every returned point is exact."""
    W = np.array([[0.0, -2.0], [-2.0, 0.0]])
    c = np.array([1.0, 1.0])
    fps = relu_fixed_points(W, c, candidates=np.array([[0.95, 0.02]]), n_starts=0)
    P = np.asarray(fps.points)
    assert np.any(np.all(np.abs(P - [1.0, 0.0]) < 1e-12, axis=1))
    step, _ = relu_map(W, c)
    np.testing.assert_allclose(step(P), P, atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_relu_fixed_points_agree_with_brute_force_enumeration(seed):
    """Random 4-unit networks (W ~ N(0, 1.2^2), c ~ N(0, 1)): the fixed points are exactly those
    found by trying all 16 activation patterns (reference above); stability = spectral radius
    of D W < 1; residuals < 1e-10; no duplicates."""
    rng = np.random.default_rng(seed)
    n = 4
    W = rng.normal(0, 1.2, (n, n))
    c = rng.normal(0, 1, n)
    ref = _brute_force_relu_fixed_points(W, c)
    fps = relu_fixed_points(W, c)
    P = np.asarray(fps.points).reshape(-1, n)
    assert len(P) == len(ref)
    if len(ref):
        np.testing.assert_allclose(_sort_rows(P), _sort_rows(ref), atol=1e-10)
        assert np.all(np.asarray(fps.residual) < 1e-10)
        for h, st, ev in zip(P, fps.stable, fps.eigenvalues, strict=True):
            D = np.diag((W @ h + c > 0).astype(float))
            rad = np.abs(np.linalg.eigvals(D @ W)).max()
            assert bool(st) == (rad < 1)
            np.testing.assert_allclose(
                _nonzero_sorted(ev), _nonzero_sorted(np.linalg.eigvals(D @ W)), atol=1e-10
            )


# ---------------------------------------------------------------------------------------------
# 9. configuration validation (before any computation)


def _must_not_be_called(x):
    raise AssertionError("the map was evaluated although the configuration is invalid")


@pytest.mark.parametrize(
    "overrides",
    [
        {"n_record": 0},
        {"n_record": -10},
        {"max_period": 0},
        {"max_period": -3},
        {"n_exponents": 0},
        {"n_transient": -1},
        {"lyap_tol": -1e-3},
        {"period_rtol": -1e-7},
        {"period_atol": -1e-9},
        {"rational_tol": -1e-5},
        {"div_threshold": -1.0},
        {"div_threshold": 0.0},
    ],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()),
)
def test_invalid_config_raises_before_computing(overrides):
    """Invalid settings raise ValueError, both when building OrbitConfig and as keyword
    overrides of classify_orbits, and the map is never evaluated."""
    with pytest.raises(ValueError):
        OrbitConfig(**overrides)
    with pytest.raises(ValueError):
        classify_orbits(_must_not_be_called, _must_not_be_called, np.zeros((2, 2)), **overrides)


def test_unknown_override_is_rejected_before_computing():
    """A misspelt setting is an error (TypeError, like any unknown keyword), not ignored."""
    with pytest.raises((TypeError, ValueError)):
        classify_orbits(_must_not_be_called, _must_not_be_called, np.zeros((1, 1)), n_recrod=10)


def test_defaults_match_documentation():
    """Documented defaults: n_transient=1000, n_record=2000, max_period=64, n_exponents=3,
    lyap_tol=5e-3, div_threshold=1e6."""
    cfg = OrbitConfig()
    assert (cfg.n_transient, cfg.n_record, cfg.max_period, cfg.n_exponents) == (1000, 2000, 64, 3)
    assert cfg.lyap_tol == 5e-3 and cfg.div_threshold == 1e6


def test_relu_fixed_points_of_a_leaky_map():
    """The two-cycle network above with a leak alpha = 0.5: the fixed point (2/3, 2/3) is the
    same (a fixed point of ReLU(W h + c) is one of (1-a) h + a ReLU(W h + c)), but the leaky
    Jacobian 0.5 I + 0.5 W has eigenvalues 0.5 + 0.5 (-0.5, -1.5) = (0.25, -0.25): stable,
    where the vanilla map's (-0.5, -1.5) are not. Iterating the leaky map converges to it.
    With an inactive unit the leak's own eigenvalue 1 - alpha enters the spectral radius:
    W = diag(-0.5, 0.5), c = (1, -1), alpha = 0.2 gives (2/3, 0) with the active unit's
    eigenvalue 0.8 + 0.2 (-0.5) = 0.7 and the inactive one's 0.8, so radius 0.8."""
    W = np.array([[-1.0, 0.5], [0.5, -1.0]])
    c = np.array([1.0, 1.0])
    fps = relu_fixed_points(W, c, alpha=0.5)
    assert len(fps.points) == 1
    np.testing.assert_allclose(fps.points[0], [2 / 3, 2 / 3], atol=1e-12)
    assert fps.residual[0] < 1e-12
    assert bool(fps.stable[0])
    np.testing.assert_allclose(np.sort(fps.eigenvalues[0].real), [-0.25, 0.25], atol=1e-12)
    assert fps.spectral_radius[0] == pytest.approx(0.25, abs=1e-12)
    h = np.array([1.0, 0.2])
    for _ in range(200):
        h = 0.5 * h + 0.5 * np.maximum(W @ h + c, 0.0)
    np.testing.assert_allclose(h, [2 / 3, 2 / 3], atol=1e-12)

    off = relu_fixed_points(np.diag([-0.5, 0.5]), np.array([1.0, -1.0]), alpha=0.2)
    np.testing.assert_allclose(off.points, [[2 / 3, 0.0]], atol=1e-12)
    np.testing.assert_allclose(off.eigenvalues[0].real, [0.7], atol=1e-12)
    assert off.spectral_radius[0] == pytest.approx(0.8, abs=1e-12)
    vanilla = relu_fixed_points(W, c)
    assert not bool(vanilla.stable[0])
    with pytest.raises(ValueError, match="alpha"):
        relu_fixed_points(W, c, alpha=0.0)
