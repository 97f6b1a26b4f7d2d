"""The run store: trained networks keyed by a hash of their full configuration.

A *run* lives in ``<root>/runs/<id>/``:

``config.json``
    the :class:`RunSpec` (task, network, algorithm, hyperparameters, seed, trainer version),
    plus provenance (library versions, code version, machine) that is *not* hashed;
``model.pt``
    the torch state dict;
``weights.npz``
    the same weights as plain arrays (see :func:`lib.network.export_weights`);
``metrics.json``
    final accuracy, convergence, samples to criterion, wall seconds, learning curve;
``checksums.json``
    SHA-256 of the four files above. Written last: a run without it is incomplete.

Writes are atomic: a run is assembled in a temporary folder beside its final place and
renamed into it in one step. A complete run is reused; an incomplete or corrupt one (missing
file, checksum mismatch, unreadable JSON) is detected, removed and recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .network import RNN, NetworkConfig, export_weights
from .ppo import PPOConfig, train_ppo
from .provenance import environment_info
from .supervised import SLConfig, train_supervised
from .task import TaskConfig
from .training import TrainResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALGORITHMS",
    "TRAINER_VERSION",
    "CorruptRunError",
    "RunSpec",
    "Store",
    "StoredRun",
    "default_root",
]

log = logging.getLogger(__name__)

#: Bump when a change to the task, network or trainers changes what a seed produces.
TRAINER_VERSION = "1"

ALGORITHMS = ("ppo", "sl")
_TRAINER_CONFIGS: dict[str, type] = {"ppo": PPOConfig, "sl": SLConfig}
_FILES = ("config.json", "model.pt", "weights.npz", "metrics.json")
_CHECKPOINTS = "checkpoints.pt"


class CorruptRunError(RuntimeError):
    """A stored run is incomplete or fails its checksums."""


def default_root() -> Path:
    """The store root: ``$CTXDM_DATA`` if set, else the repository's ``data/`` folder."""
    env = os.environ.get("CTXDM_DATA")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


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
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        cls = _TRAINER_CONFIGS[self.algorithm]
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
        tcls = _TRAINER_CONFIGS[alg]
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

    def train(self, progress: bool = True, keep_checkpoints: bool = False) -> TrainResult:
        """Train the network this spec describes (no store involved)."""
        fn = train_ppo if self.algorithm == "ppo" else train_supervised
        return fn(
            self.task,
            self.network,
            self.trainer,
            self.seed,
            progress=progress,
            keep_checkpoints=keep_checkpoints,
        )  # type: ignore[arg-type]


@dataclass
class StoredRun:
    """A complete run read back from the store."""

    spec: RunSpec
    path: Path
    metrics: dict[str, Any]
    provenance: dict[str, Any]
    #: A checkpoint label (see :meth:`checkpoints`): :meth:`network` then returns the network
    #: at that point of training, and cached analyses are keyed by it too. ``None``: the
    #: trained network.
    checkpoint: str | None = None

    @property
    def has_checkpoints(self) -> bool:
        """Whether checkpoints along training were stored."""
        return (self.path / _CHECKPOINTS).exists()

    def checkpoints(self) -> dict[str, tuple[int, float, RNN]]:
        """Checkpoints along training: ``{label: (trials seen, accuracy, network)}``.

        Labels: ``frac_<f>`` (fraction f of the trials seen), ``acc_<a>`` (first evaluation
        at accuracy >= a), ``criterion``. Empty when none were stored.
        """
        if not self.has_checkpoints:
            return {}
        raw = torch.load(self.path / _CHECKPOINTS, weights_only=True)
        out = {}
        for label, c in raw.items():
            net = RNN(self.spec.network)
            net.load_state_dict(c["state"])
            net.eval()
            out[label] = (int(c["trials"]), float(c["accuracy"]), net)
        return out

    def initial_network(self) -> RNN:
        """The network before training, rebuilt from the seed (equal to checkpoint ``frac_0``)."""
        from .training import seeded_generators

        net = RNN(self.spec.network, generator=seeded_generators(self.spec.seed)[0])
        net.eval()
        return net

    def at_checkpoint(self, label: str) -> StoredRun:
        """The same run seen at one of its checkpoints (``frac_0.5``, ``acc_0.7``, ...).

        Raises ``KeyError`` naming the stored labels when ``label`` is not one of them.
        """
        labels = self.checkpoint_labels()
        if label not in labels:
            raise KeyError(f"run {self.path.name} has no checkpoint {label!r}; stored: {labels}")
        return dataclasses.replace(self, checkpoint=label)

    def checkpoint_labels(self) -> list[str]:
        """Labels of the stored checkpoints (empty when none were kept)."""
        if not self.has_checkpoints:
            return []
        return list(torch.load(self.path / _CHECKPOINTS, weights_only=True))

    def network(self) -> RNN:
        """The trained network, or the one at :attr:`checkpoint` when set (in eval mode)."""
        if self.checkpoint is not None:
            return self.checkpoints()[self.checkpoint][2]
        net = RNN(self.spec.network)
        state = torch.load(self.path / "model.pt", weights_only=True)
        net.load_state_dict(state)
        net.eval()
        return net


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())


