r"""Mutual information between unit activity and task variables, and functional connectivity.

Estimator: the **Gaussian-copula mutual information** (GCMI) of Ince et al. (2017), *A
statistical framework for neuroimaging data analysis based on mutual information estimated
via a gaussian copula*, Hum. Brain Mapp. 38:1541-1573. Each variable is first *copula-
normalised* (rank-transformed to uniform, then mapped through the standard-normal inverse
CDF), which leaves its dependence on other variables unchanged; the MI is then computed in
closed form as if the normalised variables were jointly Gaussian,

.. math:: I(X;Y) = H(X) + H(Y) - H(X,Y), \qquad
          H(X) = \tfrac12 \log\bigl((2\pi e)^{d}\,\lvert\Sigma_X\rvert\bigr).

For one-dimensional variables this is :math:`I = -\tfrac12\log_2(1-\rho^2)` with
:math:`\rho` the correlation of the normal scores. GCMI is exact for Gaussian copulas and a
conservative, rank-based estimate otherwise (Ince et al. 2017, Sec. 2.3). For a continuous
:math:`X` and a discrete :math:`Y` the *Gaussian model* is used (an ANOVA-like formula):

.. math:: I(X;Y) = H(X) - \sum_k p_k\, H(X \mid Y=k),

with Gaussian entropies from the pooled and the per-class covariances.

Conventions
-----------
* Samples run along axis 0: ``x`` is ``(n_samples,)`` or ``(n_samples, n_dims)``, a
  population ``X`` is ``(n_samples, n_units)``. (Ince's reference code puts samples last.)
* Every MI is in **bits**.
* Entropies carry Ince's analytic bias correction for the log-determinant of a sample
  covariance with :math:`n-1` degrees of freedom,

  .. math:: \hat H = \tfrac12\log\lvert S\rvert - d\,\tfrac12\bigl(\ln 2 - \ln(n-1)\bigr)
            - \tfrac12\sum_{i=1}^{d}\psi\!\left(\tfrac{n-i}{2}\right) + \text{const},

  so that MI of independent variables is ≈ 0 on average (it can come out slightly negative).
* **Ties** (companion choice). Ince's code ranks ties by position (``ties="ordinal"``). ReLU
  units are exactly zero on many samples; ordinal ranks would order those zeros by time and
  create spurious dependence between units silent over the same stretch, or with any
  variable that drifts in time. The default here is ``ties="average"`` (tied values share
  one normal score); ``"ordinal"`` reproduces the reference code.
* **Constant variables** (dead units) carry no information: their MI is 0, not an error.

Significance is by a circular-shift null (:func:`circular_shift_null`), which keeps the
autocorrelation of both series, with permutation p-values and Holm's step-down correction;
:func:`graph_stats` summarises a thresholded unit-unit MI matrix (functional connectivity).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

__all__ = [
    "GraphStats",
    "circular_shift_null",
    "copnorm",
    "ent_g",
    "gcmi_cc",
    "gcmi_model_cd",
    "gcmi_units_cc",
    "gcmi_units_cd",
    "graph_stats",
    "holm",
    "mi_gg",
    "mi_model_gd",
    "permutation_pvalues",
    "unit_unit_mi",
]

_LN2 = math.log(2.0)
_TIES = ("average", "ordinal")


# ----------------------------------------------------------------------------- validation
def _as_samples(x, name: str, min_samples: int = 3) -> np.ndarray:
    """``x`` as a finite float array ``(n_samples, n_dims)``; 1-D input becomes one column."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (samples x dims), got shape {a.shape}")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has no variables (shape {a.shape})")
    if a.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples, got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _check_same_n(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{na} and {nb} must have the same number of samples, got {a.shape[0]} and {b.shape[0]}"
        )


