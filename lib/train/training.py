"""What the two trainers share: the stopping criterion, evaluation schedule and learning curve.

The paper stops training at 95 % accuracy. With NeuroGym's defaults the ideal observer is only
about 94 % correct (see :func:`lib.core.task.ideal_observer_accuracy`), so that literal criterion
cannot be met; the companion stops at a fraction (default 0.95) of the ideal observer's
accuracy instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from lib.core.network import RNN, NetworkConfig, run_trials
from lib.core.task import TaskConfig, ideal_observer_accuracy, sample_trials
from lib.train.evaluation import evaluate

__all__ = [
    "FINAL_EVAL_TRIALS",
    "MAX_SEED",
    "Monitor",
    "TrainResult",
    "TrainingDivergedError",
    "check_finite",
    "criterion_accuracy",
    "initial_activity",
]

#: Trials of the independent final evaluation recorded in ``metrics.json``.
FINAL_EVAL_TRIALS = 5000
#: Accuracy levels whose first crossing is kept as a checkpoint (plus the criterion).
CHECKPOINT_ACCURACIES = (0.5, 0.7, 0.9)
#: Fractions of the training run (in trials seen) kept as checkpoints.
CHECKPOINT_FRACTIONS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
#: Largest run seed: the data generator is seeded with ``2 * seed + 2``, which torch requires
#: to be below 2**64.
MAX_SEED = 2**63 - 2


class TrainingDivergedError(RuntimeError):
    """Training went non-finite (NaN or infinite loss, activations or weights).

    Raised by the trainers as soon as it is seen; nothing is stored. The usual cause is an
    initial recurrent gain far beyond the edge of chaos (a large ``delta``): the activations
    of the ReLU network overflow within a trial, or, in the continuous trial regime, across
    the trials of a stream (:func:`initial_activity`).
    """


def check_finite(net: RNN, what: str, **values: float | torch.Tensor) -> None:
    """Raise :class:`TrainingDivergedError` unless ``values`` and the weights are finite.

    Parameters
    ----------
    net : RNN
        The network being trained (its parameters are checked).
    what : str
        Where training is, for the message (``"SL update 3 (48 trials)"``).
    **values : float or Tensor
        Further quantities to check (a loss, logits of a rollout step).
    """
    bad = [k for k, v in values.items() if not bool(torch.isfinite(torch.as_tensor(v)).all())]
    bad += [k for k, p in net.named_parameters() if not bool(torch.isfinite(p).all())]
    if bad:
        cfg = net.cfg
        raise TrainingDivergedError(
            f"training diverged at {what}: non-finite {', '.join(bad)} (delta={cfg.delta:g}, "
            f"expected initial spectral radius {cfg.expected_spectral_radius:.3g}, "
            f"hidden={cfg.hidden}); nothing was stored. Use a smaller delta (the paper's grid "
            f"spans 0.055-0.165) or a smaller learning rate."
        )


def criterion_accuracy(task: TaskConfig, fraction: float) -> float:
    """Accuracy at which training stops: ``fraction`` x the ideal observer's accuracy."""
    if not (0 < fraction <= 1):
        raise ValueError(f"criterion fraction must lie in (0, 1], got {fraction!r}")
    return fraction * ideal_observer_accuracy(task)


def _eval_seed(seed: int, k: int) -> int:
    """Seed of the k-th evaluation of a run (a stream separate from training)."""
    return (int(seed) * 1_000_003 + 7919 * (k + 1)) % (2**63 - 1)


@dataclass
class TrainResult:
    """Outcome of one training run."""

    net: RNN
    converged: bool
    criterion: float
    trials_to_criterion: int | None
    steps_to_criterion: int | None
    trials_seen: int
    steps_seen: int
    wall_seconds: float
    final_accuracy: float
    curve: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """JSON-friendly summary (everything but the network)."""
        return {
            "converged": self.converged,
            "criterion": self.criterion,
            "trials_to_criterion": self.trials_to_criterion,
            "steps_to_criterion": self.steps_to_criterion,
            "trials_seen": self.trials_seen,
            "steps_seen": self.steps_seen,
            "wall_seconds": self.wall_seconds,
            "final_accuracy": self.final_accuracy,
            "final_eval_trials": FINAL_EVAL_TRIALS,
            "learning_curve": self.curve,
        }