class Store:
    """Content-addressed store of trained runs.

    Parameters
    ----------
    root : path, optional
        Folder holding ``runs/`` (default: :func:`default_root`).
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.runs = self.root / "runs"

    def path(self, spec: RunSpec) -> Path:
        """Folder of a run (whether or not it exists)."""
        return self.runs / spec.run_id

    def verify(self, spec: RunSpec) -> None:
        """Raise :class:`CorruptRunError` unless the run is complete and intact."""
        p = self.path(spec)
        ck = p / "checksums.json"
        if not ck.exists():
            raise CorruptRunError(f"{p}: no checksums.json (incomplete run)")
        try:
            sums = json.loads(ck.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CorruptRunError(f"{ck}: unreadable ({e})") from e
        names = list(_FILES) + ([_CHECKPOINTS] if _CHECKPOINTS in sums else [])
        for name in names:
            f = p / name
            if not f.exists():
                raise CorruptRunError(f"{p}: missing {name}")
            if sums.get(name) != _sha256(f):
                raise CorruptRunError(f"{f}: checksum mismatch")

    def status(self, spec: RunSpec) -> str:
        """``"complete"``, ``"missing"`` or ``"corrupt"``."""
        if not self.path(spec).exists():
            return "missing"
        try:
            self.verify(spec)
        except CorruptRunError:
            return "corrupt"
        return "complete"

    def load(self, spec: RunSpec) -> StoredRun:
        """Read a complete run; raises ``FileNotFoundError`` or :class:`CorruptRunError`."""
        p = self.path(spec)
        if not p.exists():
            raise FileNotFoundError(
                f"no stored run for {spec.algorithm} seed {spec.seed} (delta={spec.network.delta}, "
                f"hidden={spec.network.hidden}) at {p}; train it with "
                f"`python -m lib train --algorithm {spec.algorithm} --delta {spec.network.delta} "
                f"--seed {spec.seed} --hidden {spec.network.hidden}`"
            )
        self.verify(spec)
        cfg = json.loads((p / "config.json").read_text())
        if cfg.get("spec") != json.loads(json.dumps(spec.to_dict())):
            raise CorruptRunError(f"{p}: config.json does not match the requested spec")
        metrics = json.loads((p / "metrics.json").read_text())
        return StoredRun(spec=spec, path=p, metrics=metrics, provenance=cfg.get("provenance", {}))

    def save(self, spec: RunSpec, result: TrainResult) -> Path:
        """Write a trained run atomically; returns its folder."""
        self.runs.mkdir(parents=True, exist_ok=True)
        final = self.path(spec)
        tmp = self.runs / f".tmp-{spec.run_id}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            _write_json(
                tmp / "config.json",
                {"run_id": spec.run_id, "spec": spec.to_dict(), "provenance": environment_info()},
            )
            torch.save(result.net.state_dict(), tmp / "model.pt")
            export_weights(result.net, tmp / "weights.npz")
            _write_json(tmp / "metrics.json", result.metrics())
            names = list(_FILES)
            if result.checkpoints:
                torch.save(result.checkpoints, tmp / _CHECKPOINTS)
                names.append(_CHECKPOINTS)
            _write_json(tmp / "checksums.json", {n: _sha256(tmp / n) for n in names})
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return final

    def get_or_train(
        self,
        spec: RunSpec,
        *,
        train: bool = True,
        progress: bool = True,
        keep_checkpoints: bool = False,
    ) -> StoredRun:
        """Return the stored run, training (and storing) it first when missing or corrupt.

        With ``train=False`` a missing run raises ``FileNotFoundError`` instead. With
        ``keep_checkpoints=True`` a complete run without checkpoints is retrained (the same
        seed gives the same network) to add them.
        """
        st = self.status(spec)
        if st == "complete":
            run = self.load(spec)
            if not keep_checkpoints or run.has_checkpoints or not train:
                return run
        if st == "corrupt":
            log.warning("run %s is incomplete or corrupt; recomputing", self.path(spec))
            if train:
                shutil.rmtree(self.path(spec))
        if not train:
            return self.load(spec)  # raises with a clear message
        log.info("training %s seed %d -> %s", spec.algorithm, spec.seed, self.path(spec))
        result = spec.train(progress=progress, keep_checkpoints=keep_checkpoints)
        self.save(spec, result)
        return self.load(spec)

    # ---- cached analyses ---------------------------------------------------------------
    def analysis_dir(self, run: StoredRun, name: str, params: dict[str, Any]) -> Path:
        """Folder of an analysis of a run, keyed by a hash of its parameters (and of the
        run's checkpoint label, when it is seen at a checkpoint)."""
        if run.checkpoint is not None:
            params = {**params, "checkpoint": run.checkpoint}
        blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
        key = hashlib.sha256(blob.encode()).hexdigest()[:12]
        return self.root / "analyses" / run.path.name / f"{name}-{key}"

    def cached_analysis(
        self,
        run: StoredRun,
        name: str,
        params: dict[str, Any],
        fn: Callable[[], dict[str, pd.DataFrame]],
        *,
        compute: bool = True,
    ) -> dict[str, pd.DataFrame]:
        """Tables of an analysis, read from the cache or computed by ``fn`` and cached.

        The cache key is the run, ``name`` and ``params`` (which must include the analysis
        code version). Tables are CSV files written atomically with checksums; a corrupt
        entry is recomputed. With ``compute=False`` a missing entry raises
        ``FileNotFoundError``.
        """
        import pandas as pd

        d = self.analysis_dir(run, name, params)
        if d.exists():
            try:
                sums = json.loads((d / "checksums.json").read_text())
                for f, h in sums.items():
                    if _sha256(d / f) != h:
                        raise CorruptRunError(f"{d / f}: checksum mismatch")
                return {f[:-4]: pd.read_csv(d / f) for f in sorted(sums) if f.endswith(".csv")}
            except (OSError, ValueError, CorruptRunError) as e:
                log.warning("cached analysis %s is corrupt (%s); recomputing", d, e)
                if not compute:
                    raise CorruptRunError(f"{d}: {e}") from e
                shutil.rmtree(d, ignore_errors=True)
        if not compute:
            raise FileNotFoundError(
                f"no cached {name} for run {run.path.name} at {d}; compute it (mode='full')"
            )
        import time

        t0 = time.perf_counter()
        tables = fn()
        wall = time.perf_counter() - t0
        d.parent.mkdir(parents=True, exist_ok=True)
        tmp = d.parent / f".tmp-{d.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            for k, df in tables.items():
                df.to_csv(tmp / f"{k}.csv", index=False)
            meta = {
                "run_id": run.path.name,
                "checkpoint": run.checkpoint,
                "name": name,
                "params": params,
                "wall_seconds": wall,
                "provenance": environment_info(),
            }
            _write_json(tmp / "meta.json", meta)
            files = sorted(p.name for p in tmp.iterdir())
            _write_json(tmp / "checksums.json", {f: _sha256(tmp / f) for f in files})
            if d.exists():
                shutil.rmtree(d)
            os.replace(tmp, d)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return {k: pd.read_csv(d / f"{k}.csv") for k in tables}

    def all_runs(self) -> list[StoredRun]:
        """Every complete run in the store (corrupt ones are skipped with a warning)."""
        out = []
        if not self.runs.exists():
            return out
        for p in sorted(self.runs.iterdir()):
            if p.name.startswith(".") or not p.is_dir():
                continue
            try:
                spec = RunSpec.from_dict(json.loads((p / "config.json").read_text())["spec"])
                out.append(self.load(spec))
            except Exception as e:  # noqa: BLE001 - report and skip
                log.warning("skipping %s: %s", p, e)
        return out