def _as_labels(y, n: int, n_classes: int | None, name: str = "y") -> tuple[np.ndarray, int]:
    """Integer class codes ``0..K-1`` of length ``n`` and ``K``.

    With ``n_classes`` the labels must already be ``0..n_classes-1`` and every class present;
    without it, any integer labels are mapped to codes in sorted order.
    """
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer labels, got shape {a.shape}")
    if a.shape[0] != n:
        raise ValueError(f"{name} must have {n} samples (as x), got {a.shape[0]}")
    if a.dtype == bool:
        a = a.astype(np.int64)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{name} must hold integer labels (got non-integer values)")
        a = a.astype(np.int64)
    elif not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integer labels, got dtype {a.dtype}")
    if n_classes is None:
        _, codes = np.unique(a, return_inverse=True)
        k = int(codes.max()) + 1
        return codes.reshape(-1).astype(np.int64), k
    if int(n_classes) != n_classes or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    k = int(n_classes)
    if a.min() < 0 or a.max() >= k:
        raise ValueError(f"{name} labels must lie in 0..{k - 1} (n_classes={k})")
    if np.bincount(a, minlength=k).min() == 0:
        raise ValueError(f"every class 0..{k - 1} must occur in {name}")
    return a.astype(np.int64), k


def _check_ties(ties: str) -> None:
    if ties not in _TIES:
        raise ValueError(f"ties must be one of {_TIES}, got {ties!r}")


