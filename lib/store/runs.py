"""The run store: trained networks keyed by a hash of their full configuration.

A *run* lives in ``<root>/runs/<id>/``:

``config.json``
    the :class:`RunSpec` (task, network, algorithm, hyperparameters, seed, trainer version),
    plus provenance (library versions, code version, machine) that is *not* hashed;
``model.pt``
    the torch state dict;
``weights.npz``
    the same weights as plain arrays (see :func:`lib.core.network.export_weights`);
``metrics.json``
    final accuracy, convergence, samples to criterion, wall seconds, learning curve;
``checksums.json``
    SHA-256 of the four files above. Written last: a run without it is incomplete.

Guarantees
----------
* **Atomic writes.** A run (or a cached analysis) is assembled in a temporary folder
  ``.tmp-<name>-<rand>`` beside its final place and renamed into it. Replacing an existing
  folder happens under a lock file (``.tmp-<name>.lock``, POSIX ``flock``): the old folder is
  first renamed aside (``.tmp-old-<rand>-<name>``), then the new one is renamed in, then the
  old one is removed. A kill between the two renames leaves the old, complete folder aside;
  it is put back the next time the store looks for it. Two processes finishing the same
  run do not collide: the second finds a complete run in place and keeps it.
* **Stale temporaries** (of killed saves) older than :data:`STALE_SECONDS` and not locked by
  a live process are removed (:meth:`Store.clean_temporaries`, also run before every save).
* **Verified reads.** A complete run is reused; an incomplete or corrupt one (missing file,
  checksum mismatch, unreadable JSON) is detected and recomputed. A run folder whose name
  is not the id of the ``config.json`` inside (a copied or renamed folder) is reported and
  skipped by :meth:`Store.all_runs`.
* **No unusable results.** The store is checked to be writable before any training
  (:class:`StoreError`), and a network whose weights are not finite is never stored
  (:class:`lib.train.training.TrainingDivergedError`).
* **Analyses follow the weights.** Each cached analysis records the SHA-256 of the weights
  it was computed from (``weights_sha256`` in its ``meta.json``); an entry whose weights are
  not the run's current ones is recomputed (see :meth:`Store.cached_analysis`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shlex
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

try:  # POSIX; elsewhere replacements are still atomic renames, only not serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

import torch

from lib.core.network import RNN, export_weights
from lib.store.environment import environment_info, torch_threads
from lib.train.spec import RunSpec, spec_from_options
from lib.train.training import TrainingDivergedError, TrainResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "cached",
    "STALE_SECONDS",
    "AnalysisEntry",
    "CorruptRunError",
    "Store",
    "StoreError",
    "StoredRun",
    "TrainingDivergedError",
    "default_root",
    "train_command",
]

log = logging.getLogger(__name__)

_FILES = ("config.json", "model.pt", "weights.npz", "metrics.json")
_CHECKPOINTS = "checkpoints.pt"
#: Temporary folders of saves older than this (seconds) and not in use are removed.
STALE_SECONDS = 3600.0
_TMP = ".tmp-"
_OLD = ".tmp-old-"
_LOCK = ".lock"


class CorruptRunError(RuntimeError):
    """A stored run or cached analysis is incomplete, fails its checksums, or was computed
    from other weights than the run's."""


class StoreError(RuntimeError):
    """The store cannot be used as asked: no such store, or not writable."""


