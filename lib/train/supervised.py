r"""Supervised learning: Adam on a mask-weighted cross-entropy over every step.

.. math::

    \mathcal{L} = \frac{\sum_{t,b} w_{t,b}\,\mathrm{CE}(W_{out} h_{t,b} + b_{out},\, y_{t,b})}
                       {\sum_{t,b} w_{t,b}},

with target :math:`y` = 0 (fixate) on every step but the decision period, where it is the
correct choice; :math:`w` = ``decision_weight`` on decision steps, 1 on the other steps of the
trial, 0 on padding.

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

__all__ = ["SLConfig", "train_supervised"]


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields (``window`` only when not 100, so the hashed form
        of the runs stored before it existed is unchanged)."""
        d = dataclasses.asdict(self)
        if d["window"] == 100:
            del d["window"]
        return d


def train_supervised(
    task: TaskConfig,
    net_cfg: NetworkConfig,
    cfg: SLConfig,
    seed: int,
    *,
    progress: bool = True,
    keep_checkpoints: bool = False,
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

    Raises
    ------
    lib.train.training.TrainingDivergedError
        As soon as the loss or the weights go non-finite.
    """
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
    )
    trials = steps = update = 0
    losses: list[float] = []
    continuous = task.trials == "continuous"
    streamer = TrialStreamer(task, cfg.batch, g_data) if continuous else None
    h = None
    while True:
        if streamer is None:
            tr = sample_trials(task, cfg.batch, g_data)
            _, logits, _ = net(tr.inputs)
            mask, period, targets = tr.mask, tr.period, tr.targets
        else:
            win = streamer.window(cfg.window)
            hs, logits, _ = net(win["inputs"], h0=h)
            h = hs[-1].detach()
            period, targets = win["period"], win["targets"]
            mask = torch.ones_like(targets, dtype=torch.bool)
        w = mask.float() * torch.where(period == PERIOD_DECISION, cfg.decision_weight, 1.0)
        ce = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none"
        )
        loss = (ce * w.reshape(-1)).sum() / w.sum()
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
