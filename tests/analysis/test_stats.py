"""Statistics helpers against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from lib.analysis.stats import pearson_ci, spearman_ci


def test_spearman_monotone_and_independent():
    x = np.arange(20.0)
    rho, lo, hi, p = spearman_ci(x, x**3)
    assert rho == pytest.approx(1.0) and p < 1e-10 and lo == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    rho, lo, hi, p = spearman_ci(rng.normal(size=200), rng.normal(size=200))
    assert lo < 0 < hi and abs(rho) < 0.15
    assert all(np.isnan(v) for v in spearman_ci([1, 2], [3, 4]))


def test_pearson_of_correlated_gaussians():
    rng = np.random.default_rng(1)
    r_true = 0.6
    z = rng.multivariate_normal([0, 0], [[1, r_true], [r_true, 1]], size=2000)
    r, lo, hi, p = pearson_ci(z[:, 0], z[:, 1])
    assert lo < r_true < hi and hi - lo < 0.08 and p < 1e-50


def test_resampled_ranks_equal_scipys_rankdata_with_ties():
    """The counting ranks of every bootstrap resample are scipy's average ranks, exactly
    (ties included: values drawn from 7 levels)."""
    from scipy.stats import rankdata

    from lib.analysis.stats import resampled_ranks

    rng = np.random.default_rng(3)
    x = rng.integers(0, 7, size=40).astype(float)
    idx = rng.integers(0, x.size, size=(300, x.size))
    assert np.array_equal(resampled_ranks(x, idx), rankdata(x[idx], axis=1))
    y = rng.normal(size=25)  # no ties
    idx = rng.integers(0, y.size, size=(50, 25))
    assert np.array_equal(resampled_ranks(y, idx), rankdata(y[idx], axis=1))
    assert resampled_ranks(np.array([2.0, 1.0]), np.array([[0, 0, 1]])).tolist() == [[2.5, 2.5, 1]]