def default_root() -> Path:
    """The store root: ``$CTXDM_DATA`` if set, else the repository's ``data/`` folder."""
    env = os.environ.get("CTXDM_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def train_command(spec: RunSpec, root: str | Path | None = None) -> str | None:
    """The ``python -m lib train`` command that trains exactly ``spec`` into store ``root``.

    Every option that enters the run id is spelled out (defaults too, so that the command
    keeps its meaning if a default changes) and the command is checked to rebuild the same
    run id. ``None`` when the spec has settings the command line does not expose (a sweep's
    or smoke mode's trainer budgets, a task level other than the default).
    """
    assert spec.trainer is not None
    opts = {
        "delta": spec.network.delta,
        "hidden": spec.network.hidden,
        "alpha": spec.network.alpha,
        "semantics": spec.task.semantics,
        "trials": spec.task.trials,
        "max_trials": spec.trainer.max_trials,
        "criterion_fraction": spec.trainer.criterion_fraction,
    }
    try:
        same = spec_from_options(spec.algorithm, spec.seed, **opts).run_id == spec.run_id
    except (ValueError, TypeError):
        same = False
    if not same:
        return None
    args = ["--algorithm", spec.algorithm, "--seed", str(spec.seed)]
    for k, v in opts.items():
        args += ["--" + k.replace("_", "-"), repr(v) if isinstance(v, float) else str(v)]
    args += ["--store", str(Path(root) if root is not None else default_root())]
    return "python -m lib train " + " ".join(shlex.quote(a) for a in args)


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
    #: The run's verified ``checksums.json`` (file name -> SHA-256).
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def weights_sha256(self) -> str:
        """SHA-256 of the file holding the weights this view runs: ``model.pt``, or
        ``checkpoints.pt`` at a checkpoint (the label is part of the analysis key)."""
        name = "model.pt" if self.checkpoint is None else _CHECKPOINTS
        return self.checksums.get(name) or _sha256(self.path / name)

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
        from lib.train.training import seeded_generators

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
        f = self.path / _CHECKPOINTS
        return list(_memo("checkpoints", self.path, lambda: list(torch.load(f, weights_only=True))))

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


def _read_sums(d: Path) -> dict[str, str]:
    """``checksums.json`` of a folder; :class:`CorruptRunError` when absent or unreadable."""
    ck = d / "checksums.json"
    if not ck.exists():
        raise CorruptRunError(f"{d}: no checksums.json (incomplete)")
    try:
        sums = json.loads(ck.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptRunError(f"{ck}: unreadable ({e})") from e
    if not isinstance(sums, dict):
        raise CorruptRunError(f"{ck}: not a mapping")
    return sums


#: Files younger than this are never served from the verified-read memo (see :func:`_memo`):
#: a later change of such a file could keep its size and its (clock-tick) modification time.
MEMO_MIN_AGE_S = 2.0
#: At most this many folders are held by the memo (least recently stored dropped first).
MEMO_SIZE = 8192
_MEMO: dict[tuple[str, str, tuple[Any, ...]], Any] = {}


def _signature(d: Path) -> tuple[Any, ...] | None:
    """What identifies a folder's contents without reading them: name, size, inode and
    modification and change times of every file; ``None`` when the folder is missing or
    holds a file younger than :data:`MEMO_MIN_AGE_S` (not memoised)."""
    now = time.time()
    sig = []
    try:
        with os.scandir(d) as it:
            for e in it:
                st = e.stat()
                if now - max(st.st_mtime, st.st_ctime) < MEMO_MIN_AGE_S:
                    return None
                sig.append((e.name, st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns))
    except OSError:
        return None
    return tuple(sorted(sig))


def _memo(kind: str, d: Path, read: Callable[[], Any]) -> Any:
    """``read()`` of folder ``d``, remembered for this process while ``d``'s files are the
    same (:func:`_signature`): a chapter that reads an entry many times checks its checksums
    and parses it once. A changed, replaced or added file gives a new signature, so the
    folder is verified again; an exception is never remembered."""
    sig = _signature(d)
    if sig is None:
        return read()
    key = (kind, str(d), sig)
    if key in _MEMO:
        return _MEMO[key]
    out = read()
    if len(_MEMO) >= MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = out
    return out


def _verify_run_dir(p: Path) -> dict[str, str]:
    """The checksums of a run folder, after checking every file against them (once per
    process while the folder's files are unchanged, see :func:`_memo`)."""
    return dict(_memo("run", p, lambda: _check_run_dir(p)))


def _check_run_dir(p: Path) -> dict[str, str]:
    sums = _read_sums(p)
    names = list(_FILES) + ([_CHECKPOINTS] if _CHECKPOINTS in sums else [])
    for name in names:
        f = p / name
        if not f.exists():
            raise CorruptRunError(f"{p}: missing {name}")
        if sums.get(name) != _sha256(f):
            raise CorruptRunError(f"{f}: checksum mismatch")
    return sums


def _verify_analysis_dir(d: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Checksums and ``meta.json`` of an analysis folder, after checking every file (once
    per process while the folder's files are unchanged, see :func:`_memo`)."""
    sums, meta = _memo("analysis", d, lambda: _check_analysis_dir(d))
    return dict(sums), json.loads(json.dumps(meta))


def _check_analysis_dir(d: Path) -> tuple[dict[str, str], dict[str, Any]]:
    sums = _read_sums(d)
    if "meta.json" not in sums:
        raise CorruptRunError(f"{d}: meta.json not covered by checksums.json")
    for f, h in sums.items():
        fp = d / f
        if not fp.exists():
            raise CorruptRunError(f"{d}: missing {f}")
        if _sha256(fp) != h:
            raise CorruptRunError(f"{fp}: checksum mismatch")
    try:
        meta = json.loads((d / "meta.json").read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptRunError(f"{d / 'meta.json'}: unreadable ({e})") from e
    return sums, meta


def _read_tables(d: Path) -> dict[str, pd.DataFrame]:
    """The CSV tables of a verified analysis folder (parsed once per process while its files
    are unchanged, see :func:`_memo`; every call gets its own copies)."""
    import pandas as pd

    def read() -> dict[str, pd.DataFrame]:
        sums = _read_sums(d)
        return {f[:-4]: pd.read_csv(d / f) for f in sorted(sums) if f.endswith(".csv")}

    return {k: v.copy() for k, v in _memo("tables", d, read).items()}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed) for the block."""
    with open(path, "a") as f:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _temporary_dir(final: Path) -> Iterator[Path]:
    """A fresh ``.tmp-<name>-<rand>`` folder beside ``final``, locked while in use (so that
    :meth:`Store.clean_temporaries` leaves it alone) and removed afterwards unless it was
    renamed into place."""
    tmp = final.parent / f"{_TMP}{final.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield tmp
    finally:
        os.close(fd)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _probe_write(d: Path) -> None:
    """Create and remove a file in ``d`` (raises ``OSError`` when ``d`` is not writable)."""
    probe = d / f"{_TMP}probe-{uuid.uuid4().hex[:8]}"
    probe.write_bytes(b"")
    probe.unlink()


def _lock_path(final: Path) -> Path:
    return final.parent / f"{_TMP}{final.name}{_LOCK}"


def _in_use(p: Path) -> bool:
    """Whether a live process holds the lock of temporary folder ``p``."""
    if fcntl is None:
        return False
    try:
        fd = os.open(p, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _restore_aside(final: Path) -> None:
    """Settle what a replacement killed half-way left beside ``final`` (call under its lock).

    An old folder set aside (``.tmp-old-<rand>-<name>``) is put back when ``final`` is
    missing (the kill came between the two renames), and removed when ``final`` is in place.
    """
    for aside in sorted(final.parent.glob(f"{_OLD}*-{final.name}")):
        if aside.name[len(_OLD) + 9 :] != final.name or not aside.is_dir():
            continue
        if not final.exists():
            log.warning("restoring %s from %s (a replacement was interrupted)", final, aside)
            os.rename(aside, final)
        else:
            shutil.rmtree(aside, ignore_errors=True)


def _install(tmp: Path, final: Path, keep_existing: Callable[[Path], bool]) -> bool:
    """Move the complete folder ``tmp`` to ``final``; returns whether it was installed.

    Under ``final``'s lock: a folder already at ``final`` for which ``keep_existing`` is true
    (a complete result another process just wrote) is kept and ``tmp`` dropped; otherwise it
    is renamed aside, ``tmp`` renamed in, and the old one removed. At every instant either
    ``final`` or its aside copy is a complete folder.
    """
    with _locked(_lock_path(final)):
        _restore_aside(final)
        if final.exists():
            if keep_existing(final):
                log.info("%s was completed meanwhile by another process; keeping it", final)
                shutil.rmtree(tmp, ignore_errors=True)
                return False
            aside = final.parent / f"{_OLD}{uuid.uuid4().hex[:8]}-{final.name}"
            os.rename(final, aside)
            os.rename(tmp, final)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(tmp, final)
    return True


def _complete_run(p: Path) -> bool:
    try:
        _verify_run_dir(p)
    except CorruptRunError:
        return False
    return True


class AnalysisEntry(NamedTuple):
    """Where a cached analysis lives and what state it is in."""

    #: ``"complete"``, ``"missing"``, ``"corrupt"`` (fails its checksums) or ``"stale"``
    #: (computed from other weights than the run's).
    state: str
    path: Path
    #: Why it is not complete (empty when it is).
    reason: str = ""


class _KeyFound(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, run: StoredRun, name: str, params: dict[str, Any]) -> None:
        super().__init__(name)
        self.run, self.name, self.params = run, name, params


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

    # ---- usability -----------------------------------------------------------------------
    def check_exists(self) -> None:
        """Raise :class:`StoreError` unless ``root`` is a store (a folder with ``runs/``)."""
        if not self.runs.is_dir():
            what = "is not a folder" if self.root.exists() else "does not exist"
            if self.root.is_dir():
                what = "has no runs/ folder"
            raise StoreError(f"no such store: {self.root} {what}")

    def check_writable(self, parts: tuple[str, ...] = ("runs",)) -> None:
        """Raise :class:`StoreError` unless the store's ``parts`` folders can be written.

        Creates them when missing and writes (then removes) a probe file in each, so that a
        read-only store, or a store path that is a file, is reported before any compute.
        """
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"store root {self.root} is a file, not a folder")
        for part in parts:
            d = self.root / part
            try:
                d.mkdir(parents=True, exist_ok=True)
                _probe_write(d)
            except OSError as e:
                raise StoreError(
                    f"store {self.root} is not writable ({d}: {e.strerror or e}); "
                    "choose another with --store or $CTXDM_DATA"
                ) from e

    def clean_temporaries(self, max_age: float = STALE_SECONDS) -> list[Path]:
        """Remove what killed saves left behind; returns the paths removed or restored.

        Temporary folders and files (``.tmp-*``) of ``runs/``, ``analyses/<run>/`` and
        ``sweeps/`` older than ``max_age`` seconds and not locked by a live process are
        removed; old folders set aside by an interrupted replacement are put back (or
        removed when their replacement is in place). Lock files are kept.
        """
        now = time.time()
        dirs = [self.runs, self.root / "sweeps", self.root / "sweeps" / "failures"]
        an = self.root / "analyses"
        if an.is_dir():
            dirs += [d for d in an.iterdir() if d.is_dir()]
        out: list[Path] = []
        for d in dirs:
            if not d.is_dir():
                continue
            for p in list(d.glob(f"{_TMP}*")):
                if p.name.endswith(_LOCK):
                    continue
                if p.name.startswith(_OLD):
                    final = d / p.name[len(_OLD) + 9 :]
                    try:
                        with _locked(_lock_path(final)):
                            _restore_aside(final)
                    except OSError as e:
                        log.warning("could not settle %s: %s", p, e)
                    if not p.exists():
                        out.append(p)
                    continue
                try:
                    age = now - p.stat().st_mtime
                except FileNotFoundError:
                    continue
                if age < max_age or (p.is_dir() and _in_use(p)):
                    continue
                log.info("removing stale temporary %s (%.0f s old)", p, age)
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                out.append(p)
        return out

    def _settle(self, final: Path) -> None:
        """Put back a folder an interrupted replacement left aside (when ``final`` is missing)."""
        if final.exists() or not final.parent.is_dir():
            return
        if not any(final.parent.glob(f"{_OLD}*-{final.name}")):
            return
        try:
            with _locked(_lock_path(final)):
                _restore_aside(final)
        except OSError as e:
            log.warning("could not restore %s: %s", final, e)

    # ---- runs ----------------------------------------------------------------------------
    def verify(self, spec: RunSpec) -> None:
        """Raise :class:`CorruptRunError` unless the run is complete and intact."""
        p = self.path(spec)
        self._settle(p)
        _verify_run_dir(p)

    def status(self, spec: RunSpec) -> str:
        """``"complete"``, ``"missing"`` or ``"corrupt"``."""
        p = self.path(spec)
        self._settle(p)
        if not p.exists():
            return "missing"
        try:
            _verify_run_dir(p)
        except CorruptRunError:
            return "corrupt"
        return "complete"

    def load(self, spec: RunSpec) -> StoredRun:
        """Read a complete run; raises ``FileNotFoundError`` or :class:`CorruptRunError`.

        The ``FileNotFoundError`` of a missing run gives the exact command that trains it
        (:func:`train_command`).
        """
        p = self.path(spec)
        self._settle(p)
        if not p.exists():
            cmd = train_command(spec, self.root)
            how = (
                f"train it with `{cmd}`"
                if cmd
                else "its settings are not all command-line options: train it from Python "
                f"with `lib.store.runs.Store({str(self.root)!r}).get_or_train(spec)`, or run the "
                "sweep that defines it (`python -m lib sweep NAME --profile PROFILE "
                f"--store {self.root}`)"
            )
            raise FileNotFoundError(
                f"no stored run for {spec.algorithm} seed {spec.seed} (delta={spec.network.delta}, "
                f"hidden={spec.network.hidden}, run id {spec.run_id}) at {p}; {how}"
            )
        sums = _verify_run_dir(p)
        try:
            cfg = json.loads((p / "config.json").read_text())
            metrics = json.loads((p / "metrics.json").read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CorruptRunError(f"{p}: unreadable JSON ({e})") from e
        if cfg.get("spec") != json.loads(json.dumps(spec.to_dict())):
            raise CorruptRunError(f"{p}: config.json does not match the requested spec")
        if cfg.get("run_id", p.name) != p.name:
            raise CorruptRunError(f"{p}: config.json names run {cfg.get('run_id')}")
        return StoredRun(
            spec=spec,
            path=p,
            metrics=metrics,
            provenance=cfg.get("provenance", {}),
            checksums=sums,
        )

    def load_id(self, run_id: str) -> StoredRun:
        """Read the complete run with this id (its spec from its ``config.json``); raises
        ``FileNotFoundError`` naming the id when it is not stored, :class:`CorruptRunError`
        when it fails its checks."""
        p = self.runs / run_id
        self._settle(p)
        if not (p / "config.json").exists():
            raise FileNotFoundError(
                f"run {run_id} is not stored in {self.runs} (a distilled run needs its teacher "
                "trained first: run the sweep that defines both)"
            )
        try:
            spec = RunSpec.from_dict(json.loads((p / "config.json").read_text())["spec"])
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, ValueError, TypeError) as e:
            raise CorruptRunError(f"{p}: unreadable config.json ({e})") from e
        if spec.run_id != run_id:
            raise CorruptRunError(f"{p}: config.json describes run {spec.run_id}")
        return self.load(spec)

    def save(self, spec: RunSpec, result: TrainResult) -> Path:
        """Write a trained run atomically; returns its folder.

        A complete run already in place (written meanwhile by another process) is kept
        unless this one adds checkpoints it lacks. Raises :class:`StoreError` when the store
        is not writable and :class:`~lib.train.training.TrainingDivergedError` for non-finite
        weights (nothing is written then).
        """
        bad = [k for k, v in result.net.state_dict().items() if not bool(torch.isfinite(v).all())]
        if bad:
            raise TrainingDivergedError(
                f"refusing to store run {spec.run_id}: non-finite weights {', '.join(bad)}"
            )
        self.check_writable()
        self.clean_temporaries()
        final = self.path(spec)
        with _temporary_dir(final) as tmp:
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

            def keep(p: Path) -> bool:
                return _complete_run(p) and (not result.checkpoints or (p / _CHECKPOINTS).exists())

            _install(tmp, final, keep)
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
        seed gives the same network) to add them. The store is checked to be writable
        before training (:class:`StoreError`); a corrupt run stays in place until its
        replacement is complete.
        """
        st = self.status(spec)
        if st == "complete":
            run = self.load(spec)
            if not keep_checkpoints or run.has_checkpoints or not train:
                return run
        if not train:
            return self.load(spec)  # raises with a clear message
        if st == "corrupt":
            log.warning("run %s is incomplete or corrupt; recomputing", self.path(spec))
        self.check_writable()
        teacher = self.load_id(spec.teacher).network() if spec.teacher else None
        log.info("training %s seed %d -> %s", spec.algorithm, spec.seed, self.path(spec))
        with torch_threads():  # bit-identical on any thread count, fastest on one
            result = spec.train(
                progress=progress, keep_checkpoints=keep_checkpoints, teacher=teacher
            )
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

    def analysis_state(self, run: StoredRun, name: str, params: dict[str, Any]) -> AnalysisEntry:
        """State of the cached analysis ``name`` of ``run`` with ``params``.

        The one check used both to serve an analysis (:meth:`cached_analysis`) and to report
        on it (:meth:`analysis_entry`, the sweep's status): every file against its checksum,
        then the weights it was computed from against the run's (see
        :meth:`cached_analysis` for entries written before that was recorded).
        """
        d = self.analysis_dir(run, name, params)
        self._settle(d)
        if not d.exists():
            return AnalysisEntry("missing", d)
        try:
            _, meta = _verify_analysis_dir(d)
        except CorruptRunError as e:
            return AnalysisEntry("corrupt", d, str(e))
        recorded = meta.get("weights_sha256")
        if recorded is not None and recorded != run.weights_sha256:
            return AnalysisEntry(
                "stale",
                d,
                f"computed from weights {recorded[:12]}…, the run's are "
                f"{run.weights_sha256[:12]}… (the run was recomputed)",
            )
        return AnalysisEntry("complete", d)

    def analysis_entry(self, call: Callable[[Store], Any]) -> AnalysisEntry:
        """State of the cached analysis that ``call(store)`` would serve, found without
        reading or computing it.

        ``call`` is the analysis itself, e.g. ``lambda s: census(run, cfg, s)``: it runs
        against a recording store that stops at the cache lookup, so the key is the one the
        analysis builds (never rebuilt by hand), and the check is :meth:`analysis_state`.
        """
        try:
            call(_KeyRecorder(self.root))
        except _KeyFound as k:
            return self.analysis_state(k.run, k.name, k.params)
        raise ValueError("the call did not look up a cached analysis")

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
        code version). Tables are CSV files written atomically with checksums, and
        ``meta.json`` records ``weights_sha256``, the SHA-256 of the weights the analysis was
        computed from (:attr:`StoredRun.weights_sha256`). A corrupt entry, or a *stale* one
        (its weights are not the run's: the run was recomputed, here or elsewhere), is
        recomputed. With ``compute=False`` a missing entry raises ``FileNotFoundError`` and
        a corrupt or stale one :class:`CorruptRunError`.

        Entries written before ``weights_sha256`` existed carry no weights checksum. They
        are served as they are (backward compatible): they were written by this store,
        beside the run of the same id, and the keys of the stored results must not change.
        ``python -m lib migrate`` (:meth:`migrate_analyses`) records the checksum in them,
        after which they are checked like every other entry; the migration is the way to
        close the gap, the rule only keeps an unmigrated store readable.
        """
        import pandas as pd

        entry = self.analysis_state(run, name, params)
        d = entry.path
        if entry.state == "complete":
            try:
                return _read_tables(d)
            except (OSError, ValueError, CorruptRunError) as e:
                entry = AnalysisEntry("corrupt", d, str(e))
        if entry.state in ("corrupt", "stale"):
            if not compute:
                raise CorruptRunError(
                    f"cached {name} of run {run.path.name} at {d} is {entry.state} "
                    f"({entry.reason}); recompute it (compute=True, mode='full', or resume "
                    "the sweep)"
                )
            log.warning("cached analysis %s is %s (%s); recomputing", d, entry.state, entry.reason)
        elif not compute:
            raise FileNotFoundError(
                f"no cached {name} for run {run.path.name} at {d}; compute it (mode='full')"
            )
        self.check_writable(("analyses",))  # before the compute, not after it
        d.parent.mkdir(parents=True, exist_ok=True)
        with torch_threads():  # the same tables on any thread count, fastest on one
            t0 = time.perf_counter()
            tables = fn()
            wall = time.perf_counter() - t0
            provenance = environment_info()
        meta = {
            "run_id": run.path.name,
            "checkpoint": run.checkpoint,
            "name": name,
            "params": params,
            "wall_seconds": wall,
            "weights_sha256": run.weights_sha256,
            "provenance": provenance,
        }
        with _temporary_dir(d) as tmp:
            for k, df in tables.items():
                df.to_csv(tmp / f"{k}.csv", index=False)
            _write_json(tmp / "meta.json", meta)
            files = sorted(p.name for p in tmp.iterdir())
            _write_json(tmp / "checksums.json", {f: _sha256(tmp / f) for f in files})
            _install(tmp, d, lambda p: _analysis_of(p, run.weights_sha256))
        return {k: pd.read_csv(d / f"{k}.csv") for k in tables}

    def migrate_analyses(self, *, dry_run: bool = False) -> dict[str, int]:
        """Record ``weights_sha256`` in the cached analyses written before it existed.

        Idempotent. For each entry of ``analyses/<run id>/`` lacking the field: the entry
        must pass its checksums and its run must be complete (otherwise it is reported and
        left as it is, to be recomputed when used); it is then rewritten, through the same
        atomic replacement as every save, with the weights checksum of its run (of
        ``checkpoints.pt`` for an analysis of a checkpoint) added to ``meta.json`` and
        ``checksums.json`` updated. Tables, folder names and keys are unchanged.

        Returns counts: ``migrated`` (or that would be, with ``dry_run``), ``current``
        (already carry the field and it matches), ``stale`` (carry another run's weights),
        ``skipped`` (corrupt entry, or run missing or corrupt).
        """
        counts = {"migrated": 0, "current": 0, "stale": 0, "skipped": 0}
        an = self.root / "analyses"
        if not an.is_dir():
            return counts
        if not dry_run:
            self.check_writable(("analyses",))
        for rdir in sorted(p for p in an.iterdir() if p.is_dir() and not p.name.startswith(".")):
            run_dir = self.runs / rdir.name
            try:
                run_sums: dict[str, str] | None = _verify_run_dir(run_dir)
            except CorruptRunError as e:
                run_sums = None
                run_err = str(e)
            for d in sorted(p for p in rdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
                try:
                    sums, meta = _verify_analysis_dir(d)
                except CorruptRunError as e:
                    log.warning("migrate: skipping corrupt %s (%s)", d, e)
                    counts["skipped"] += 1
                    continue
                if run_sums is None:
                    log.warning("migrate: skipping %s: its run is not complete (%s)", d, run_err)
                    counts["skipped"] += 1
                    continue
                wname = "model.pt" if meta.get("checkpoint") is None else _CHECKPOINTS
                want = run_sums.get(wname)
                if want is None:
                    log.warning("migrate: skipping %s: run %s has no %s", d, rdir.name, wname)
                    counts["skipped"] += 1
                    continue
                have = meta.get("weights_sha256")
                if have is not None:
                    counts["current" if have == want else "stale"] += 1
                    continue
                counts["migrated"] += 1
                if dry_run:
                    continue
                with _temporary_dir(d) as tmp:
                    for f in sums:
                        if f not in ("meta.json", "checksums.json"):
                            shutil.copy2(d / f, tmp / f)
                    _write_json(tmp / "meta.json", {**meta, "weights_sha256": want})
                    new = {f: _sha256(tmp / f) for f in sorted(sums)}
                    _write_json(tmp / "checksums.json", new)
                    _install(tmp, d, lambda p: "weights_sha256" in _read_meta(p))
        return counts

    def all_runs(self) -> list[StoredRun]:
        """Every complete run in the store.

        Skipped with a warning: corrupt runs, and folders whose name is not the id of the
        ``config.json`` inside (a copied folder such as ``<id>-backup``, or configs swapped
        between runs), which would otherwise serve one run twice and hide another.
        """
        out: list[StoredRun] = []
        if not self.runs.exists():
            return out
        for p in sorted(self.runs.iterdir()):
            if p.name.startswith(".") or not p.is_dir():
                continue
            try:
                cfg = json.loads((p / "config.json").read_text())
                spec = RunSpec.from_dict(cfg["spec"])
                if spec.run_id != p.name or cfg.get("run_id", p.name) != p.name:
                    log.warning(
                        "skipping %s: its config.json describes run %s, not %s (a copied, "
                        "renamed or swapped folder?)",
                        p,
                        spec.run_id,
                        p.name,
                    )
                    continue
                out.append(self.load(spec))
            except Exception as e:  # noqa: BLE001 - report and skip
                log.warning("skipping %s: %s", p, e)
        return out


def _analysis_of(d: Path, weights_sha256: str) -> bool:
    """Whether ``d`` is an intact analysis computed from the weights ``weights_sha256``."""
    try:
        _, meta = _verify_analysis_dir(d)
    except CorruptRunError:
        return False
    return meta.get("weights_sha256") == weights_sha256


def _read_meta(d: Path) -> dict[str, Any]:
    try:
        return json.loads((d / "meta.json").read_text())
    except (OSError, ValueError):
        return {}


class _KeyRecorder(Store):
    """A store whose cache lookup only reports its key (see :meth:`Store.analysis_entry`)."""

    def cached_analysis(  # type: ignore[override]
        self,
        run: StoredRun,
        name: str,
        params: dict[str, Any],
        fn: Callable[[], Any],
        *,
        compute: bool = True,
    ) -> Any:
        raise _KeyFound(run, name, params)


def cached(
    run: StoredRun,
    store: Store | None,
    name: str,
    version: str,
    key: str,
    cfg: Any,
    compute_fn: Callable[[StoredRun, Any], Any],
    compute: bool = True,
) -> Any:
    """The one cache of every analysis: ``compute_fn(run, cfg)``, stored as ``name`` of
    ``run`` under the parameters ``{key: cfg.to_dict(), "version": version}`` (with the run's
    id and weights' checksum, :meth:`Store.cached_analysis`). Every cached analysis of
    :mod:`lib.analysis` is this call; the sweep's status finds the same entry through
    :meth:`Store.analysis_entry`.

    ``store`` defaults to the store holding ``run``; ``compute=False`` only reads (a missing
    entry raises ``FileNotFoundError``).
    """
    store = store or Store(run.path.parent.parent)
    params = {key: cfg.to_dict(), "version": version}
    return store.cached_analysis(run, name, params, lambda: compute_fn(run, cfg), compute=compute)
