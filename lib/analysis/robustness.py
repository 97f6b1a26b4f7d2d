r"""Accuracy of a trained network under perturbations of its recurrent dynamics.

The paper says balanced populations make RL networks more robust; this module measures
robustness directly. Three perturbations of the update (all on the greedy policy of
:mod:`lib.train.evaluation`: the first non-fixate argmax in the decision period is the choice):

* **state noise**: after every update, :math:`h_t \leftarrow h_t + \sigma\,\xi_t` with
  :math:`\xi_t \sim \mathcal N(0, I)` (rates may then be negative for one step; the next
  ReLU clips them);
* **ablation**: the units outside a kept set are forced to 0 after every update,
  :math:`h_t \leftarrow m \odot h_t` (an ablated unit neither fires nor drives the others);
* **weight perturbation**: :math:`W_{rec}` is replaced, e.g. by
  :math:`W_{rec} + \varepsilon\,\mathrm{sd}(W_{rec})\,Z` with :math:`Z_{ij} \sim \mathcal N(0,1)`.

One step of the perturbed network (leak :math:`\alpha`; :math:`\alpha = 1` by default) is

.. math:: h_t = m \odot \Bigl[(1-\alpha) h_{t-1} + \alpha\,\mathrm{ReLU}(\tilde W h_{t-1}
          + W_{in} x_t + b) + \sigma \xi_t\Bigr], \qquad h_0 = 0.

The time loop is explicit (batched over trials and over perturbations); with no perturbation
it performs exactly the operations of :meth:`lib.core.network.RNN.forward`, so the accuracy equals
:func:`lib.train.evaluation.evaluate` on the same seed bit for bit. Every curve evaluates all its
levels on the *same* trials (those of ``evaluate(net, task, n_trials, seed)``), and the random
perturbations of a draw are shared across levels (common random numbers: the same :math:`Z`
scaled by each :math:`\varepsilon`, nested sets of ablated units), so the differences between
levels are not blurred by resampling. The state noise comes from its own generator, seeded by
``noise_seed`` (by default derived from ``seed``).

:func:`robustness_summary` condenses a curve into one number: the area under the mean
accuracy-vs-level curve divided by the level range, i.e. the mean accuracy over the range
under linear interpolation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from lib.core.network import RNN
from lib.core.task import TaskConfig, Trials, sample_trials, stream_trials
from lib.train.evaluation import greedy_choices

__all__ = [
    "Perturbation",
    "noise_curve",
    "perturbed_accuracies",
    "perturbed_accuracy",
    "population_ablation",
    "random_ablation_curve",
    "robustness_summary",
    "weight_perturbation_curve",
]

Array = np.ndarray


@dataclass(frozen=True)
class Perturbation:
    """One perturbation of the recurrent dynamics.

    Parameters
    ----------
    noise_std : float
        Std :math:`\\sigma \\ge 0` of the Gaussian noise added to the state after every update.
    unit_mask : bool array ``(N,)``, optional
        Units kept (True); the others are held at 0. None keeps every unit.
    W_rec : array ``(N, N)``, optional
        Recurrent matrix used instead of the network's. None keeps the trained one.
    """

    noise_std: float = 0.0
    unit_mask: Array | None = None
    W_rec: Array | None = None


def _derived_seed(seed: int, stream: int) -> int:
    """A seed for an independent stream derived from ``seed`` (NumPy's SeedSequence)."""
    return int(np.random.SeedSequence([int(seed), stream]).generate_state(1, np.uint64)[0] >> 1)


def _check_perturbation(p: Perturbation, n: int) -> None:
    if not (np.isfinite(p.noise_std) and p.noise_std >= 0):
        raise ValueError(f"noise_std must be finite and >= 0, got {p.noise_std!r}")
    if p.unit_mask is not None:
        m = np.asarray(p.unit_mask)
        if m.dtype != bool or m.shape != (n,):
            raise ValueError(f"unit_mask must be a boolean array of shape ({n},), got {m.shape}")
    if p.W_rec is not None:
        W = np.asarray(p.W_rec)
        if W.shape != (n, n):
            raise ValueError(f"W_rec must have shape ({n}, {n}), got {W.shape}")
        if not np.all(np.isfinite(W)):
            raise ValueError("W_rec must be finite")


def _check_run(n_trials: int, batch: int, max_rows: int) -> None:
    if not (isinstance(n_trials, int | np.integer) and n_trials > 0):
        raise ValueError(f"n_trials must be a positive int, got {n_trials!r}")
    if not (isinstance(batch, int | np.integer) and batch > 0):
        raise ValueError(f"batch must be a positive int, got {batch!r}")
    if not (isinstance(max_rows, int | np.integer) and max_rows > 0):
        raise ValueError(f"max_rows must be a positive int, got {max_rows!r}")


@torch.no_grad()
def _choices(
    net: RNN,
    tr: Trials,
    group: Sequence[Perturbation],
    gen: torch.Generator,
    regime: str = "reset",
) -> torch.Tensor:
    """Greedy choices ``[G, B]`` of the G perturbed networks of ``group`` on the trials, run in
    the trial ``regime`` (continuous: back to back in streams, as
    :func:`lib.core.network.run_trials`)."""
    stream = stream_trials(tr) if regime == "continuous" else None
    x = tr.inputs if stream is None else stream.inputs
    T, B, _ = x.shape
    N, G = net.hidden, len(group)
    u = net.drive(x)  # the input drive, exactly as in RNN.forward
    Ws = [p.W_rec for p in group]
    W_rec: torch.Tensor | None = None  # None: the trained W_rec shared by all G*B rows
    if any(w is not None for w in Ws):
        W_rec = torch.stack(
            [net.W_rec if w is None else torch.as_tensor(w, dtype=x.dtype) for w in Ws]
        )
    std = torch.tensor([p.noise_std for p in group], dtype=x.dtype)
    noisy = bool((std > 0).any())
    std_rows = std.repeat_interleave(B).unsqueeze(1)
    keep = None
    if any(p.unit_mask is not None for p in group):
        m = [np.ones(N, bool) if p.unit_mask is None else np.asarray(p.unit_mask) for p in group]
        keep = torch.as_tensor(np.stack(m), dtype=x.dtype).repeat_interleave(B, dim=0)
    h = x.new_zeros(G * B, N)
    hs = []
    for t in range(T):
        noise = std_rows * torch.randn(G * B, N, generator=gen, dtype=x.dtype) if noisy else None
        h = net.step(
            h,
            u[t] if G == 1 else u[t].repeat(G, 1),
            W_rec=W_rec,
            state_noise=noise,
            unit_mask=keep,
        )
        hs.append(h)
    logits = net.policy(torch.stack(hs))  # [T, G*B, 3], as RNN.forward applies the policy
    if stream is not None:  # streams -> trials, per perturbed network
        per = logits.view(T, G, B, -1).permute(0, 2, 1, 3)  # [L, S, G, 3]
        trial = stream.unstream(per)  # [T, n, G, 3]
        B = trial.shape[1]
        logits = trial.permute(0, 2, 1, 3).reshape(trial.shape[0], G * B, -1)
    rows = dataclasses.replace(tr, period=tr.period.repeat(1, G))  # row g*B + b is trial b
    return greedy_choices(logits, rows).view(G, B)


def perturbed_accuracies(
    net: RNN,
    task: TaskConfig,
    perturbations: Sequence[Perturbation],
    n_trials: int = 1000,
    seed: int = 0,
    *,
    noise_seed: int | None = None,
    batch: int = 1000,
    max_rows: int = 4096,
) -> Array:
    """Greedy accuracy of each perturbed network on the same ``n_trials`` fresh trials.

    Parameters
    ----------
    net : RNN
    task : TaskConfig
    perturbations : sequence of Perturbation
    n_trials : int
    seed : int
        Seed of the trial generator: the trials are those of
        ``lib.train.evaluation.evaluate(net, task, n_trials, seed, batch=batch)``.
    noise_seed : int, optional
        Seed of the state-noise generator (default: derived from ``seed``).
    batch : int
        Trials per pass (as in ``evaluate``).
    max_rows : int
        Most simulated rows (trials x perturbations) per pass; bounds the memory.

    Returns
    -------
    array ``(len(perturbations),)``
    """
    _check_run(n_trials, batch, max_rows)
    perts = list(perturbations)
    if not perts:
        raise ValueError("perturbations must not be empty")
    for p in perts:
        if not isinstance(p, Perturbation):
            raise TypeError(f"expected Perturbation, got {type(p).__name__}")
        _check_perturbation(p, net.hidden)
    gen = torch.Generator().manual_seed(int(seed))
    ns = _derived_seed(seed, 1) if noise_seed is None else int(noise_seed)
    ngen = torch.Generator().manual_seed(ns)
    hits = np.zeros(len(perts))
    for start in range(0, n_trials, batch):
        n = min(batch, n_trials - start)
        tr = sample_trials(task, n, gen)
        per_pass = max(1, max_rows // n)
        for g0 in range(0, len(perts), per_pass):
            ch = _choices(net, tr, perts[g0 : g0 + per_pass], ngen, task.trials)
            hits[g0 : g0 + per_pass] += (ch == tr.correct.unsqueeze(0)).sum(1).numpy()
    return hits / n_trials


def perturbed_accuracy(
    net: RNN,
    task: TaskConfig,
    n_trials: int = 1000,
    seed: int = 0,
    *,
    noise_std: float = 0.0,
    unit_mask: Array | None = None,
    W_rec: Array | None = None,
    noise_seed: int | None = None,
    batch: int = 1000,
) -> float:
    """Greedy accuracy of one perturbed network (see :class:`Perturbation`).

    With ``noise_std=0``, ``unit_mask=None`` and ``W_rec=None`` it equals
    ``lib.train.evaluation.evaluate(net, task, n_trials, seed, batch=batch)["accuracy"]`` exactly.
    """
    p = Perturbation(noise_std=float(noise_std), unit_mask=unit_mask, W_rec=W_rec)
    acc = perturbed_accuracies(
        net, task, [p], n_trials, seed, noise_seed=noise_seed, batch=batch, max_rows=batch
    )
    return float(acc[0])


def _levels(levels: Sequence[float], name: str, upper: float | None = None) -> Array:
    lv = np.asarray(levels, dtype=float).reshape(-1)
    if lv.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(lv)) or np.any(lv < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {lv.tolist()}")
    if upper is not None and np.any(lv > upper):
        raise ValueError(f"{name} must be <= {upper}, got {lv.tolist()}")
    return lv


def _draws(n_draws: int) -> int:
    if not (isinstance(n_draws, int | np.integer) and n_draws >= 1):
        raise ValueError(f"n_draws must be an int >= 1, got {n_draws!r}")
    return int(n_draws)


def _curve(levels: Array, n_draws: int, acc: Array, **extra: Array) -> pd.DataFrame:
    L = len(levels)
    return pd.DataFrame(
        {
            "level": np.repeat(levels, n_draws),
            "draw": np.tile(np.arange(n_draws), L),
            **extra,
            "accuracy": acc,
        }
    )


def noise_curve(
    net: RNN,
    task: TaskConfig,
    levels: Sequence[float],
    n_trials: int = 500,
    seed: int = 0,
    *,
    n_draws: int = 1,
    noise_seed: int | None = None,
    batch: int = 1000,
) -> pd.DataFrame:
    """Accuracy vs the std of the state noise.

    Returns
    -------
    DataFrame
        Columns ``level`` (noise std), ``draw`` (independent noise realisation) and
        ``accuracy``; ``len(levels) * n_draws`` rows, level-major.
    """
    lv, d = _levels(levels, "levels"), _draws(n_draws)
    perts = [Perturbation(noise_std=float(s)) for s in lv for _ in range(d)]
    acc = perturbed_accuracies(net, task, perts, n_trials, seed, noise_seed=noise_seed, batch=batch)
    return _curve(lv, d, acc)


def weight_perturbation_curve(
    net: RNN,
    task: TaskConfig,
    eps_levels: Sequence[float],
    n_trials: int = 500,
    seed: int = 0,
    n_draws: int = 5,
    *,
    batch: int = 1000,
) -> pd.DataFrame:
    r"""Accuracy vs the size of a random perturbation of the recurrent weights.

    Draw :math:`d` uses :math:`W_{rec} + \varepsilon\,\mathrm{sd}(W_{rec})\,Z_d`, with
    :math:`\mathrm{sd}` the standard deviation of all entries of the trained :math:`W_{rec}`
    and :math:`Z_d` a standard-normal matrix drawn once per draw (from a generator derived
    from ``seed``) and shared by all levels.

    Returns
    -------
    DataFrame
        Columns ``level`` (:math:`\varepsilon`), ``draw``, ``accuracy``.
    """
    lv, d = _levels(eps_levels, "eps_levels"), _draws(n_draws)
    W = net.W_rec.detach().double().numpy()
    rng = np.random.default_rng(_derived_seed(seed, 2))
    Z = rng.standard_normal((d,) + W.shape)
    sd = float(W.std())
    perts = [Perturbation(W_rec=W + e * sd * Z[k]) for e in lv for k in range(d)]
    acc = perturbed_accuracies(net, task, perts, n_trials, seed, batch=batch)
    return _curve(lv, d, acc)


def random_ablation_curve(
    net: RNN,
    task: TaskConfig,
    fractions: Sequence[float],
    n_trials: int = 500,
    seed: int = 0,
    n_draws: int = 5,
    *,
    batch: int = 1000,
) -> pd.DataFrame:
    """Accuracy vs the fraction of randomly ablated units.

    Draw :math:`d` orders the units by a random permutation (from a generator derived from
    ``seed``); fraction :math:`f` ablates its first ``round(f * N)`` units, so the ablated
    sets of one draw are nested across fractions.

    Returns
    -------
    DataFrame
        Columns ``level`` (fraction), ``draw``, ``n_ablated``, ``accuracy``.
    """
    lv, d = _levels(fractions, "fractions", upper=1.0), _draws(n_draws)
    N = net.hidden
    rng = np.random.default_rng(_derived_seed(seed, 3))
    order = np.stack([rng.permutation(N) for _ in range(d)])
    counts = np.rint(lv * N).astype(int)
    perts, n_abl = [], []
    for k in counts:
        for j in range(d):
            keep = np.ones(N, dtype=bool)
            keep[order[j, :k]] = False
            perts.append(Perturbation(unit_mask=keep))
            n_abl.append(k)
    acc = perturbed_accuracies(net, task, perts, n_trials, seed, batch=batch)
    return _curve(lv, d, acc, n_ablated=np.array(n_abl))


def population_ablation(
    net: RNN,
    task: TaskConfig,
    masks: Mapping[str, Array],
    n_trials: int = 500,
    seed: int = 0,
    *,
    n_control_draws: int = 0,
    batch: int = 1000,
) -> pd.DataFrame:
    """Accuracy with each population ablated, beside the intact network.

    Parameters
    ----------
    masks : mapping name -> bool array ``(N,)``
        The units to **ablate** (True), e.g. ``{"G+": pops.g_plus, "G-": pops.g_minus}``.
    n_control_draws : int
        For each population, this many ablations of the same number of units drawn uniformly
        at random (from a generator derived from ``seed``), as a size-matched control.

    Returns
    -------
    DataFrame
        Columns ``level`` (``"intact"`` or the population name), ``kind`` (``intact``,
        ``population`` or ``random``), ``draw``, ``n_ablated``, ``accuracy``.
    """
    N = net.hidden
    if not masks:
        raise ValueError("masks must not be empty")
    if not (isinstance(n_control_draws, int | np.integer) and n_control_draws >= 0):
        raise ValueError(f"n_control_draws must be an int >= 0, got {n_control_draws!r}")
    for name, m in masks.items():
        a = np.asarray(m)
        if a.dtype != bool or a.shape != (N,):
            raise ValueError(f"mask {name!r} must be a boolean array of shape ({N},)")
    rng = np.random.default_rng(_derived_seed(seed, 4))
    rows: list[dict[str, object]] = [
        {"level": "intact", "kind": "intact", "draw": 0, "n_ablated": 0}
    ]
    perts = [Perturbation()]
    for name, m in masks.items():
        a = np.asarray(m)
        rows.append({"level": name, "kind": "population", "draw": 0, "n_ablated": int(a.sum())})
        perts.append(Perturbation(unit_mask=~a))
        for j in range(int(n_control_draws)):
            keep = np.ones(N, dtype=bool)
            keep[rng.choice(N, size=int(a.sum()), replace=False)] = False
            rows.append({"level": name, "kind": "random", "draw": j, "n_ablated": int(a.sum())})
            perts.append(Perturbation(unit_mask=keep))
    acc = perturbed_accuracies(net, task, perts, n_trials, seed, batch=batch)
    df = pd.DataFrame(rows)
    df["accuracy"] = acc
    return df


def robustness_summary(
    curve: pd.DataFrame, level: str = "level", accuracy: str = "accuracy"
) -> float:
    r"""One robustness number per network: the normalised area under its curve.

    With :math:`\bar a(\ell)` the accuracy averaged over draws at level :math:`\ell` and the
    levels sorted, :math:`\ell_0 < \dots < \ell_K`,

    .. math:: R = \frac{1}{\ell_K - \ell_0} \int_{\ell_0}^{\ell_K} \bar a(\ell)\,d\ell

    by the trapezoidal rule: the mean accuracy over the level range under linear
    interpolation, in [0, 1] (1: no loss at any level). With a single level, :math:`R` is
    its mean accuracy. Compare networks only over the same levels.
    """
    for col in (level, accuracy):
        if col not in curve.columns:
            raise ValueError(f"curve has no column {col!r}")
    if len(curve) == 0:
        raise ValueError("curve is empty")
    lv = pd.to_numeric(curve[level], errors="coerce").to_numpy(dtype=float)
    acc = curve[accuracy].to_numpy(dtype=float)
    if not (np.all(np.isfinite(lv)) and np.all(np.isfinite(acc))):
        raise ValueError("levels must be numeric and levels and accuracies finite")
    mean = pd.Series(acc).groupby(lv).mean()
    x, y = mean.index.to_numpy(dtype=float), mean.to_numpy()
    if x.size == 1:
        return float(y[0])
    area = float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x)))
    return area / float(x[-1] - x[0])
