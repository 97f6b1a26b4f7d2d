"""What determines a trained network (:class:`RunSpec`: task, network, trainer, seed), its
id, and how to train it. The store (:mod:`lib.store.runs`) keeps runs by this id and calls
:meth:`RunSpec.train` for a missing one; nothing here touches the disk."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from lib.core.network import RNN, NetworkConfig
from lib.core.task import TaskConfig
from lib.train.ppo import PPOConfig, train_ppo
from lib.train.supervised import SLConfig, train_supervised
from lib.train.training import MAX_SEED, TrainResult

__all__ = ["ALGORITHMS", "TRAINER_CONFIGS", "TRAINER_VERSION", "RunSpec", "spec_from_options"]

#: Bump when a change to the task, network or trainers changes what a seed produces.
TRAINER_VERSION = "1"

ALGORITHMS = ("ppo", "sl")
TRAINER_CONFIGS: dict[str, type] = {"ppo": PPOConfig, "sl": SLConfig}


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a trained network.

    Parameters
    ----------
    algorithm : {"ppo", "sl"}
    seed : int
        Non-negative run seed.
    task : TaskConfig
    network : NetworkConfig
    trainer : PPOConfig or SLConfig, optional
        The algorithm's hyperparameters (its defaults when omitted).
    """

    algorithm: str
    seed: int
    task: TaskConfig = field(default_factory=TaskConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    trainer: PPOConfig | SLConfig | None = None

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}; choose one of {ALGORITHMS}")
        if not (isinstance(self.seed, int) and 0 <= self.seed <= MAX_SEED):
            raise ValueError(f"seed must be an int in [0, {MAX_SEED}], got {self.seed!r}")
        cls = TRAINER_CONFIGS[self.algorithm]
        if self.trainer is None:
            object.__setattr__(self, "trainer", cls())
        elif not isinstance(self.trainer, cls):
            raise TypeError(
                f"algorithm {self.algorithm!r} needs a {cls.__name__}, got {type(self.trainer).__name__}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The hashed content: every setting plus the trainer version."""
        assert self.trainer is not None
        return {
            "algorithm": self.algorithm,
            "seed": self.seed,
            "task": self.task.to_dict(),
            "network": self.network.to_dict(),
            "trainer": self.trainer.to_dict(),
            "trainer_version": TRAINER_VERSION,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        """Rebuild a spec from :meth:`to_dict` output."""
        alg = d["algorithm"]
        if alg not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {alg!r}")
        tcls = TRAINER_CONFIGS[alg]
        known = {f.name for f in dataclasses.fields(tcls)}
        unknown = set(d["trainer"]) - known
        if unknown:
            raise ValueError(f"unknown {tcls.__name__} fields: {sorted(unknown)}")
        return cls(
            algorithm=alg,
            seed=int(d["seed"]),
            task=TaskConfig.from_dict(d["task"]),
            network=NetworkConfig.from_dict(d["network"]),
            trainer=tcls(**d["trainer"]),
        )

    @property
    def run_id(self) -> str:
        """First 16 hex digits of the SHA-256 of the canonical JSON of :meth:`to_dict`."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def teacher(self) -> str | None:
        """Run id of the network this run is distilled from (``SLConfig.teacher``), or None."""
        return getattr(self.trainer, "teacher", "") or None

    def train(
        self, progress: bool = True, keep_checkpoints: bool = False, teacher: RNN | None = None
    ) -> TrainResult:
        """Train the network this spec describes (no store involved; a distilled run needs
        its ``teacher`` network, see :attr:`teacher`)."""
        if self.algorithm == "ppo":
            return train_ppo(
                self.task,
                self.network,
                self.trainer,  # type: ignore[arg-type]
                self.seed,
                progress=progress,
                keep_checkpoints=keep_checkpoints,
            )
        return train_supervised(
            self.task,
            self.network,
            self.trainer,  # type: ignore[arg-type]
            self.seed,
            progress=progress,
            keep_checkpoints=keep_checkpoints,
            teacher=teacher,
        )


def spec_from_options(
    algorithm: str,
    seed: int,
    *,
    delta: float = NetworkConfig.delta,
    hidden: int = NetworkConfig.hidden,
    alpha: float = NetworkConfig.alpha,
    semantics: str = TaskConfig.semantics,
    trials: str = TaskConfig.trials,
    max_trials: int | None = None,
    criterion_fraction: float | None = None,
) -> RunSpec:
    """The spec of ``python -m lib train`` with these options (every other setting default).

    Raises ``ValueError`` / ``TypeError`` for invalid settings, before any compute.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {ALGORITHMS}")
    over: dict[str, Any] = {}
    if max_trials is not None:
        over["max_trials"] = max_trials
    if criterion_fraction is not None:
        over["criterion_fraction"] = criterion_fraction
    return RunSpec(
        algorithm,
        seed,
        TaskConfig(semantics=semantics, trials=trials),
        NetworkConfig(hidden=hidden, delta=delta, alpha=alpha),
        TRAINER_CONFIGS[algorithm](**over),
    )
