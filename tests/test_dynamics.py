"""The orbit classifier and the ReLU fixed-point solver on systems with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from lib.dynamics import (
    birkhoff_digits,
    classify_orbits,
    lyapunov_spectrum_qr,
    relu_fixed_points,
    relu_map,
    weighted_birkhoff,
)

# ---- maps and their Jacobians -----------------------------------------------------------


def linear(A):
    A = np.asarray(A, float)
    return (lambda x: x @ A.T), (lambda x: np.broadcast_to(A, (len(x), *A.shape)).copy())


def logistic(r):
    return (lambda x: r * x * (1 - x)), (lambda x: (r * (1 - 2 * x))[:, :, None])


def henon(a=1.4, b=0.3):
    def step(x):
        return np.stack([1 - a * x[:, 0] ** 2 + x[:, 1], b * x[:, 0]], 1)

    def jac(x):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 0], J[:, 0, 1], J[:, 1, 0] = -2 * a * x[:, 0], 1.0, b
        return J

    return step, jac


def delayed_logistic(a):
    def step(x):
        return np.stack([a * x[:, 0] * (1 - x[:, 1]), x[:, 0]], 1)

    def jac(x):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 0], J[:, 0, 1], J[:, 1, 0] = a * (1 - x[:, 1]), -a * x[:, 0], 1.0
        return J

    return step, jac


def circle_normal_form(omega, mu=0.3):
    """r' = r + mu r (1 - r^2), theta' = theta + 2 pi omega, in Cartesian coordinates: an
    attracting invariant circle r = 1 on which the map is a rigid rotation by omega."""

    def step(x):
        r = np.hypot(x[:, 0], x[:, 1])
        th = np.arctan2(x[:, 1], x[:, 0]) + 2 * np.pi * omega
        rn = r + mu * r * (1 - r**2)
        return np.stack([rn * np.cos(th), rn * np.sin(th)], 1)

    def jac(x, eps=1e-7):
        J = np.empty((len(x), 2, 2))
        for j in range(2):
            d = np.zeros(2)
            d[j] = eps
            J[:, :, j] = (step(x + d) - step(x - d)) / (2 * eps)
        return J

    return step, jac


def lozi(a=1.7, b=0.5):
    def step(x):
        return np.stack([1 - a * np.abs(x[:, 0]) + x[:, 1], b * x[:, 0]], 1)

    def jac(x):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 0], J[:, 0, 1], J[:, 1, 0] = -a * np.sign(x[:, 0]), 1.0, b
        return J

    return step, jac


# ---- known answers ----------------------------------------------------------------------


def test_linear_contraction_is_a_fixed_point_with_log_eigenvalue_exponents():
    A = np.diag([0.9, 0.5, -0.3])
    s, j = linear(A)
    rec = classify_orbits(s, j, np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.1]]))
    for r in rec:
        assert r.kind == "fixed_point" and r.period == 1
        np.testing.assert_allclose(r.lyapunov, np.log([0.9, 0.5, 0.3]), atol=1e-9)
        np.testing.assert_allclose(r.points[0], 0.0, atol=1e-6)


def test_complex_pair_contraction():
    th = 0.7
    A = 0.8 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    s, j = linear(A)
    (r,) = classify_orbits(s, j, np.array([[1.0, 0.0]]))
    assert r.kind == "fixed_point"
    np.testing.assert_allclose(r.lyapunov, [np.log(0.8)] * 2, atol=1e-9)


def test_qr_spectrum_of_a_non_normal_linear_map():
    A = np.array([[0.9, 5.0, 0.0], [0.0, 0.5, 3.0], [0.0, 0.0, -0.2]])
    s, j = linear(A)
    lam = lyapunov_spectrum_qr(s, j, np.ones((2, 3)), 3000, 3)
    np.testing.assert_allclose(lam, np.tile(np.log([0.9, 0.5, 0.2]), (2, 1)), atol=5e-3)


@pytest.mark.parametrize("r", [3.2, 3.5])
def test_logistic_cycles(r):
    s, j = logistic(r)
    rec = classify_orbits(s, j, np.array([[0.123], [0.377]]))
    want = 2 if r == 3.2 else 4
    for q in rec:
        assert q.kind == "periodic" and q.period == want
        assert q.lyapunov[0] < 0
    if r == 3.2:
        pts = np.sort(rec[0].points[:, 0])
        d = np.sqrt((r - 3) * (r + 1))
        np.testing.assert_allclose(pts, [(r + 1 - d) / (2 * r), (r + 1 + d) / (2 * r)], atol=1e-7)
        # exponent of the 2-cycle: log|f'(x+) f'(x-)| / 2
        lam = np.log(abs(np.prod(r * (1 - 2 * pts)))) / 2
        assert rec[0].lyapunov[0] == pytest.approx(lam, abs=1e-9)


def test_logistic_fixed_point():
    r = 2.8
    s, j = logistic(r)
    (q,) = classify_orbits(s, j, np.array([[0.2]]))
    assert q.kind == "fixed_point"
    assert q.points[0, 0] == pytest.approx(1 - 1 / r, abs=1e-8)
    assert q.lyapunov[0] == pytest.approx(np.log(abs(2 - r)), abs=1e-9)


def test_logistic_r4_is_chaotic_with_lyapunov_ln2():
    s, j = logistic(4.0)
    for q in classify_orbits(s, j, np.array([[0.123], [0.377]]), n_record=20000):
        assert q.kind == "chaotic"
        assert q.lyapunov[0] == pytest.approx(np.log(2), abs=0.03)


def test_henon_is_chaotic_with_known_exponents():
    s, j = henon()
    rec = classify_orbits(
        s, j, np.array([[0.1, 0.1], [0.2, 0.0], [0.0, 0.1], [-0.1, 0.2]]), n_record=20000
    )
    for q in rec:
        assert q.kind == "chaotic"
        assert q.lyapunov[0] == pytest.approx(0.419, abs=0.02)
        # the Jacobian determinant is -b, so the exponents sum to log b exactly
        assert q.lyapunov.sum() == pytest.approx(np.log(0.3), abs=1e-2)
        assert q.birkhoff_digits < 3.0


def test_delayed_logistic_invariant_circle_is_quasi_periodic():
    s, j = delayed_logistic(2.1)
    rec = classify_orbits(s, j, np.array([[0.6, 0.6], [0.5, 0.55], [0.45, 0.5]]))
    rhos = []
    for q in rec:
        assert q.kind == "quasi_periodic", (q.lyapunov, q.birkhoff_digits)
        assert abs(q.lyapunov[0]) < 5e-3 and q.lyapunov[1] < -0.05
        assert q.birkhoff_digits > 8  # smooth invariant circle: super-convergent averages
        rhos.append(q.rotation_number)
    assert np.ptp(rhos) < 1e-6
    assert 0 < rhos[0] < 0.5


def test_delayed_logistic_below_neimark_sacker_is_a_fixed_point():
    a = 1.9
    s, j = delayed_logistic(a)
    (q,) = classify_orbits(s, j, np.array([[0.6, 0.6]]))
    assert q.kind == "fixed_point"
    np.testing.assert_allclose(q.points[0], [1 - 1 / a] * 2, atol=1e-8)
    # eigenvalues of [[1, -(a-1)], [1, 0]]: modulus sqrt(a - 1)
    np.testing.assert_allclose(q.lyapunov, [0.5 * np.log(a - 1)] * 2, atol=1e-9)


@pytest.mark.parametrize("omega", [(np.sqrt(5) - 1) / 2, np.sqrt(2) - 1])
def test_rigid_rotation_on_a_circle_recovers_the_rotation_number(omega):
    s, j = circle_normal_form(omega)
    rec = classify_orbits(s, j, np.array([[0.3, 0.1], [1.5, -0.2]]))
    for q in rec:
        assert q.kind == "quasi_periodic"
        assert (
            min(abs(q.rotation_number - omega % 1), abs(q.rotation_number - (1 - omega % 1))) < 1e-6
        )
        assert abs(q.lyapunov[0]) < 1e-3 and q.lyapunov[1] < -0.1


def test_rational_rotation_is_periodic():
    s, j = circle_normal_form(1 / 5)
    (q,) = classify_orbits(s, j, np.array([[0.3, 0.1]]))
    assert q.kind == "periodic" and q.period == 5


def test_lozi_is_chaotic():
    s, j = lozi()
    (q,) = classify_orbits(s, j, np.array([[0.1, 0.1]]), n_record=20000)
    assert q.kind == "chaotic"
    assert q.lyapunov[0] == pytest.approx(0.47, abs=0.03)


def test_divergent_map():
    s, j = linear(np.array([[2.0]]))
    rec = classify_orbits(lambda x: 2 * x + 1, j, np.array([[1.0], [-5.0]]))
    assert all(q.kind == "divergent" for q in rec)


def test_weighted_birkhoff_converges_fast_on_rotation_and_slowly_on_noise():
    n = np.arange(4000)
    f = np.cos(2 * np.pi * 0.3819660112501051 * n)
    assert abs(weighted_birkhoff(f)) < 1e-10
    assert birkhoff_digits(f) > 10
    assert birkhoff_digits(np.random.default_rng(0).standard_normal(4000)) < 3


# ---- ReLU networks ------------------------------------------------------------------------


def test_relu_unique_stable_fixed_point():
    W, c = 0.5 * np.eye(2), np.array([1.0, -1.0])
    fps = relu_fixed_points(W, c, n_starts=32)
    assert len(fps) == 1
    np.testing.assert_allclose(fps.points[0], [2.0, 0.0], atol=1e-12)
    assert fps.stable[0] and fps.residual[0] < 1e-12


def test_relu_bistable_unit_has_stable_zero_and_unstable_positive_fixed_point():
    W, c = np.array([[2.0]]), np.array([-0.5])
    fps = relu_fixed_points(W, c, n_starts=64)
    order = np.argsort(fps.points[:, 0])
    np.testing.assert_allclose(fps.points[order, 0], [0.0, 0.5], atol=1e-12)
    assert fps.stable[order].tolist() == [True, False]
    assert fps.spectral_radius[order].tolist() == [0.0, 2.0]
    assert np.all(fps.residual < 1e-12)


def test_relu_mutual_inhibition_two_stable_one_saddle():
    """h = ReLU([[0,-2],[-2,0]] h + 1): (1,0) and (0,1) stable (D W nilpotent), and
    (1/3, 1/3) a saddle (eigenvalues of W are +-2)."""
    W, c = np.array([[0.0, -2.0], [-2.0, 0.0]]), np.array([1.0, 1.0])
    fps = relu_fixed_points(W, c, n_starts=256)
    pts = {tuple(np.round(p, 9)): s for p, s in zip(fps.points, fps.stable, strict=True)}
    assert pts == {(1.0, 0.0): True, (0.0, 1.0): True, (round(1 / 3, 9), round(1 / 3, 9)): False}


def test_relu_known_two_cycle_classified():
    """h = ReLU(-2 h + 1): 0 -> 1 -> 0 is a 2-cycle (F(0) = 1, F(1) = ReLU(-1) = 0); the
    fixed point 1/3 is unstable (slope -2), so orbits end on the cycle, whose multiplier is
    the product of the slopes along it: D=1 at 0 (slope -2) and D=0 at 1 -> 0 (superstable)."""
    s, j = relu_map(np.array([[-2.0]]), np.array([1.0]))
    rec = classify_orbits(s, j, np.array([[0.2], [0.9], [0.0]]))
    for q in rec:
        assert q.kind == "periodic" and q.period == 2
        np.testing.assert_allclose(np.sort(q.points[:, 0]), [0.0, 1.0])
        assert q.lyapunov[0] == -np.inf


def test_relu_jacobian_matches_finite_differences_and_is_batched():
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.5, (6, 6))
    C = rng.normal(0, 1, (4, 6))
    s, j = relu_map(W, C)
    h = rng.uniform(0, 1, (4, 6))
    J = j(h)
    eps = 1e-7
    for k in range(6):
        d = np.zeros(6)
        d[k] = eps
        np.testing.assert_allclose((s(h + d) - s(h - d)) / (2 * eps), J[:, :, k], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_record": 0},
        {"max_period": 0},
        {"lyap_tol": -1.0},
        {"period_rtol": -1e-3},
        {"n_transient": -1},
    ],
)
def test_bad_orbit_config_rejected_before_any_compute(kwargs):
    def never(x):
        raise AssertionError("computed before validating")

    with pytest.raises(ValueError):
        classify_orbits(never, never, np.zeros((1, 2)), **kwargs)
    with pytest.raises(TypeError):
        classify_orbits(never, never, np.zeros((1, 2)), not_a_setting=1)
