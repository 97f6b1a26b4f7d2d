r"""Supervised learning: Adam on a mask-weighted cross-entropy over every step.

.. math::

    \mathcal{L} = \frac{\sum_{t,b} w_{t,b}\,\mathrm{CE}(W_{out} h_{t,b} + b_{out},\, y_{t,b})}
                       {\sum_{t,b} w_{t,b}},

with target :math:`y` = 0 (fixate) on every step but the decision period, where it is the
correct choice; :math:`w` = ``decision_weight`` on decision steps, ``fixation_weight`` (1) on the
other steps of the trial, 0 on padding.

**Ablations** (chapter 9; each a setting, hashed only when not its default, so stored runs keep
their ids). ``fixation_weight=0``: cross-entropy on the decision steps only, as sparse as PPO's
reward. ``teacher``: distillation, the target of every step is the action probabilities of a
stored network (the PPO run of that id, run on the same inputs with its own state) instead of
the task's labels. ``overtrain``: training goes on past the criterion until ``overtrain`` times
the trials it took to reach it.

**Trial regime** (``task.trials``). ``reset``: each batch is ``batch`` fresh trials, each from
h = 0. ``continuous``: ``batch`` endless streams of trials back to back
(:class:`lib.core.task.TrialStreamer`, as NeuroGym's ``Dataset``), cut into windows of
:attr:`SLConfig.window` steps; the state at the end of a window starts the next (carried,
detached: truncated backpropagation through time), where NeuroGym's examples start each
window from zero. The budget counts the trials that ended in a trained window.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.nn import functional as F

from lib.core.network import RNN, NetworkConfig
from lib.core.task import PERIOD_DECISION, TaskConfig, TrialStreamer, sample_trials
from lib.train.training import (
    Monitor,
    TrainResult,
    check_finite,
    criterion_accuracy,
    seeded_generators,
)

__all__ = ["SLConfig", "step_loss", "step_weights", "train_supervised"]


@dataclass(frozen=True)
class SLConfig:
    """Hyperparameters of the supervised trainer (all stored with each run)."""

    lr: float = field(
        default=1e-3,
        metadata={
            "source": "companion",
            "why": "the paper names Adam but not its learning rate; 1e-3 is Adam's usual default",
        },
    )
    batch: int = field(default=64, metadata={"source": "companion", "why": "32-64 trials usual"})
    decision_weight: float = field(
        default=5.0,
        metadata={"source": "companion", "why": "1 decision step per ~20 fixate steps"},
    )
    grad_clip: float = field(
        default=1.0,
        metadata={"source": "companion", "why": "stabilises backpropagation through time"},
    )
    eval_every: int = field(default=25, metadata={"source": "companion", "why": "updates"})
    eval_trials: int = field(default=1000, metadata={"source": "companion", "why": ">= 500"})
    criterion_fraction: float = field(
        default=0.95,
        metadata={
            "source": "companion",
            "why": "95 % of the ideal observer (the literal 95 % is unreachable)",
        },
    )
    max_trials: int = field(
        default=300_000, metadata={"source": "companion", "why": "budget (~3 min on 1 core)"}
    )
    window: int = field(
        default=100,
        metadata={
            "source": "NeuroGym",
            "why": "continuous regime only: steps per window (NeuroGym's examples use "
            "seq_len=100); the state at a window's end starts the next one, detached (truncated "
            "backpropagation through time), where NeuroGym's examples restart each window from "
            "zero; hashed only when not 100",
        },
    )

    fixation_weight: float = field(
        default=1.0,
        metadata={
            "source": "companion",
            "why": "weight of the non-decision steps; 0 is the decision-only ablation (chapter "
            "9); hashed only when not 1",
        },
    )
    teacher: str = field(
        default="",
        metadata={
            "source": "companion",
            "why": "run id of a stored network whose action probabilities are the targets "
            "(the distillation ablation, chapter 9); hashed only when set",
        },
    )
    overtrain: float = field(
        default=1.0,
        metadata={
            "source": "companion",
            "why": "train on to this multiple of the trials to criterion (the past-criterion "
            "ablation, chapter 9); hashed only when not 1",
        },
    )

    def __post_init__(self) -> None:
        for name in ("lr", "decision_weight", "grad_clip"):
            if not getattr(self, name) > 0:
                raise ValueError(f"SLConfig.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("batch", "eval_every", "eval_trials", "max_trials", "window"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                raise ValueError(f"SLConfig.{name} must be a positive int, got {v!r}")
        if not (0 < self.criterion_fraction <= 1):
            raise ValueError(
                f"SLConfig.criterion_fraction must lie in (0, 1], got {self.criterion_fraction!r}"
            )
        if not self.fixation_weight >= 0:
            raise ValueError(f"SLConfig.fixation_weight must be >= 0, got {self.fixation_weight!r}")
        if not self.overtrain >= 1:
            raise ValueError(f"SLConfig.overtrain must be >= 1, got {self.overtrain!r}")
        if not isinstance(self.teacher, str):
            raise TypeError(f"SLConfig.teacher must be a run id (str), got {self.teacher!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields; those added after runs were stored (``window``,
        ``fixation_weight``, ``teacher``, ``overtrain``) only when not their defaults, so the
        hashed form of the stored runs is unchanged."""
        d = dataclasses.asdict(self)
        for name, default in _HASHED_UNLESS.items():
            if d[name] == default:
                del d[name]
        return d


