r"""Statistics used across chapters: two-group comparisons with effect sizes and CIs.

Networks are the unit of analysis (one number per network), so groups are small (5-20); the
tests are rank-based and the confidence intervals bootstrap percentiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats as _st

__all__ = ["bootstrap_ci", "compare_groups", "pearson_ci", "resampled_ranks", "spearman_ci"]


def bootstrap_ci(
    x: Sequence[float], stat=np.mean, level: float = 0.95, n_boot: int = 10000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``stat(x)``.

    Resamples are drawn as one ``(n_boot, n)`` index array (no Python loop per resample).
    Returns (nan, nan) for fewer than 2 values.
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    vals = stat(x[idx], axis=1)
    a = (1 - level) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def compare_groups(
    a: Sequence[float], b: Sequence[float], names: tuple[str, str] = ("a", "b")
) -> dict[str, float]:
    r"""Compare two independent groups: means with bootstrap CIs, Mann-Whitney U, effect size.

    The effect size is the rank-biserial correlation
    :math:`r = 2U/(n_a n_b) - 1 = P(A > B) - P(A < B)` (ties count half), in [−1, 1].

    Returns
    -------
    dict with ``n_<name>``, ``mean_<name>``, ``ci_low_<name>``, ``ci_high_<name>``,
    ``median_<name>``, ``U``, ``p`` (two-sided) and ``rank_biserial``. ``p`` is NaN when a
    group has fewer than 2 values or all values are identical.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    out: dict[str, float] = {}
    for name, x in zip(names, (a, b), strict=True):
        lo, hi = bootstrap_ci(x)
        out[f"n_{name}"] = int(x.size)
        out[f"mean_{name}"] = float(x.mean()) if x.size else float("nan")
        out[f"ci_low_{name}"], out[f"ci_high_{name}"] = lo, hi
        out[f"median_{name}"] = float(np.median(x)) if x.size else float("nan")
    if a.size >= 1 and b.size >= 1:
        # U from pairwise comparisons (exact rank-biserial), p from scipy
        diff = a[:, None] - b[None, :]
        U = float((diff > 0).sum() + 0.5 * (diff == 0).sum())
        out["U"] = U
        out["rank_biserial"] = 2 * U / (a.size * b.size) - 1
        if a.size >= 2 and b.size >= 2 and np.ptp(np.concatenate([a, b])) > 0:
            out["p"] = float(_st.mannwhitneyu(a, b, alternative="two-sided").pvalue)
        else:
            out["p"] = float("nan")
    else:
        out["U"] = out["rank_biserial"] = out["p"] = float("nan")
    return out


def resampled_ranks(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The average ranks (ties share their mean rank, 1-based) within every row of
    ``x[idx]``, equal to ``scipy.stats.rankdata(x[idx], axis=1)`` but without sorting a row:
    a resample's rank of a value is the count of resampled values below it plus half its own
    count plus ½, read off the per-row counts of ``x``'s distinct values.

    Parameters
    ----------
    x : ndarray (n,)
        The sample.
    idx : ndarray of int (B, m)
        Indices into ``x``, one resample per row.

    Returns
    -------
    ndarray (B, m)
        The ranks, float64 (exact half-integers).
    """
    _, codes = np.unique(x, return_inverse=True)
    k = int(codes.max()) + 1 if codes.size else 0
    c = codes.reshape(-1)[idx]
    B = c.shape[0]
    flat = (c + k * np.arange(B)[:, None]).ravel()
    counts = np.bincount(flat, minlength=B * k).reshape(B, k)
    below = np.cumsum(counts, axis=1) - counts
    rank = below + (counts + 1) / 2.0
    return np.take_along_axis(rank, c, axis=1)


def spearman_ci(
    x: Sequence[float], y: Sequence[float], level: float = 0.95, n_boot: int = 5000, seed: int = 0
) -> tuple[float, float, float, float]:
    """Spearman's rank correlation with a percentile bootstrap CI (pairs resampled).

    Returns (rho, ci_low, ci_high, p); NaNs when fewer than 3 pairs or a constant variable.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    nan = float("nan")
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return nan, nan, nan, nan
    res = _st.spearmanr(x, y)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    rx, ry = resampled_ranks(x, idx), resampled_ranks(y, idx)
    rx -= rx.mean(1, keepdims=True)
    ry -= ry.mean(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (rx * ry).sum(1) / np.sqrt((rx**2).sum(1) * (ry**2).sum(1))
    r = r[np.isfinite(r)]
    a = (1 - level) / 2
    return (
        float(res.statistic),
        float(np.quantile(r, a)),
        float(np.quantile(r, 1 - a)),
        float(res.pvalue),
    )


def pearson_ci(
    x: Sequence[float], y: Sequence[float], level: float = 0.95
) -> tuple[float, float, float, float]:
    """Pearson's r with the Fisher-z confidence interval. Returns (r, ci_low, ci_high, p)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    nan = float("nan")
    if x.size < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return nan, nan, nan, nan
    res = _st.pearsonr(x, y)
    ci = res.confidence_interval(confidence_level=level)
    return float(res.statistic), float(ci.low), float(ci.high), float(res.pvalue)


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> tuple[float, float]:
    """Agreement of two binary labellings of the same items: the fraction that agree and
    Cohen's κ = (p_o − p_e) / (1 − p_e), NaN when chance agreement p_e is 1 (both constant
    and equal) or there are no items."""
    p, r = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    n = p.size
    if n == 0:
        return float("nan"), float("nan")
    po = float(np.mean(p == r))
    pe = p.mean() * r.mean() + (1 - p.mean()) * (1 - r.mean())
    return po, float((po - pe) / (1 - pe)) if pe < 1 else float("nan")