class Monitor:
    """Evaluation schedule, stopping rule, learning curve and progress bar of a trainer.

    Parameters
    ----------
    net, task : the network being trained and its task.
    seed : int
        Run seed (evaluation seeds derive from it).
    criterion : float
        Accuracy at which training stops.
    eval_trials : int
        Fresh trials per evaluation.
    max_trials : int
        Budget in trials seen; the run stops unconverged when it is spent.
    progress : bool
        Show a tqdm bar.
    desc : str
        Bar label.
    keep_checkpoints : bool
        Keep the weights at every evaluation and select, at the end, those at fixed
        fractions of training (:data:`CHECKPOINT_FRACTIONS`) and at the first crossing of
        :data:`CHECKPOINT_ACCURACIES` and of the criterion.
    overtrain : float
        1: stop at the criterion. Above 1: record the criterion's crossing, then train on until
        ``overtrain`` times the trials it took (the budget ``max_trials`` then no longer stops
        the run).
    """

    def __init__(
        self,
        net: RNN,
        task: TaskConfig,
        seed: int,
        criterion: float,
        eval_trials: int,
        max_trials: int,
        progress: bool = True,
        desc: str = "train",
        keep_checkpoints: bool = False,
        overtrain: float = 1.0,
    ) -> None:
        if not overtrain >= 1:
            raise ValueError(f"overtrain must be >= 1, got {overtrain!r}")
        self.overtrain = float(overtrain)
        self._stop_at: float | None = None
        self.net, self.task, self.seed = net, task, seed
        self.criterion, self.eval_trials, self.max_trials = criterion, eval_trials, max_trials
        self.curve: list[dict[str, Any]] = []
        self.t0 = time.perf_counter()
        self.n_evals = 0
        self.converged = False
        self.trials_to_criterion: int | None = None
        self.steps_to_criterion: int | None = None
        self.bar = tqdm(
            total=max_trials, desc=desc, unit="trial", disable=not progress, leave=False
        )
        self._last_trials = 0
        self.keep_checkpoints = keep_checkpoints
        self._snapshots: list[tuple[int, float, dict[str, torch.Tensor]]] = []
        if keep_checkpoints:
            self._snapshots.append((0, float("nan"), self._state()))

    def _state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}

    def evaluate(self, update: int, trials: int, steps: int, **extra: float) -> bool:
        """Evaluate greedily, log a learning-curve point; True when training should stop.

        Raises :class:`TrainingDivergedError` when the weights are no longer finite.
        """
        check_finite(self.net, f"evaluation {self.n_evals} ({trials} trials)")
        was_training = self.net.training
        self.net.eval()
        acc = float(
            evaluate(self.net, self.task, self.eval_trials, _eval_seed(self.seed, self.n_evals))[
                "accuracy"
            ]
        )
        self.net.train(was_training)
        self.n_evals += 1
        point = {
            "update": update,
            "trials": trials,
            "steps": steps,
            "wall_s": time.perf_counter() - self.t0,
            "accuracy": acc,
        }
        point.update(
            {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in extra.items()}
        )
        self.curve.append(point)
        if self.keep_checkpoints:
            self._snapshots.append((trials, acc, self._state()))
        self.bar.update(max(0, min(trials, self.max_trials) - self._last_trials))
        self._last_trials = min(trials, self.max_trials)
        self.bar.set_postfix(acc=f"{acc:.3f}", goal=f"{self.criterion:.3f}")
        if self._stop_at is not None:  # past the criterion, training on
            return trials >= self._stop_at
        if acc >= self.criterion:
            self.converged = True
            self.trials_to_criterion, self.steps_to_criterion = trials, steps
            self._stop_at = self.overtrain * trials
            return self.overtrain == 1.0
        return trials >= self.max_trials

    def _select_checkpoints(self, trials: int) -> dict[str, dict[str, Any]]:
        if not self.keep_checkpoints:
            return {}
        return select_checkpoints(self._snapshots, trials, self.criterion)

    def finish(self, trials: int, steps: int) -> TrainResult:
        """Close the bar, measure the final accuracy on independent trials, pack the result."""
        self.bar.close()
        check_finite(self.net, f"the end of training ({trials} trials)")
        wall = time.perf_counter() - self.t0
        self.net.eval()
        final = float(
            evaluate(self.net, self.task, FINAL_EVAL_TRIALS, _eval_seed(self.seed, -2))["accuracy"]
        )
        return TrainResult(
            checkpoints=self._select_checkpoints(trials),
            net=self.net,
            converged=self.converged,
            criterion=self.criterion,
            trials_to_criterion=self.trials_to_criterion,
            steps_to_criterion=self.steps_to_criterion,
            trials_seen=trials,
            steps_seen=steps,
            wall_seconds=wall,
            final_accuracy=final,
            curve=self.curve,
        )