# ------------------------------------------------------------------------- building blocks
def _bias_terms(n: int | np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Ince's bias-correction terms (nats) for ``d`` variables and ``n`` samples.

    Returns ``dterm`` :math:`= (\ln 2 - \ln(n-1))/2` and the cumulative sums
    :math:`c_j = \sum_{i=1}^{j} \psi((n-i)/2)/2`, ``j = 1..d`` (last axis). The corrected
    entropy of ``j`` variables is :math:`\hat H - j\,\mathrm{dterm} - c_j`.
    """
    n = np.asarray(n, dtype=float)
    dterm = (_LN2 - np.log(n - 1.0)) / 2.0
    i = np.arange(1, d + 1, dtype=float)
    psiterms = special.psi((n[..., None] - i) / 2.0) / 2.0
    return dterm, np.cumsum(psiterms, axis=-1)


def _half_logdet(c: np.ndarray, what: str) -> float:
    r""":math:`\tfrac12\ln\lvert C\rvert` via Cholesky (sum of the log-diagonal)."""
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"covariance of {what} is not positive definite (collinear or constant variables)"
        ) from None
    return float(np.log(np.diagonal(chol)).sum())


def _is_constant(a: np.ndarray) -> bool:
    """True when every column of ``a`` (samples x dims) is constant."""
    return bool(np.all(np.ptp(a, axis=0) == 0))


def copnorm(x, axis: int = 0, ties: str = "average") -> np.ndarray:
    r"""Copula normalisation: ranks to uniform, then to a standard normal, along ``axis``.

    .. math:: \tilde x_i = \Phi^{-1}\!\left(\frac{\mathrm{rank}(x_i)}{n+1}\right)

    Each variable (every slice along the other axes) is transformed separately; the result
    has standard-normal marginals (exactly so without ties) and the same copula as ``x``.

    Parameters
    ----------
    x : array_like
        Finite values; ``axis`` runs over samples.
    axis : int
        Sample axis (default 0: samples x variables).
    ties : {"average", "ordinal"}
        ``"average"`` gives tied values one shared score (default, see module notes);
        ``"ordinal"`` breaks ties by position, as in Ince et al.'s reference code.
    """
    _check_ties(ties)
    a = np.asarray(x, dtype=float)
    if a.ndim == 0 or a.shape[axis] < 1:
        raise ValueError("copnorm needs at least one sample along axis")
    if not np.all(np.isfinite(a)):
        raise ValueError("copnorm input contains NaN or infinite values")
    ranks = stats.rankdata(a, method=ties, axis=axis)
    return special.ndtri(ranks / (a.shape[axis] + 1.0))


def ent_g(x, biascorrect: bool = True) -> float:
    r"""Entropy (bits) of a Gaussian with the sample covariance of ``x``.

    .. math:: H = \tfrac12\log_2\bigl((2\pi e)^d \lvert S\rvert\bigr)

    with Ince's bias correction (module notes) when ``biascorrect``.

    Parameters
    ----------
    x : array_like, ``(n_samples,)`` or ``(n_samples, n_dims)``
        Needs more samples than dimensions and a positive-definite covariance.
    """
    x = _as_samples(x, "x")
    n, d = x.shape
    if n <= d + 1:
        raise ValueError(f"ent_g needs more than {d + 1} samples for {d} dims, got {n}")
    h = _half_logdet(np.atleast_2d(np.cov(x, rowvar=False)), "x")
    h += 0.5 * d * (math.log(2.0 * math.pi) + 1.0)
    if biascorrect:
        dterm, cpsi = _bias_terms(n, d)
        h -= d * float(dterm) + float(cpsi[-1])
    return h / _LN2


def mi_gg(x, y, biascorrect: bool = True) -> float:
    r"""MI (bits) between two variables modelled as jointly Gaussian.

    .. math:: I = \tfrac12\log_2 \frac{\lvert\Sigma_X\rvert\,\lvert\Sigma_Y\rvert}
              {\lvert\Sigma_{XY}\rvert}

    from the sample covariances (log-determinants by Cholesky), with Ince's bias correction
    applied to each of the three entropies. Returns 0.0 when ``x`` or ``y`` is constant
    (all columns); a constant column among varying ones raises ValueError.

    Parameters
    ----------
    x, y : array_like, ``(n_samples,)`` or ``(n_samples, n_dims)``
        Same number of samples, more samples than ``dx + dy + 1``, all finite.
    """
    x = _as_samples(x, "x")
    y = _as_samples(y, "y")
    _check_same_n(x, y, "x", "y")
    n, dx = x.shape
    dy = y.shape[1]
    dxy = dx + dy
    if n <= dxy + 1:
        raise ValueError(f"mi_gg needs more than {dxy + 1} samples for {dxy} dims, got {n}")
    if _is_constant(x) or _is_constant(y):
        return 0.0
    for a, name in ((x, "x"), (y, "y")):
        if np.any(np.ptp(a, axis=0) == 0):
            raise ValueError(f"{name} has a constant column among varying ones")
    c = np.atleast_2d(np.cov(np.hstack([x, y]), rowvar=False))
    hx = _half_logdet(c[:dx, :dx], "x")
    hy = _half_logdet(c[dx:, dx:], "y")
    hxy = _half_logdet(c, "(x, y)")
    if biascorrect:
        dterm, cpsi = _bias_terms(n, dxy)
        dterm = float(dterm)
        hx -= dx * dterm + cpsi[dx - 1]
        hy -= dy * dterm + cpsi[dy - 1]
        hxy -= dxy * dterm + cpsi[dxy - 1]
    return float((hx + hy - hxy) / _LN2)


def gcmi_cc(x, y, ties: str = "average") -> float:
    r"""Gaussian-copula MI (bits) between two continuous variables: ``mi_gg(copnorm(x),
    copnorm(y))`` with bias correction.

    Invariant under strictly monotone transforms of each variable (it uses ranks only).
    Returns 0.0 when ``x`` or ``y`` is constant.

    Parameters
    ----------
    x, y : array_like, ``(n_samples,)`` or ``(n_samples, n_dims)``
        Same number of samples (at least 3 and more than ``dx + dy + 1``), all finite.
    ties : {"average", "ordinal"}
        Passed to :func:`copnorm`.
    """
    x = _as_samples(x, "x")
    y = _as_samples(y, "y")
    _check_same_n(x, y, "x", "y")
    return mi_gg(copnorm(x, ties=ties), copnorm(y, ties=ties), biascorrect=True)


def mi_model_gd(x, y, n_classes: int | None = None, biascorrect: bool = True) -> float:
    r"""MI (bits) between a continuous ``x`` and a discrete ``y`` under the Gaussian model.

    .. math:: I = \hat H(X) - \sum_k \frac{n_k}{n}\,\hat H(X \mid Y=k)

    with Gaussian entropies from the pooled and the per-class sample covariances (bias-
    corrected with :math:`n` and :math:`n_k` samples). For one-dimensional ``x`` and no bias
    correction this is :math:`\tfrac12\log_2\sigma^2_{tot} - \sum_k p_k\tfrac12\log_2\sigma_k^2`,
    i.e. :math:`\tfrac12\log_2(\sigma^2_{tot}/\sigma^2_{within})` for equal class variances.
    It is the MI of a Gaussian *model*, not of the data's true distribution: for a bimodal
    mixture it can exceed :math:`H(Y)`. Returns 0.0 when ``x`` is constant; raises
    ValueError when ``x`` is constant within a class (the model's MI would be infinite).

    Parameters
    ----------
    x : array_like, ``(n_samples,)`` or ``(n_samples, n_dims)``
    y : array_like of int, ``(n_samples,)``
        Class labels. With ``n_classes`` they must be ``0..n_classes-1``, all present;
        otherwise any integer labels (codes assigned in sorted order).
    n_classes : int, optional
    biascorrect : bool
    """
    x = _as_samples(x, "x")
    codes, k = _as_labels(y, x.shape[0], n_classes)
    n, d = x.shape
    counts = np.bincount(codes, minlength=k)
    if counts.min() <= d + 1:
        raise ValueError(f"every class needs more than {d + 1} samples, got counts {counts}")
    if _is_constant(x):
        return 0.0
    if np.any(np.ptp(x, axis=0) == 0):
        raise ValueError("x has a constant column among varying ones")
    for c in range(k):
        if np.any(np.ptp(x[codes == c], axis=0) == 0):
            raise ValueError(f"x is constant within class {c}: the Gaussian model is undefined")
    h_unc = _half_logdet(np.atleast_2d(np.cov(x, rowvar=False)), "x")
    h_cond = np.array(
        [
            _half_logdet(np.atleast_2d(np.cov(x[codes == c], rowvar=False)), f"x | y={c}")
            for c in range(k)
        ]
    )
    if biascorrect:
        dterm, cpsi = _bias_terms(n, d)
        h_unc -= d * float(dterm) + float(cpsi[-1])
        dterm_k, cpsi_k = _bias_terms(counts, d)
        h_cond -= d * dterm_k + cpsi_k[:, -1]
    return float((h_unc - np.sum(counts / n * h_cond)) / _LN2)


def gcmi_model_cd(x, y, n_classes: int | None = None, ties: str = "average") -> float:
    r"""Gaussian-copula MI (bits) between continuous ``x`` and discrete ``y``.

    ``mi_model_gd(copnorm(x), y)`` with bias correction; ``x`` is normalised over all
    samples (not per class). See :func:`mi_model_gd` for the arguments.
    """
    x = _as_samples(x, "x")
    codes, k = _as_labels(y, x.shape[0], n_classes)
    return mi_model_gd(copnorm(x, ties=ties), codes, k, biascorrect=True)


# ---------------------------------------------------------------- batched, one MI per unit
def _units_cc_core(cx: np.ndarray, cz: np.ndarray, biascorrect: bool) -> np.ndarray:
    """Per-column Gaussian MI (bits) of ``cx`` (n x U) with one column ``cz`` (n,)."""
    n = cx.shape[0]
    xc = cx - cx.mean(axis=0)
    zc = cz - cz.mean()
    sxx = np.einsum("nu,nu->u", xc, xc)
    szz = float(zc @ zc)
    ok = (np.ptp(cx, axis=0) > 0) & (np.ptp(cz) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (zc @ xc) / np.sqrt(sxx * szz)
        r2 = np.clip(np.where(ok, r * r, 0.0), 0.0, 1.0)
        mi = -0.5 * np.log1p(-r2)
    if biascorrect:
        _, cpsi = _bias_terms(n, 2)
        # I_bc = I - 2 c_1 + c_2 (the dterms cancel for 1 + 1 = 2 dims)
        mi = mi + float(cpsi[1] - 2.0 * cpsi[0])
    return np.where(ok, mi / _LN2, 0.0)


def _units_cd_core(cx: np.ndarray, codes: np.ndarray, k: int, biascorrect: bool) -> np.ndarray:
    """Per-column Gaussian-model MI (bits) of ``cx`` (n x U) with class codes (n,)."""
    n = cx.shape[0]
    counts = np.bincount(codes, minlength=k).astype(float)
    onehot = np.zeros((k, n))
    onehot[codes, np.arange(n)] = 1.0
    means = (onehot @ cx) / counts[:, None]  # (K, U)
    resid = cx - means[codes]
    var_k = (onehot @ (resid * resid)) / (counts[:, None] - 1.0)  # (K, U)
    var_tot = cx.var(axis=0, ddof=1)
    const = np.ptp(cx, axis=0) == 0
    # a unit constant within a class: detected exactly (per-class range), not from var_k,
    # whose rounding error would leave a tiny positive variance and a huge finite MI
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    sorted_x = cx[order]
    flat_in_class = np.any(
        np.maximum.reduceat(sorted_x, starts, axis=0)
        == np.minimum.reduceat(sorted_x, starts, axis=0),
        axis=0,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        h_unc = 0.5 * np.log(var_tot)
        h_cond = 0.5 * np.log(var_k)
        if biascorrect:
            dterm, cpsi = _bias_terms(n, 1)
            h_unc = h_unc - (float(dterm) + float(cpsi[0]))
            dterm_k, cpsi_k = _bias_terms(counts, 1)
            h_cond = h_cond - (dterm_k + cpsi_k[:, 0])[:, None]
        mi = (h_unc - (counts / n) @ h_cond) / _LN2
    mi = np.where(flat_in_class, np.nan, mi)
    return np.where(const, 0.0, mi)


def gcmi_units_cc(X, z, ties: str = "average", biascorrect: bool = True) -> np.ndarray:
    r"""GCMI (bits) of every unit of a population with one continuous variable.

    In closed form for one-dimensional marginals (no loop over units):

    .. math:: I_u = -\tfrac12\log_2(1-\rho_u^2) + \bigl(c_2 - 2c_1\bigr)/\ln 2,

    :math:`\rho_u` the correlation of the copula-normalised unit and ``z``, :math:`c_j` the
    bias terms of the module notes. Equals ``gcmi_cc(X[:, u], z)`` for every ``u``;
    constant units (or a constant ``z``) give 0.

    Parameters
    ----------
    X : array_like, ``(n_samples, n_units)`` (1-D: one unit)
    z : array_like, ``(n_samples,)``
    """
    X = _as_samples(X, "X")
    z = _as_samples(z, "z")
    _check_same_n(X, z, "X", "z")
    if z.shape[1] != 1:
        raise ValueError(f"z must be one-dimensional, got shape {z.shape}")
    _check_ties(ties)
    if X.shape[0] < 4:
        raise ValueError(f"gcmi_units_cc needs at least 4 samples, got {X.shape[0]}")
    return _units_cc_core(copnorm(X, ties=ties), copnorm(z[:, 0], ties=ties), biascorrect)


def gcmi_units_cd(
    X, y, n_classes: int | None = None, ties: str = "average", biascorrect: bool = True
) -> np.ndarray:
    r"""GCMI (bits) of every unit of a population with one discrete variable.

    Gaussian model per unit from the pooled and per-class variances of the copula-
    normalised unit (no loop over units):

    .. math:: I_u = \tfrac12\log_2\hat\sigma^2_{u} - \sum_k p_k\,\tfrac12\log_2
              \hat\sigma^2_{u\mid k} \quad(\text{bias-corrected}).

    Equals ``gcmi_model_cd(X[:, u], y)`` for every ``u``. Constant units give 0; a unit
    that varies overall but is constant within some class (the Gaussian model is then
    undefined, its MI infinite) gives NaN.

    Parameters
    ----------
    X : array_like, ``(n_samples, n_units)`` (1-D: one unit)
    y : array_like of int, ``(n_samples,)``
        Labels, as in :func:`mi_model_gd`; every class needs at least 3 samples.
    """
    X = _as_samples(X, "X")
    codes, k = _as_labels(y, X.shape[0], n_classes)
    counts = np.bincount(codes, minlength=k)
    if counts.min() <= 2:
        raise ValueError(f"every class needs more than 2 samples, got counts {counts}")
    _check_ties(ties)
    return _units_cd_core(copnorm(X, ties=ties), codes, k, biascorrect)


def unit_unit_mi(X, ties: str = "average", biascorrect: bool = True) -> np.ndarray:
    r"""GCMI (bits) between every pair of units: a ``(n_units, n_units)`` matrix.

    From the correlation matrix :math:`R` of the copula-normalised population,

    .. math:: M_{uv} = -\tfrac12\log_2(1-R_{uv}^2) + (c_2 - 2c_1)/\ln 2,

    which equals ``gcmi_cc(X[:, u], X[:, v])``. The matrix is symmetric; the **diagonal is
    0** (self-information of a continuous variable is infinite and is not an edge); rows and
    columns of constant units are 0. With bias correction, independent pairs scatter around
    0 and can be slightly negative. Two units with identical ranks give ``inf``.

    Parameters
    ----------
    X : array_like, ``(n_samples, n_units)``
    """
    X = _as_samples(X, "X", min_samples=4)
    _check_ties(ties)
    cx = copnorm(X, ties=ties)
    n = cx.shape[0]
    xc = cx - cx.mean(axis=0)
    ok = np.ptp(cx, axis=0) > 0
    norm = np.sqrt(np.einsum("nu,nu->u", xc, xc))
    norm = np.where(ok, norm, 1.0)
    r = (xc.T @ xc) / np.outer(norm, norm)
    r2 = np.clip(r * r, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        mi = -0.5 * np.log1p(-r2)
    if biascorrect:
        _, cpsi = _bias_terms(n, 2)
        mi = mi + float(cpsi[1] - 2.0 * cpsi[0])
    mi = mi / _LN2
    mi[~ok, :] = 0.0
    mi[:, ~ok] = 0.0
    np.fill_diagonal(mi, 0.0)
    return mi


# ---------------------------------------------------------------------------- significance
def circular_shift_null(
    X,
    y,
    n_shuffles: int = 1000,
    rng: np.random.Generator | int | None = None,
    fn: Callable[..., np.ndarray] = gcmi_units_cd,
    min_shift: int = 1,
) -> np.ndarray:
    r"""Null distribution of per-unit MI by circularly shifting ``y`` against ``X``.

    For shuffle :math:`s` an offset :math:`\tau_s` is drawn uniformly from
    ``[min_shift, n - min_shift]`` and ``fn(X, roll(y, τ_s))`` is evaluated. A circular
    shift keeps the autocorrelation of both series and breaks only their alignment, so it is
    a valid null for time series (unlike a sample-wise permutation) provided ``min_shift``
    exceeds the autocorrelation time; with trial-structured data, shift by at least one
    trial.

    For ``fn`` = :func:`gcmi_units_cd` or :func:`gcmi_units_cc` (default settings) ``X`` is
    copula-normalised once and only ``y`` is rolled, which gives the same values as calling
    ``fn`` each time; other callables ``fn(X, y) -> (n_units,)`` are called as given. The
    loop runs over shuffles, every shuffle is vectorised over units.

    Parameters
    ----------
    X : array_like, ``(n_samples, n_units)``
    y : array_like, ``(n_samples,)``
        Labels (for ``gcmi_units_cd``) or a continuous variable (``gcmi_units_cc``).
    n_shuffles : int
    rng : numpy Generator or seed
    fn : callable
    min_shift : int
        Smallest circular offset (>= 1), in samples.

    Returns
    -------
    ndarray, ``(n_shuffles, n_units)``
        Null MIs in bits.
    """
    if int(n_shuffles) != n_shuffles or n_shuffles < 1:
        raise ValueError(f"n_shuffles must be a positive integer, got {n_shuffles!r}")
    X = _as_samples(X, "X")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    _check_same_n(X, y, "X", "y")
    n = X.shape[0]
    if int(min_shift) != min_shift or min_shift < 1 or n - min_shift < min_shift:
        raise ValueError(f"min_shift must be an integer in [1, n/2] (n = {n}), got {min_shift!r}")
    rng = np.random.default_rng(rng)
    offsets = rng.integers(int(min_shift), n - int(min_shift) + 1, size=int(n_shuffles))

    if fn is gcmi_units_cd:
        codes, k = _as_labels(y, n, None)
        if np.bincount(codes, minlength=k).min() <= 2:
            raise ValueError("every class of y needs more than 2 samples")
        cx = copnorm(X)

        def one(tau: int) -> np.ndarray:
            return _units_cd_core(cx, np.roll(codes, tau), k, True)

    elif fn is gcmi_units_cc:
        z = _as_samples(y, "y")[:, 0]
        cx, cz = copnorm(X), copnorm(z)

        def one(tau: int) -> np.ndarray:
            return _units_cc_core(cx, np.roll(cz, tau), True)

    else:

        def one(tau: int) -> np.ndarray:
            return np.asarray(fn(X, np.roll(y, tau)), dtype=float)

    null = np.stack([one(int(t)) for t in offsets])
    if null.shape != (int(n_shuffles), X.shape[1]):
        raise ValueError(f"fn must return one value per unit, got shape {null.shape[1:]}")
    return null


def permutation_pvalues(observed, null) -> np.ndarray:
    r"""One-sided permutation p-values, per unit.

    .. math:: p_u = \frac{1 + \#\{s : I^{null}_{s,u} \ge I^{obs}_u\}}{1 + S}

    (never 0; the smallest is :math:`1/(1+S)`). A NaN observed value gives NaN; a NaN null
    value counts as exceeding the observed one (conservative).

    Parameters
    ----------
    observed : array_like, ``(n_units,)`` (or scalar)
    null : array_like, ``(n_shuffles, n_units)`` (or ``(n_shuffles,)`` for a scalar)
    """
    obs = np.asarray(observed, dtype=float)
    nul = np.asarray(null, dtype=float)
    if nul.ndim != obs.ndim + 1 or nul.shape[1:] != obs.shape:
        raise ValueError(
            f"null must be (n_shuffles,) + observed.shape, got {nul.shape} and {obs.shape}"
        )
    if nul.shape[0] < 1:
        raise ValueError("null needs at least one shuffle")
    exceed = (nul >= obs) | np.isnan(nul)
    p = (1.0 + exceed.sum(axis=0)) / (1.0 + nul.shape[0])
    return np.where(np.isnan(obs), np.nan, p)


def holm(pvalues) -> np.ndarray:
    r"""Holm-Bonferroni step-down adjusted p-values (family-wise error control).

    With the :math:`m` finite p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`,

    .. math:: \tilde p_{(i)} = \min\Bigl(1, \max_{j \le i} (m - j + 1)\,p_{(j)}\Bigr),

    returned in the input order and shape. The adjusted values are monotone in the raw ones
    and capped at 1; NaNs stay NaN and do not count in :math:`m`. Reject at level
    :math:`\alpha` where :math:`\tilde p \le \alpha`.
    """
    p = np.asarray(pvalues, dtype=float)
    flat = p.reshape(-1)
    ok = ~np.isnan(flat)
    vals = flat[ok]
    if np.any((vals < 0) | (vals > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    m = vals.size
    order = np.argsort(vals, kind="stable")
    adj_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * vals[order]))
    adj = np.empty(m)
    adj[order] = adj_sorted
    out = np.full(flat.shape, np.nan)
    out[ok] = adj
    return out.reshape(p.shape)


# ---------------------------------------------------------------------------------- graphs
@dataclass(frozen=True)
class GraphStats:
    """Summary of an undirected, unweighted functional-connectivity graph.

    Attributes
    ----------
    n_nodes, n_edges : int
    density : float
        ``n_edges / (n_nodes (n_nodes - 1) / 2)``.
    degree : ndarray of int, ``(n_nodes,)``
    modularity : float
        Newman's Q of ``communities``; NaN for a graph without edges.
    communities : ndarray of int, ``(n_nodes,)``
        Community label per node, 0 = largest (ties: lowest node index first).
    method : str
        The community-detection method used.
    """

    n_nodes: int
    n_edges: int
    density: float
    degree: np.ndarray
    modularity: float
    communities: np.ndarray
    method: str


def graph_stats(A, threshold: float | None = None) -> GraphStats:
    r"""Density, degrees and modularity of a functional-connectivity graph.

    Edges: ``A > threshold`` when a threshold is given (e.g. a unit-unit MI matrix in
    bits); otherwise ``A`` is taken as an adjacency (boolean, or non-zero entries), e.g. a
    mask of pairs significant after :func:`holm`. NaNs are no edge, the diagonal is ignored,
    and the adjacency must be symmetric.

    Communities come from **networkx's greedy modularity maximisation**
    (``networkx.community.greedy_modularity_communities``, Clauset-Newman-Moore, which is
    deterministic), scored by Newman's

    .. math:: Q = \sum_c \left[\frac{L_c}{m} - \left(\frac{d_c}{2m}\right)^2\right],

    (:math:`L_c` edges inside community :math:`c`, :math:`d_c` its total degree, :math:`m`
    edges) via ``networkx.community.modularity``. Two disjoint equal cliques give Q = 0.5.
    """
    import networkx as nx  # pinned (a dependency of torch); imported here only

    a = np.asarray(A)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2:
        raise ValueError(f"A must be a square matrix with at least 2 nodes, got {a.shape}")
    if a.dtype == bool:
        adj = a.copy()
    else:
        a = a.astype(float)
        finite = np.isfinite(a)
        if threshold is None:
            adj = finite & (a != 0)
        else:
            adj = finite & (a > threshold)
    np.fill_diagonal(adj, False)
    if not np.array_equal(adj, adj.T):
        raise ValueError("the adjacency (after thresholding) must be symmetric")
    n = adj.shape[0]
    degree = adj.sum(axis=1).astype(int)
    n_edges = int(degree.sum() // 2)
    density = n_edges / (n * (n - 1) / 2)
    method = "networkx greedy_modularity_communities (Clauset-Newman-Moore)"
    labels = np.arange(n)
    if n_edges == 0:
        return GraphStats(n, 0, 0.0, degree, float("nan"), labels, method)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    iu, ju = np.nonzero(np.triu(adj, 1))
    g.add_edges_from(zip(iu.tolist(), ju.tolist(), strict=True))
    comms = sorted(
        (sorted(c) for c in nx.community.greedy_modularity_communities(g)),
        key=lambda c: (-len(c), c[0]),
    )
    q = float(nx.community.modularity(g, comms))
    for lab, c in enumerate(comms):
        labels[c] = lab
    return GraphStats(n, n_edges, float(density), degree, q, labels, method)