#: Fields hashed only when they differ from these defaults (added after runs were stored).
_HASHED_UNLESS: dict[str, Any] = {
    "window": 100,
    "fixation_weight": 1.0,
    "teacher": "",
    "overtrain": 1.0,
}


def step_weights(period: torch.Tensor, mask: torch.Tensor, cfg: SLConfig) -> torch.Tensor:
    """The loss weight of every step: ``decision_weight`` in the decision period,
    ``fixation_weight`` elsewhere, 0 where ``mask`` is False (padding)."""
    on = torch.tensor(cfg.decision_weight)
    off = torch.tensor(cfg.fixation_weight)
    return mask.float() * torch.where(period == PERIOD_DECISION, on, off)


def step_loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean cross-entropy over ``[T, B]`` steps.

    ``targets`` is either class labels ``[T, B]`` or target probabilities ``[T, B, A]``
    (distillation: the cross-entropy to the teacher's distribution, whose gradient equals the
    KL divergence's).
    """
    a = logits.shape[-1]
    flat_t = targets.reshape(-1, a) if targets.dim() == logits.dim() else targets.reshape(-1)
    ce = F.cross_entropy(logits.reshape(-1, a), flat_t, reduction="none")
    return (ce * weights.reshape(-1)).sum() / weights.sum()


def train_supervised(
    task: TaskConfig,
    net_cfg: NetworkConfig,
    cfg: SLConfig,
    seed: int,
    *,
    progress: bool = True,
    keep_checkpoints: bool = False,
    teacher: RNN | None = None,
) -> TrainResult:
    """Train one network by supervised learning until the criterion or the budget.

    Parameters
    ----------
    task, net_cfg, cfg : the task, the network and the trainer's hyperparameters.
    seed : int
        Seeds the initial weights and every training batch; the same seed on the same
        machine gives the same network bit for bit.
    progress : bool
        Show a tqdm progress bar.
    keep_checkpoints : bool
        Keep checkpoints along training (see :class:`lib.train.training.Monitor`).
    teacher : RNN, optional
        The network of run ``cfg.teacher`` (required exactly when that is set): its action
        probabilities on the same inputs, from its own state, are the targets.

    Raises
    ------
    ValueError
        ``teacher`` given without ``cfg.teacher`` or missing with it (before any compute).
    lib.train.training.TrainingDivergedError
        As soon as the loss or the weights go non-finite.
    """
    if bool(cfg.teacher) != (teacher is not None):
        raise ValueError(
            f"SLConfig.teacher={cfg.teacher!r} needs the teacher's network, and only then"
        )
    if teacher is not None:
        teacher.eval()
    g_init, g_data = seeded_generators(seed)
    net = RNN(net_cfg, generator=g_init)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    mon = Monitor(
        net,
        task,
        seed,
        criterion_accuracy(task, cfg.criterion_fraction),
        cfg.eval_trials,
        cfg.max_trials,
        progress,
        desc=f"SL seed {seed}",
        keep_checkpoints=keep_checkpoints,
        overtrain=cfg.overtrain,
    )
    trials = steps = update = 0
    losses: list[float] = []
    continuous = task.trials == "continuous"
    streamer = TrialStreamer(task, cfg.batch, g_data) if continuous else None
    h = h_teacher = None
    while True:
        if streamer is None:
            tr = sample_trials(task, cfg.batch, g_data)
            inputs = tr.inputs
            _, logits, _ = net(inputs)
            mask, period, targets = tr.mask, tr.period, tr.targets
        else:
            win = streamer.window(cfg.window)
            inputs = win["inputs"]
            hs, logits, _ = net(inputs, h0=h)
            h = hs[-1].detach()
            period, targets = win["period"], win["targets"]
            mask = torch.ones_like(targets, dtype=torch.bool)
        if teacher is not None:
            with torch.no_grad():
                ths, t_logits, _ = teacher(inputs, h0=h_teacher)
                if streamer is not None:
                    h_teacher = ths[-1]
                targets = F.softmax(t_logits, -1)
        loss = step_loss(logits, targets, step_weights(period, mask, cfg))
        if not bool(torch.isfinite(loss)):
            check_finite(net, f"SL update {update + 1} ({trials} trials)", loss=loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
        opt.step()
        update += 1
        if streamer is None:
            trials += cfg.batch
        else:  # trials that ended in this window
            trials += int(win["end"].sum())
        steps += int(mask.sum())
        losses.append(float(loss.detach()))
        if update % cfg.eval_every == 0 or trials >= cfg.max_trials:
            stop = mon.evaluate(update, trials, steps, loss=sum(losses) / len(losses))
            losses.clear()
            if stop:
                break
    return mon.finish(trials, steps)