def _label(x: float) -> str:
    return f"{x:g}"


def select_checkpoints(
    snapshots: list[tuple[int, float, dict[str, torch.Tensor]]], total_trials: int, criterion: float
) -> dict[str, dict[str, Any]]:
    """Pick checkpoints from ``(trials, accuracy, state)`` snapshots (the first is the
    initial network): the snapshot nearest each fraction of ``total_trials`` and the first
    reaching each accuracy level and the criterion. Returns ``{label: {trials, accuracy,
    state}}`` with labels like ``"frac_0.25"`` and ``"acc_0.7"``, ``"criterion"``."""
    out: dict[str, dict[str, Any]] = {}
    if not snapshots:
        return out
    tr = np.array([s[0] for s in snapshots])
    for f in CHECKPOINT_FRACTIONS:
        j = int(np.argmin(np.abs(tr - f * total_trials)))
        out[f"frac_{_label(f)}"] = {
            "trials": int(tr[j]),
            "accuracy": snapshots[j][1],
            "state": snapshots[j][2],
        }
    for name, level in [(f"acc_{_label(a)}", a) for a in CHECKPOINT_ACCURACIES] + [
        ("criterion", criterion)
    ]:
        for t, acc, state in snapshots:
            if np.isfinite(acc) and acc >= level:
                out[name] = {"trials": int(t), "accuracy": acc, "state": state}
                break
    return out


def seeded_generators(seed: int) -> tuple[torch.Generator, torch.Generator]:
    """Two independent generators of a run: network initialisation, and training data."""
    g_init = torch.Generator().manual_seed(int(seed) * 2 + 1)
    g_data = torch.Generator().manual_seed(int(seed) * 2 + 2)
    return g_init, g_data


def initial_activity(
    net_cfg: NetworkConfig, task: TaskConfig, seeds: list[int], n_trials: int = 200
) -> list[dict[str, float]]:
    """How large the untrained network of each run seed gets on the task, per trial regime.

    The network is the one the trainers start from (:func:`seeded_generators`); it runs over
    the same ``n_trials`` noisy trials once from h = 0 at every trial and once as continuous
    streams of about 20 trials (:func:`lib.core.network.run_trials`).

    Returns
    -------
    list of dict
        Per seed: ``seed``, ``reset_max_norm`` and ``continuous_max_norm``, the largest
        Euclidean norm of the hidden state over all steps (inf where it overflowed).
    """
    rows = []
    for seed in seeds:
        g_init, _ = seeded_generators(seed)
        net = RNN(net_cfg, generator=g_init)
        trials = sample_trials(task, n_trials, torch.Generator().manual_seed(int(seed)))
        row: dict[str, float] = {"seed": int(seed)}
        with torch.no_grad():
            for regime in ("reset", "continuous"):
                hs, _, _ = run_trials(net, trials, regime)
                norm = hs.double().norm(dim=-1).max()
                row[f"{regime}_max_norm"] = float(norm) if torch.isfinite(norm) else float("inf")
        rows.append(row)
    return rows
