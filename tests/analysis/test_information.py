"""Gaussian-copula mutual information, significance and graph statistics against known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, signal, special, stats

from lib.analysis.information import (
    circular_shift_null,
    copnorm,
    ent_g,
    gcmi_cc,
    gcmi_model_cd,
    gcmi_units_cc,
    gcmi_units_cd,
    graph_stats,
    holm,
    mi_gg,
    mi_model_gd,
    permutation_pvalues,
    unit_unit_mi,
)

N = 20000


# --------------------------------------------------------------------------- copnorm
def test_copnorm_marginals_and_reference_ranks():
    rng = np.random.default_rng(0)
    x = rng.exponential(size=(1001, 3))
    c = copnorm(x)
    # ranks 1..n over n+1 -> the normal quantiles of a regular grid, in the order of x
    grid = special.ndtri(np.arange(1, 1002) / 1002)
    for j in range(3):
        np.testing.assert_allclose(np.sort(c[:, j]), grid, atol=1e-12)
        assert np.all(np.diff(c[np.argsort(x[:, j]), j]) > 0)
    # axis=1 is the transpose of axis=0
    np.testing.assert_allclose(copnorm(x.T, axis=1), c.T)
    # ties: "ordinal" is Ince et al.'s argsort-of-argsort; "average" gives ties one score
    t = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 0.0])
    ince = special.ndtri((np.argsort(np.argsort(t, kind="mergesort")) + 1) / 7)
    np.testing.assert_allclose(copnorm(t, ties="ordinal"), ince)
    ca = copnorm(t)
    assert np.ptp(ca[t == 0]) == 0 and ca[t == 0][0] == pytest.approx(special.ndtri(2.5 / 7))


# ------------------------------------------------------------------- continuous-continuous
@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6, 0.9])
def test_gcmi_cc_correlated_gaussians(rho):
    truth = -0.5 * math.log2(1 - rho**2)
    se = max(rho, 0.05) / (math.log(2) * math.sqrt(N))  # delta-method SE of the estimate
    est = []
    for seed in range(8):
        z = np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=N)
        est.append(gcmi_cc(z[:, 0], z[:, 1]))
    est = np.array(est)
    assert np.all(np.abs(est - truth) < 4 * se + 0.002)
    assert abs(est.mean() - truth) < 0.01  # mean of 8 replicates, n = 20000 each


def test_gcmi_cc_invariant_under_monotone_transforms():
    rng = np.random.default_rng(1)
    z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=N)
    x, y = z[:, 0], z[:, 1]
    ref = gcmi_cc(x, y)
    assert gcmi_cc(np.exp(x), y**3) == pytest.approx(ref, abs=1e-12)
    assert gcmi_cc(-x, -y) == pytest.approx(ref, abs=1e-12)
    # the plain Gaussian estimator is not invariant: exp() distorts its answer
    assert abs(mi_gg(np.exp(x), y) - ref) > 0.05


def test_multivariate_gaussian_mi():
    cov = np.array(
        [[1, 0.3, 0.5, 0.2], [0.3, 1, 0.1, 0.4], [0.5, 0.1, 1, -0.2], [0.2, 0.4, -0.2, 1]]
    )
    truth = 0.5 * math.log2(
        np.linalg.det(cov[:2, :2]) * np.linalg.det(cov[2:, 2:]) / np.linalg.det(cov)
    )
    z = np.random.default_rng(2).multivariate_normal(np.zeros(4), cov, size=N)
    # SD of either estimate at this n is 0.005 bits (measured over 20 seeds)
    assert mi_gg(z[:, :2], z[:, 2:]) == pytest.approx(truth, abs=0.02)
    assert gcmi_cc(z[:, :2], z[:, 2:]) == pytest.approx(truth, abs=0.02)
    # symmetric in its arguments, and the 1-D block of a 2-D x is consistent
    assert gcmi_cc(z[:, 2:], z[:, :2]) == pytest.approx(gcmi_cc(z[:, :2], z[:, 2:]), abs=1e-12)


def test_independent_data_gives_zero():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(N, 2)), rng.gamma(2.0, size=(N, 1))
    assert abs(gcmi_cc(x[:, 0], y)) < 0.005
    assert abs(gcmi_cc(x, y)) < 0.005
    labels = rng.integers(0, 3, N)
    assert abs(gcmi_model_cd(x, labels)) < 0.005
    assert abs(mi_model_gd(x[:, 0], labels)) < 0.005
    # a shuffled copy of a strongly dependent pair
    z = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=N)
    assert abs(gcmi_cc(z[:, 0], rng.permutation(z[:, 1]))) < 0.005


def test_bias_correction_is_unbiased_for_independent_gaussians():
    # Under independence r^2 ~ Beta(1/2, (n-2)/2), so E[-ln(1 - r^2)/2] is exactly
    # (psi((n-1)/2) - psi((n-2)/2))/2 nats: Ince's psi terms remove it.
    n, reps = 40, 3000
    rng = np.random.default_rng(4)
    xy = rng.normal(size=(reps, n, 2))
    raw = np.array([mi_gg(s[:, 0], s[:, 1], biascorrect=False) for s in xy])
    cor = np.array([mi_gg(s[:, 0], s[:, 1]) for s in xy])
    expected_bias = (special.psi((n - 1) / 2) - special.psi((n - 2) / 2)) / (2 * math.log(2))
    se = raw.std() / math.sqrt(reps)
    assert expected_bias > 0.015
    assert abs(raw.mean() - expected_bias) < 4 * se
    assert abs(cor.mean()) < 4 * se


def test_ent_g_of_gaussian():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    truth = 0.5 * math.log2((2 * math.pi * math.e) ** 2 * np.linalg.det(cov))
    x = np.random.default_rng(5).multivariate_normal([0, 0], cov, size=N)
    assert ent_g(x) == pytest.approx(truth, abs=0.01)
    assert ent_g(x[:, 0]) == pytest.approx(0.5 * math.log2(2 * math.pi * math.e * 2.0), abs=0.01)
    # small samples: the corrected entropy is unbiased, the plain one is biased low
    n, reps = 10, 3000
    xs = np.random.default_rng(6).multivariate_normal([0, 0], cov, size=(reps, n))
    cor = np.array([ent_g(s) for s in xs])
    raw = np.array([ent_g(s, biascorrect=False) for s in xs])
    se = cor.std() / math.sqrt(reps)
    assert abs(cor.mean() - truth) < 4 * se
    # E[ln|S|] = ln|Sigma| + d ln(2/(n-1)) + sum_i psi((n-i)/2): the plain estimate is low by
    expected_bias = -(
        2 * (math.log(2) - math.log(n - 1)) + special.psi((n - 1) / 2) + special.psi((n - 2) / 2)
    ) / (2 * math.log(2))
    assert expected_bias > 0.2
    assert abs(truth - raw.mean() - expected_bias) < 4 * se


# ---------------------------------------------------------------------- continuous-discrete
def _mixture_true_mi(d: float) -> float:
    """I(X;Y) in bits for Y ~ Bernoulli(1/2), X | Y ~ N(+-d, 1), by quadrature.

    I = H(Y) - H(Y|X) = 1 - E[h2(P(Y=1|X))], with P(Y=1|x) = expit(2 d x); by symmetry the
    expectation may be taken under the class-1 density alone.
    """

    def integrand(x):
        p = special.expit(2 * d * x)
        h = 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
        return stats.norm.pdf(x - d) * h

    return 1.0 - integrate.quad(integrand, d - 10, d + 10, limit=200)[0]


def _mixture_gcmi_population(d: float) -> float:
    """Population value of gcmi_model_cd for the same mixture, by quadrature.

    copnorm maps x to g(x) = Phi^-1(F(x)), F the mixture CDF; g(X) is N(0, 1) overall and the
    two classes have equal variance, so the Gaussian model gives -1/2 log2 Var(g(X) | Y=1).
    """

    def g(x):
        return special.ndtri(0.5 * (special.ndtr(x - d) + special.ndtr(x + d)))

    m1 = integrate.quad(lambda x: stats.norm.pdf(x - d) * g(x), d - 8, d + 8, limit=200)[0]
    m2 = integrate.quad(lambda x: stats.norm.pdf(x - d) * g(x) ** 2, d - 8, d + 8, limit=200)[0]
    return -0.5 * math.log2(m2 - m1**2)


def _mixture_sample(d: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], N // 2)
    return rng.normal(size=N) + np.where(y == 1, d, -d), y


def test_continuous_discrete_no_separation():
    x, y = _mixture_sample(0.0, 7)
    assert _mixture_true_mi(0.0) == pytest.approx(0.0, abs=1e-12)
    assert abs(gcmi_model_cd(x, y, 2)) < 0.005
    assert abs(mi_model_gd(x, y, 2)) < 0.005


def test_continuous_discrete_large_separation():
    d = 4.0
    x, y = _mixture_sample(d, 8)
    true_mi = _mixture_true_mi(d)
    assert true_mi == pytest.approx(1.0, abs=2e-4)  # 1 bit: Y is recoverable from X
    # GCMI: each class becomes a half-normal in copula space, Var = 1 - 2/pi, so the
    # Gaussian model gives 1/2 log2(pi / (pi - 2)) = 0.730 bits, a lower bound here
    limit = 0.5 * math.log2(math.pi / (math.pi - 2))
    assert _mixture_gcmi_population(d) == pytest.approx(limit, abs=1e-3)
    gc = gcmi_model_cd(x, y, 2)
    assert gc == pytest.approx(limit, abs=0.01)
    assert gc < true_mi
    # the Gaussian model on raw x: 1/2 log2(var_total / var_within) = 1/2 log2(1 + d^2),
    # which exceeds H(Y) = 1 bit: the model, not the data, is Gaussian
    analytic = 0.5 * math.log2(1 + d**2)
    assert mi_model_gd(x, y, 2) == pytest.approx(analytic, abs=0.03)
    assert mi_model_gd(x, y, 2) > 1.0


@pytest.mark.parametrize("d", [0.5, 1.0])
def test_continuous_discrete_moderate_separation(d):
    x, y = _mixture_sample(d, 9)
    true_mi = _mixture_true_mi(d)
    pop_gc = _mixture_gcmi_population(d)
    assert pop_gc <= true_mi + 1e-9  # GCMI is conservative for this mixture
    assert gcmi_model_cd(x, y) == pytest.approx(pop_gc, abs=0.01)
    assert mi_model_gd(x, y) == pytest.approx(0.5 * math.log2(1 + d**2), abs=0.015)
    # labels need not be 0..K-1 when n_classes is not given
    assert gcmi_model_cd(x, 2 * y + 5) == pytest.approx(gcmi_model_cd(x, y, 2), abs=1e-12)


def test_multivariate_continuous_discrete_gaussian_model():
    # Two classes with means +-mu and identity covariance: var_total = I + mu mu^T, so the
    # Gaussian-model MI is 1/2 log2 det(I + mu mu^T) = 1/2 log2(1 + |mu|^2)
    mu = np.array([0.6, 0.8])
    rng = np.random.default_rng(10)
    y = rng.integers(0, 2, N)
    x = rng.normal(size=(N, 2)) + np.where(y[:, None] == 1, mu, -mu)
    assert mi_model_gd(x, y, 2) == pytest.approx(0.5, abs=0.02)


# ---------------------------------------------------------------------- batched per unit
def _small_population(seed: int = 11, n: int = 300):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    z = rng.normal(size=n) + 0.5 * y
    X = np.column_stack(
        [
            rng.normal(size=n),
            z + rng.normal(size=n),
            np.maximum(0.0, y - 1 + rng.normal(size=n)),  # ReLU-like: many exact zeros
            np.exp(z + 0.5 * rng.normal(size=n)),
            np.zeros(n),  # a dead unit
        ]
    )
    return X, y, z


def test_batched_units_equal_one_at_a_time():
    X, y, z = _small_population()
    cd = gcmi_units_cd(X, y)
    cc = gcmi_units_cc(X, z)
    assert cd.shape == cc.shape == (X.shape[1],)
    for u in range(X.shape[1]):
        assert cd[u] == pytest.approx(gcmi_model_cd(X[:, u], y), abs=1e-10)
        assert cc[u] == pytest.approx(gcmi_cc(X[:, u], z), abs=1e-10)
    assert cd[-1] == 0.0 and cc[-1] == 0.0  # dead unit
    assert cd[1] > 0.05 and cc[1] > 0.1
    # without bias correction: the plain Gaussian estimators on copula-normalised data
    cx = copnorm(X)
    for u in range(X.shape[1] - 1):
        assert gcmi_units_cc(X, z, biascorrect=False)[u] == pytest.approx(
            mi_gg(cx[:, u], copnorm(z), biascorrect=False), abs=1e-10
        )
        assert gcmi_units_cd(X, y, biascorrect=False)[u] == pytest.approx(
            mi_model_gd(cx[:, u], y, biascorrect=False), abs=1e-10
        )


def test_unit_constant_within_a_class_is_nan():
    y = np.repeat([0, 1], 50)
    x = np.where(y == 0, 0.0, np.arange(100.0))
    assert np.isnan(gcmi_units_cd(x[:, None], y)[0])
    with pytest.raises(ValueError, match="constant within class 0"):
        gcmi_model_cd(x, y)
    with pytest.raises(ValueError, match="constant column"):
        mi_gg(np.column_stack([x, np.ones(100)]), np.arange(100.0))


def test_unit_unit_mi_matrix():
    X, y, z = _small_population()
    M = unit_unit_mi(X)
    assert M.shape == (5, 5)
    np.testing.assert_allclose(M, M.T, atol=1e-14)
    np.testing.assert_array_equal(np.diag(M), 0.0)
    for u, v in [(0, 1), (1, 3), (2, 3)]:
        assert M[u, v] == pytest.approx(gcmi_cc(X[:, u], X[:, v]), abs=1e-10)
    np.testing.assert_array_equal(M[4], 0.0)  # dead unit
    np.testing.assert_array_equal(M[:, 4], 0.0)
    assert M[1, 3] > 0.1


# ---------------------------------------------------------------------------- significance
def test_circular_shift_null_independent_and_dependent():
    rng = np.random.default_rng(12)
    n, units, shuffles = 2000, 100, 99
    X = rng.normal(size=(n, units))
    y = rng.integers(0, 2, n)
    X[:, 0] = y + 0.1 * rng.normal(size=n)  # strongly dependent unit
    null = circular_shift_null(X, y, shuffles, rng)
    assert null.shape == (shuffles, units)
    p = permutation_pvalues(gcmi_units_cd(X, y), null)
    assert p[0] == pytest.approx(1 / (1 + shuffles))
    frac = (p[1:] < 0.05).mean()
    assert 0.0 <= frac <= 0.15
    assert 0.3 < np.median(p[1:]) < 0.7
    assert np.all((p >= 1 / (1 + shuffles)) & (p <= 1))
    # continuous target
    z = rng.normal(size=n)
    X[:, 1] = z + 0.1 * rng.normal(size=n)
    null_c = circular_shift_null(X, z, shuffles, rng, fn=gcmi_units_cc)
    p_c = permutation_pvalues(gcmi_units_cc(X, z), null_c)
    assert p_c[1] == pytest.approx(1 / (1 + shuffles))
    assert (np.delete(p_c, 1) < 0.05).mean() <= 0.15


def test_circular_shift_fast_path_equals_generic():
    rng = np.random.default_rng(13)
    X = rng.normal(size=(500, 8))
    y = rng.integers(0, 3, 500)
    z = rng.normal(size=500)
    for fn, target in [(gcmi_units_cd, y), (gcmi_units_cc, z)]:
        fast = circular_shift_null(X, target, 15, 7, fn=fn)
        slow = circular_shift_null(X, target, 15, 7, fn=lambda a, b, f=fn: f(a, b))
        np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_circular_shift_calibrated_for_autocorrelated_data():
    # AR(1) units and a slowly switching context, independent of each other: a sample-wise
    # permutation null declares most units significant, the circular shift does not.
    rng = np.random.default_rng(14)
    n, units, shuffles = 2000, 100, 99
    X = signal.lfilter([1.0], [1.0, -0.95], rng.normal(size=(n, units)), axis=0)
    y = np.repeat(rng.integers(0, 2, n // 50), 50)
    obs = gcmi_units_cd(X, y)
    p_shift = permutation_pvalues(obs, circular_shift_null(X, y, shuffles, rng, min_shift=100))
    null_perm = np.stack([gcmi_units_cd(X, rng.permutation(y)) for _ in range(shuffles)])
    p_perm = permutation_pvalues(obs, null_perm)
    assert (p_shift < 0.05).mean() <= 0.15
    assert (p_perm < 0.05).mean() > 0.5


def test_permutation_pvalues_counts():
    null = np.array([[0.1, 0.5], [0.2, 0.5], [0.3, np.nan]])
    p = permutation_pvalues([0.25, 0.5], null)
    np.testing.assert_allclose(p, [2 / 4, 4 / 4])  # ties and NaN count as exceeding
    assert np.isnan(permutation_pvalues([np.nan, 0.1], null)[0])
    with pytest.raises(ValueError):
        permutation_pvalues([0.1, 0.2, 0.3], null)


def test_holm_hand_example_and_properties():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1
    out = holm([0.01, np.nan, 0.02])
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.02])  # NaN not counted in m
    p = np.random.default_rng(15).uniform(size=200) ** 3
    adj = holm(p)
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= 0)  # monotone in the raw p
    assert np.all((adj >= p) & (adj <= 1))
    assert np.allclose(holm(p.reshape(20, 10)), adj.reshape(20, 10))
    with pytest.raises(ValueError):
        holm([0.1, 1.5])


# ------------------------------------------------------------------------------- graphs
def test_graph_stats_two_cliques_and_empty():
    k = 5
    W = np.full((2 * k, 2 * k), 0.01)
    W[:k, :k] = W[k:, k:] = 0.3
    g = graph_stats(W, threshold=0.1)
    assert g.n_nodes == 10 and g.n_edges == 2 * k * (k - 1) // 2
    assert g.density == pytest.approx(20 / 45)
    np.testing.assert_array_equal(g.degree, k - 1)
    assert g.modularity == pytest.approx(0.5)
    np.testing.assert_array_equal(g.communities, [0] * k + [1] * k)
    assert "greedy_modularity" in g.method
    # a boolean mask gives the same graph
    assert graph_stats(W > 0.1).modularity == pytest.approx(0.5)
    empty = graph_stats(np.zeros((6, 6)))
    assert empty.density == 0.0 and empty.n_edges == 0
    np.testing.assert_array_equal(empty.degree, 0)
    assert np.isnan(empty.modularity)
    # complete graph: density 1, a single community, Q = 0
    full = graph_stats(np.ones((4, 4)))
    assert full.density == 1.0 and full.modularity == pytest.approx(0.0)
    with pytest.raises(ValueError, match="symmetric"):
        graph_stats(np.triu(np.ones((4, 4))))


def test_population_with_two_latent_factors_gives_two_communities():
    rng = np.random.default_rng(16)
    n = 2000
    f = rng.normal(size=(n, 2))
    X = np.repeat(f, 5, axis=1) + rng.normal(size=(n, 10))  # units 0-4 on f0, 5-9 on f1
    X = np.maximum(X, 0.0)  # ReLU rates
    M = unit_unit_mi(X)
    g = graph_stats(M, threshold=0.05)
    np.testing.assert_array_equal(g.communities, [0] * 5 + [1] * 5)
    assert g.modularity == pytest.approx(0.5)


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gcmi_cc(np.arange(10.0), np.arange(9.0)), "same number of samples"),
        (lambda: gcmi_cc([1.0, np.nan, 3.0, 4.0, 5.0], np.arange(5.0)), "NaN"),
        (lambda: gcmi_cc([1.0, 2.0], [2.0, 1.0]), "at least 3 samples"),
        (lambda: gcmi_cc(np.ones((5, 2, 2)), np.arange(5.0)), "1-D or 2-D"),
        (lambda: gcmi_model_cd(np.arange(20.0), np.linspace(0, 1, 20)), "integer labels"),
        (lambda: gcmi_model_cd(np.arange(20.0), np.array(["a", "b"] * 10)), "integer labels"),
        (lambda: gcmi_model_cd(np.arange(20.0), np.arange(19) % 2), "20 samples"),
        (lambda: mi_model_gd(np.arange(20.0), np.arange(20) % 2 + 1, 2), r"0\.\.1"),
        (lambda: mi_model_gd(np.arange(20.0), np.r_[np.zeros(18), 1, 1].astype(int)), "class"),
        (lambda: gcmi_units_cd(np.ones((20, 3)), np.arange(20) % 2 * 0.5), "integer labels"),
        (lambda: gcmi_units_cc(np.ones((20, 3)), np.ones((20, 2))), "one-dimensional"),
        (lambda: unit_unit_mi(np.full((10, 3), np.inf)), "NaN or infinite"),
        (lambda: copnorm([1.0, 2.0], ties="dense"), "ties"),
        (lambda: circular_shift_null(np.ones((10, 2)), np.arange(10) % 2, 0), "n_shuffles"),
        (lambda: circular_shift_null(np.ones((10, 2)), np.arange(10) % 2, 5, min_shift=6), "min"),
        (lambda: graph_stats(np.ones((3, 4))), "square"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_constant_variables_give_zero():
    x = np.random.default_rng(17).normal(size=50)
    assert gcmi_cc(np.ones(50), x) == 0.0
    assert mi_gg(x, np.full(50, 3.0)) == 0.0
    assert gcmi_model_cd(np.ones(50), np.arange(50) % 2) == 0.0
    np.testing.assert_array_equal(
        gcmi_units_cc(np.random.default_rng(0).normal(size=(50, 3)), np.ones(50)), 0.0
    )
