"""Sweeps: named lists of runs (and the analyses to run on each), computed only where the
store lacks them, in worker processes on this machine or on a Dask cluster.

Scheduling is Dask's (``dask.distributed``): locally a :class:`~distributed.LocalCluster`
of single-threaded worker processes, remotely any scheduler address (for instance a Slurm
cluster started with ``dask-jobqueue``; see the README). Every result is written atomically
by the store and verified by checksum when read, so a sweep killed at any moment (SIGKILL
included) and started again finishes with nothing lost or corrupt. A failing run is recorded
(``<store>/sweeps/failures/<run_id>.json``, with its traceback) and does not stop the others.

Before any compute the store is checked to be writable and a remote scheduler to be
reachable (:class:`SchedulerError`, within :data:`SCHEDULER_TIMEOUT` seconds). A task is
``done`` only when its run and every analysis pass their checksums and the analyses were
computed from the run's current weights; the status and the computation find an analysis
through the same call (:func:`_analyses`, :meth:`lib.store.runs.Store.analysis_entry`), so a
resume recomputes exactly what the status reports as corrupt, stale or missing.

Summary tables are derived from the store (:func:`summary_table`), never edited by hand.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lib.analysis.census import CensusConfig, census
from lib.analysis.dynamics import OrbitConfig
from lib.analysis.sculpting import SculptConfig, populations_analysis
from lib.analysis.weights import weight_stats_or_compute
from lib.core.network import NetworkConfig
from lib.core.task import (  # noqa: F401 (level_of re-exported)
    COMPLEXITY_LEVELS,
    TRIAL_REGIMES,
    level_of,
    task_for_level,
)
from lib.pipelines.profiles import (
    ABLATION_REGIME,
    ABLATIONS,
    CHECKPOINT_SEEDS_BY_REGIME,
    LOW_COHERENCE,
    PAPER_SEEDS,
    PROFILES,
    VARIANTS,
    ablation_algorithms,
    ablation_spec,
    census_config,
    network,
    populations_config,
    teacher_spec,
    trainers,
    variant_of,
    variant_spec,
)
from lib.store.runs import AnalysisEntry, Store, StoredRun
from lib.train.spec import RunSpec

if TYPE_CHECKING:
    from dask.distributed import Client

__all__ = [
    "PROFILES",
    "SCHEDULER_TIMEOUT",
    "SchedulerError",
    "check_scheduler_address",
    "SWEEPS",
    "SweepTask",
    "get_sweep",
    "run_sweep",
    "run_task",
    "sweep_status",
    "failed_runs",
    "failure_table",
    "summary_table",
    "write_summary",
    "COST_STAGES",
    "cost_table",
]

log = logging.getLogger(__name__)


#: δ grid of the initialisation sweep: bulk spectral radius 9.13·δ ≈ 0.50, 0.68, 0.91, 1.14, 1.51.
PAPER_DELTAS = (0.055, 0.075, 0.1, 0.125, 0.165)
#: Seconds allowed to reach a remote Dask scheduler before the sweep gives up.
SCHEDULER_TIMEOUT = 10.0


class SchedulerError(RuntimeError):
    """The Dask scheduler address is invalid or the scheduler cannot be reached."""


@dataclass(frozen=True)
class SweepTask:
    """One run of a sweep and the analyses to compute on it."""

    spec: RunSpec
    census: CensusConfig | None = field(default_factory=CensusConfig)
    keep_checkpoints: bool = False
    #: Populations and balance of the trained network (:func:`lib.analysis.sculpting.populations_analysis`);
    #: its census settings are always the default ones (they only enter the cache key).
    populations: SculptConfig | None = field(default_factory=SculptConfig)
    #: The run a distilled run learns from (trained or reused first, without analyses).
    teacher: RunSpec | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form sent to workers."""
        return {
            "teacher": None if self.teacher is None else self.teacher.to_dict(),
            "spec": self.spec.to_dict(),
            "census": None if self.census is None else self.census.to_dict(),
            "keep_checkpoints": self.keep_checkpoints,
            "populations": None
            if self.populations is None
            else {k: v for k, v in dataclasses.asdict(self.populations).items() if k != "census"},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepTask:
        """Inverse of :meth:`to_dict`."""
        c = d["census"]
        cc = None
        if c is not None:
            c = dict(c)
            c["orbit"] = OrbitConfig(**c["orbit"])
            cc = CensusConfig(**c)
        p = d.get("populations")
        pc = None if p is None else SculptConfig(**p)
        te = d.get("teacher")
        teacher = None if te is None else RunSpec.from_dict(te)
        return cls(RunSpec.from_dict(d["spec"]), cc, bool(d["keep_checkpoints"]), pc, teacher)


def _pop_cfg(profile: str) -> SculptConfig:
    return populations_config(profile)


def _trainers(profile: str) -> tuple[NetworkConfig, dict[str, Any], CensusConfig]:
    return network(profile), trainers(profile), census_config(profile)


def initialization_sweep(profile: str, trials: str = "reset") -> list[SweepTask]:
    """PPO and SL × a δ grid spanning the edge of chaos × seeds (paper: 5 δ × 10 seeds), in
    the trial regime ``trials``."""
    net, tr, cc = _trainers(profile)
    deltas, seeds = ((0.05, 0.15), (0, 1)) if profile == "smoke" else (PAPER_DELTAS, PAPER_SEEDS)
    out = []
    for d in deltas:
        for alg in ("ppo", "sl"):
            for s in seeds:
                spec = RunSpec(
                    alg,
                    s,
                    task_for_level("standard", trials=trials),
                    NetworkConfig(hidden=net.hidden, delta=d),
                    tr[alg],
                )
                keep = (
                    profile == "paper"
                    and d == NetworkConfig.delta
                    and s in CHECKPOINT_SEEDS_BY_REGIME[trials]
                )
                out.append(SweepTask(spec, cc, keep, _pop_cfg(profile)))
    return out


def complexity_sweep(profile: str, trials: str = "reset") -> list[SweepTask]:
    """Task-difficulty levels (:data:`lib.core.task.COMPLEXITY_LEVELS`) × PPO and SL × seeds, in
    the trial regime ``trials``."""
    net, tr, cc = _trainers(profile)
    levels, seeds = (
        (("easy", "hard"), (0,)) if profile == "smoke" else (tuple(COMPLEXITY_LEVELS), PAPER_SEEDS)
    )
    out = []
    for lv in levels:
        for alg in ("ppo", "sl"):
            for s in seeds:
                spec = RunSpec(alg, s, task_for_level(lv, trials=trials), net, tr[alg])
                keep = (
                    profile == "paper"
                    and lv == "standard"
                    and s in CHECKPOINT_SEEDS_BY_REGIME[trials]
                )
                out.append(SweepTask(spec, cc, keep, _pop_cfg(profile)))
    return out


def variants_sweep(profile: str, trials: str = "continuous") -> list[SweepTask]:
    """The open choices one at a time (:data:`lib.pipelines.profiles.VARIANTS`) at the default δ × PPO
    and SL × seeds, in the trial regime ``trials``; the baseline (no change) included. A
    variant that leaves an algorithm's run unchanged (plain cross-entropy for PPO) shares
    the baseline's run."""
    return _variant_tasks(profile, trials, ("baseline", *VARIANTS))


def default_sweep(profile: str, trials: str = "reset") -> list[SweepTask]:
    """The default networks behind claims 1–4 and S (PPO and SL at the default δ × seeds; the
    paper profile keeps checkpoints of seeds :data:`lib.pipelines.profiles.CHECKPOINT_SEEDS_BY_REGIME`): the same
    tasks as the initialization sweep's at that δ."""
    return _variant_tasks(profile, trials, ("baseline",))


def _variant_tasks(profile: str, trials: str, names: tuple[str, ...]) -> list[SweepTask]:
    _, _, cc = _trainers(profile)
    seeds = (0, 1) if profile == "smoke" else PAPER_SEEDS
    out: dict[str, SweepTask] = {}
    for name in names:
        for alg in ("ppo", "sl"):
            for s in seeds:
                spec = variant_spec(name, alg, s, profile, trials)
                # the baseline is the initialization sweep's default cell, checkpoints included
                keep = (
                    name == "baseline"
                    and profile == "paper"
                    and s in CHECKPOINT_SEEDS_BY_REGIME[trials]
                )
                out.setdefault(spec.run_id, SweepTask(spec, cc, keep, _pop_cfg(profile)))
    return list(out.values())


def why_sweep(profile: str, trials: str = ABLATION_REGIME) -> list[SweepTask]:
    """Chapter 9's ablations (:data:`lib.pipelines.profiles.ABLATIONS`) × their algorithms ×
    seeds, with the baseline and the ``leaky`` variant they are compared with (stored already by
    the ``variants`` sweep; shared, not recomputed). Defined in the continuous regime only."""
    if trials != ABLATION_REGIME:
        raise ValueError(
            f"sweep 'why' is defined in the {ABLATION_REGIME} trial regime only "
            f"(--trials {ABLATION_REGIME}), got {trials!r}"
        )
    _, _, cc = _trainers(profile)
    seeds = (0, 1) if profile == "smoke" else PAPER_SEEDS
    out = {t.spec.run_id: t for t in _variant_tasks(profile, trials, ("baseline", "leaky"))}
    for s in seeds:  # seed-major, as the sweep computes them
        for name in ABLATIONS:
            for alg in ablation_algorithms(name):
                spec = ablation_spec(name, alg, s, profile, trials)
                teacher = teacher_spec(s, profile, trials) if spec.teacher else None
                out.setdefault(spec.run_id, SweepTask(spec, cc, False, _pop_cfg(profile), teacher))
    return list(out.values())


def all_sweep(profile: str, trials: str = "reset") -> list[SweepTask]:
    """Every task of the initialization and complexity sweeps, once (runs shared between
    them are deduplicated)."""
    out: dict[str, SweepTask] = {}
    for fn in (initialization_sweep, complexity_sweep):
        for t in fn(profile, trials):
            prev = out.get(t.spec.run_id)
            if prev is None or (t.keep_checkpoints and not prev.keep_checkpoints):
                out[t.spec.run_id] = t
    return list(out.values())


SWEEPS = {
    "initialization": initialization_sweep,
    "complexity": complexity_sweep,
    "all": all_sweep,
    "variants": variants_sweep,
    "default": default_sweep,
    "why": why_sweep,
}


def sweep_label(name: str, profile: str, trials: str = "reset") -> str:
    """File stem of a sweep's summary: ``<name>-<profile>``, plus ``-<trials>`` when the regime
    is not ``reset`` (the reset regime's files keep their names)."""
    return f"{name}-{profile}" if trials == "reset" else f"{name}-{profile}-{trials}"


def get_sweep(name: str, profile: str = "paper", trials: str = "reset") -> list[SweepTask]:
    """The tasks of a named sweep in a trial regime; unknown names, profiles or regimes raise
    before any compute."""
    if name not in SWEEPS:
        raise ValueError(f"unknown sweep {name!r}; choose one of {sorted(SWEEPS)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    if trials not in TRIAL_REGIMES:
        raise ValueError(f"unknown trial regime {trials!r}; choose one of {TRIAL_REGIMES}")
    tasks = SWEEPS[name](profile, trials)
    if not tasks:
        raise ValueError(f"sweep {name!r} ({profile}) is empty")
    return tasks


# ---- execution ----------------------------------------------------------------------------


def _failure_path(store: Store, run_id: str) -> Path:
    return store.root / "sweeps" / "failures" / f"{run_id}.json"


def failed_runs(
    name: str, profile: str = "paper", store: str | Path | None = None, trials: str = "reset"
) -> list[str]:
    """The run ids of a sweep's tasks that failed, in training or in an analysis: those with a
    failure record in ``<store>/sweeps/failures/`` (a successful retry, ``--retry-failed``,
    removes it). Reads only file names."""
    st = Store(store)
    return [
        t.spec.run_id
        for t in get_sweep(name, profile, trials)
        if _failure_path(st, t.spec.run_id).exists()
    ]


#: What identifies a sweep task in its tables (:func:`sweep_status`, :func:`failure_table`).
_TASK_COLUMNS = ("run_id", "algorithm", "seed", "delta", "hidden", "level", "variant")


def _task_row(spec: RunSpec, profile: str) -> dict[str, Any]:
    return {
        "run_id": spec.run_id,
        "algorithm": spec.algorithm,
        "seed": spec.seed,
        "delta": spec.network.delta,
        "hidden": spec.network.hidden,
        "level": level_of(spec.task),
        "variant": variant_of(spec, profile),
    }


def failure_table(
    name: str, profile: str = "paper", store: str | Path | None = None, trials: str = "reset"
) -> pd.DataFrame:
    """One row per task of a sweep with a failure record (:func:`failed_runs`): run id,
    algorithm, seed, δ, size, level, variant and ``error``, the recorded exception (an unreadable
    record reads ``unreadable failure record``). Nothing is computed."""
    st = Store(store)
    rows = []
    for t in get_sweep(name, profile, trials):
        path = _failure_path(st, t.spec.run_id)
        if not path.exists():
            continue
        try:
            error = str(json.loads(path.read_text())["error"])
        except (OSError, ValueError, KeyError, TypeError):
            error = "unreadable failure record"
        rows.append({**_task_row(t.spec, profile), "error": error})
    return pd.DataFrame(rows, columns=[*_TASK_COLUMNS, "error"])


def _analyses(task: SweepTask) -> list[tuple[str, Callable[..., dict[str, pd.DataFrame]]]]:
    """The analyses of a task as ``(name, f)`` with ``f(run, store, compute=True)``.

    The one definition used to compute them (:func:`run_task`), to report on them
    (:func:`task_state`, through :meth:`lib.store.runs.Store.analysis_entry`, which finds the
    cache key by calling ``f`` itself) and to read them (:func:`summary_table`).
    """
    out: list[tuple[str, Callable[..., dict[str, pd.DataFrame]]]] = []
    if task.census is not None:
        cc = task.census
        out.append(("census", lambda run, st, compute=True: census(run, cc, st, compute=compute)))
    if task.populations is not None:
        pc = task.populations
        out.append(
            (
                "populations",
                lambda run, st, compute=True: populations_analysis(run, pc, st, compute=compute),
            )
        )
    return out


def _entries(store: Store, task: SweepTask, run: StoredRun) -> dict[str, AnalysisEntry]:
    return {n: store.analysis_entry(lambda s, f=f: f(run, s)) for n, f in _analyses(task)}


def task_state(store: Store, task: SweepTask) -> str:
    """``done``, ``missing``, ``failed`` (a failure record and no complete result) or
    ``corrupt`` (the run, or one of its analyses, fails its checksums or was computed from
    other weights)."""
    st = store.status(task.spec)
    if st == "complete":
        run = store.load(task.spec)
        states = {e.state for e in _entries(store, task, run).values()}
        if task.keep_checkpoints and not run.has_checkpoints:
            states.add("missing")
        if states <= {"complete"}:
            return "done"
        st = "corrupt" if states & {"corrupt", "stale"} else "missing"
    if _failure_path(store, task.spec.run_id).exists():
        return "failed"
    return st


def run_task(task: dict[str, Any], store_root: str) -> dict[str, Any]:
    """Train (or reuse) one run and compute its analyses; never raises.

    Executed on a worker. One torch thread per worker process. A failure is written to the
    store with its traceback and returned as ``status="failed"``.
    """
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    t = SweepTask.from_dict(task)
    store = Store(store_root)
    fail = _failure_path(store, t.spec.run_id)
    try:
        if t.teacher is not None:
            store.get_or_train(t.teacher, progress=False)
        run = store.get_or_train(t.spec, progress=False, keep_checkpoints=t.keep_checkpoints)
        for _, f in _analyses(t):
            f(run, store)
        if fail.exists():
            fail.unlink()
        return {"run_id": t.spec.run_id, "status": "done", "seconds": time.perf_counter() - t0}
    except Exception as e:  # noqa: BLE001 - recorded, reported, the sweep goes on
        rec = {
            "run_id": t.spec.run_id,
            "spec": t.spec.to_dict(),
            "error": repr(e),
            "traceback": traceback.format_exc(),
            "time": time.time(),
        }
        try:
            fail.parent.mkdir(parents=True, exist_ok=True)
            tmp = fail.parent / f".tmp-{uuid.uuid4().hex[:8]}.json"
            tmp.write_text(json.dumps(rec, indent=1))
            os.replace(tmp, fail)
        except OSError as e2:  # the store itself is unusable: report, do not raise
            log.error(
                "run %s failed (%r) and its failure record could not be written (%s)",
                t.spec.run_id,
                e,
                e2,
            )
        return {
            "run_id": t.spec.run_id,
            "status": "failed",
            "error": repr(e),
            "seconds": time.perf_counter() - t0,
        }


def sweep_status(
    name: str, profile: str = "paper", store: str | Path | None = None, trials: str = "reset"
) -> pd.DataFrame:
    """One row per task: run id, algorithm, seed, δ, size, level, variant and its state."""
    st = Store(store)
    rows = []
    for t in get_sweep(name, profile, trials):
        rows.append({**_task_row(t.spec, profile), "state": task_state(st, t)})
    return pd.DataFrame(rows, columns=[*_TASK_COLUMNS, "state"])


def check_scheduler_address(address: str) -> tuple[str, str]:
    """``(scheme, location)`` of a Dask scheduler address; :class:`SchedulerError` if malformed.

    Accepted: ``host:port`` (TCP), ``tcp://host:port``, ``tls://``, ``ws://``, ``wss://`` and
    ``ucx://`` with a port in 1-65535, and ``inproc://`` addresses.
    """
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    try:
        scheme, loc = parse_address(address, strict=False)
    except (ValueError, TypeError) as e:
        raise SchedulerError(f"bad scheduler address {address!r}: {e}") from None
    if scheme not in backends:
        raise SchedulerError(
            f"bad scheduler address {address!r}: unknown scheme {scheme!r} "
            f"(known: {sorted(backends)}); expected e.g. tcp://host:8786"
        )
    if scheme != "inproc":
        try:
            host, port = parse_host_port(loc)
        except (ValueError, TypeError) as e:
            raise SchedulerError(
                f"bad scheduler address {address!r}: {e}; expected e.g. tcp://host:8786"
            ) from None
        if not host or not (isinstance(port, int) and 0 < port < 65536):
            raise SchedulerError(
                f"bad scheduler address {address!r}: expected e.g. tcp://host:8786"
            )
    return scheme, loc


def _connect(address: str, timeout: float) -> Client:
    """A client of the scheduler at ``address``; :class:`SchedulerError` within ``timeout``
    seconds when it cannot be reached."""
    from dask.distributed import Client
    from distributed.comm.addressing import parse_host_port

    scheme, loc = check_scheduler_address(address)
    if scheme in ("tcp", "tls", "ws", "wss"):
        host, port = parse_host_port(loc)
        try:  # a plain probe first: fails fast and quietly
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as e:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({e}); "
                "is it running, and is the address right?"
            ) from None
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise SchedulerError(f"cannot connect to the Dask scheduler at {address}: {e}") from None


def run_sweep(
    name: str,
    profile: str = "paper",
    store: str | Path | None = None,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    progress: bool = True,
    retry_failed: bool = False,
    connect_timeout: float = SCHEDULER_TIMEOUT,
    trials: str = "reset",
) -> pd.DataFrame:
    """Compute what the store lacks for a sweep; returns :func:`sweep_status` afterwards.

    Parameters
    ----------
    name, profile : the sweep (``initialization`` / ``complexity``) and its size.
    store : store root (default ``data/``).
    workers : local worker processes (ignored with ``scheduler``).
    scheduler : address of a running Dask scheduler (``tcp://host:8786``); local cluster if None.
    retry_failed : also rerun tasks with a failure record.
    connect_timeout : seconds allowed to reach ``scheduler``.
    trials : the trial regime of the sweep's runs (``reset`` or ``continuous``).

    Raises
    ------
    ValueError
        Unknown sweep or profile, ``workers < 1``.
    SchedulerError
        Malformed or unreachable ``scheduler`` (before any compute).
    lib.store.runs.StoreError
        The store is not writable (before any compute).
    """
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    tasks = get_sweep(name, profile, trials)
    if scheduler:
        check_scheduler_address(scheduler)
    st = Store(store)
    states = [task_state(st, t) for t in tasks]
    todo = [
        t
        for t, s in zip(tasks, states, strict=True)
        if s in ("missing", "corrupt") or (retry_failed and s == "failed")
    ]
    # seed-major order: a sweep stopped part-way leaves every cell with the same number of seeds
    todo.sort(key=lambda t: t.spec.seed)
    label = sweep_label(name, profile, trials)
    log.info("sweep %s: %d tasks, %d to compute", label, len(tasks), len(todo))
    if todo:
        st.check_writable(("runs", "analyses", "sweeps"))
        st.clean_temporaries()
        # one BLAS/OpenMP thread per worker process (inherited by the local workers)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        cluster = None
        if scheduler:
            client = _connect(scheduler, connect_timeout)
        else:
            import dask

            # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which hands freed
            # memory back to the kernel at once; the page faults of re-allocating it made
            # training 3x slower (benchmarks/README.md). Keep glibc's own dynamic threshold.
            environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
            environ.pop("MALLOC_TRIM_THRESHOLD_", None)
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
            client = Client(cluster)
        try:
            futs = client.map(
                run_task, [t.to_dict() for t in todo], store_root=str(st.root.resolve()), pure=False
            )
            bar = tqdm(total=len(futs), desc=f"sweep {label}", unit="run", disable=not progress)
            failed = 0
            for fut in as_completed(futs):
                res = fut.result()
                failed += res["status"] == "failed"
                bar.set_postfix(failed=failed)
                bar.update(1)
            bar.close()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return sweep_status(name, profile, st.root, trials)


def summary_table(
    name: str,
    profile: str = "paper",
    store: str | Path | None = None,
    *,
    with_census: bool = True,
    trials: str = "reset",
    spectra: bool = True,
) -> pd.DataFrame:
    """One row per completed run of a sweep: config, convergence, cost (``wall_seconds`` of
    training, ``census_seconds``, ``populations_seconds``), accuracy, the spectral radius of
    ``W_rec`` before and after training, census results (QP fraction overall and at low
    coherence) and population balance, derived from the store.

    The spectral radii are the run's stored weight statistics
    (:func:`lib.analysis.weights.weight_stats_or_compute`: read, or computed in memory without
    writing when the store lacks them, two 250 × 250 eigenvalue problems per run);
    ``spectra=False`` leaves the two columns out (the claims do not use them)."""
    st = Store(store)
    rows = []
    for t in get_sweep(name, profile, trials):
        s = t.spec
        if st.status(s) != "complete":
            continue
        run = st.load(s)
        m = run.metrics
        row = {
            "run_id": s.run_id,
            "algorithm": s.algorithm,
            "seed": s.seed,
            "delta": s.network.delta,
            "spectral_radius_expected": s.network.expected_spectral_radius,
            "hidden": s.network.hidden,
            "level": level_of(s.task),
            "trials": s.task.trials,
            "variant": variant_of(s, profile),
            "converged": m["converged"],
            "trials_to_criterion": m["trials_to_criterion"],
            "trials_seen": m["trials_seen"],
            "wall_seconds": m["wall_seconds"],
            "criterion": m["criterion"],
            "final_accuracy": m["final_accuracy"],
        }
        if spectra:  # stored with the run's weight statistics (computed here when missing)
            w = weight_stats_or_compute(run, st)
            row["spectral_radius_before"] = w["spectral_radius_before"]
            row["spectral_radius_after"] = w["spectral_radius_after"]
        entries = _entries(st, t, run)
        for n, e in entries.items():
            if e.state != "complete":  # missing: a sweep still under way; corrupt/stale: a fault
                level = logging.INFO if e.state == "missing" else logging.WARNING
                log.log(level, "summary of %s: %s of run %s is %s", name, n, s.run_id, e.state)
        fns = dict(_analyses(t))
        cen = entries.get("census")
        if with_census and cen is not None and cen.state == "complete":
            meta = json.loads((cen.path / "meta.json").read_text())
            row["census_seconds"] = float(meta.get("wall_seconds", np.nan))
            g = fns["census"](run, st, compute=False)["grid"]
            low = (g.c1.abs() <= LOW_COHERENCE) & (g.c2.abs() <= LOW_COHERENCE)
            row.update(
                {
                    "qp_fraction": float(g.has_qp.mean()),
                    "qp_fraction_low_coh": float(g.has_qp[low].mean()),
                    "chaos_fraction": float(g.has_chaos.mean()),
                    "divergent_fraction": float(g.kinds.str.contains("divergent").mean()),
                }
            )
        pop = entries.get("populations")
        if pop is not None and pop.state == "complete":
            meta = json.loads((pop.path / "meta.json").read_text())
            row["populations_seconds"] = float(meta.get("wall_seconds", np.nan))
            pops = fns["populations"](run, st, compute=False)["populations"]
            for d, tag in (("decision_states", "ds"), ("selectivity", "sel")):
                p = pops[pops.definition == d]
                row[f"balance_{tag}"] = float(p.balance.mean()) if len(p) else float("nan")
                row[f"n_plus_{tag}"] = float(p.n_plus.mean()) if len(p) else float("nan")
                row[f"n_minus_{tag}"] = float(p.n_minus.mean()) if len(p) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


#: The cost columns of :func:`summary_table`, by stage.
COST_STAGES = {
    "training": "wall_seconds",
    "census": "census_seconds",
    "populations": "populations_seconds",
}


def cost_table(tab: pd.DataFrame) -> pd.DataFrame:
    """The compute a sweep took, per stage, from its :func:`summary_table`.

    One row per cell (variant, task level, δ, algorithm) with its number of runs and the median
    wall seconds per run of each stage (:data:`COST_STAGES`), then a row ``all`` with every
    stage's total in worker-hours (seconds / 3600 summed over runs: one worker is one
    single-threaded process). Stages not stored for a run count as missing, not as zero.
    """
    cols = ["variant", "level", "delta", "algorithm", "runs"]
    cols += [f"{st} median s" for st in COST_STAGES] + [f"{st} worker-h" for st in COST_STAGES]
    if tab.empty:
        return pd.DataFrame(columns=cols)
    t = tab.reindex(columns=[*tab.columns, *(c for c in COST_STAGES.values() if c not in tab)])
    t = t.assign(variant=t.variant.fillna("-"), level=t.level.fillna("-"))  # no level: a variant
    keys = ["variant", "level", "delta", "algorithm"]
    g = t.groupby(keys, sort=True, dropna=False)
    out = g.size().rename("runs").to_frame()
    for st, c in COST_STAGES.items():
        out[f"{st} median s"] = g[c].median()
        out[f"{st} worker-h"] = g[c].sum(min_count=1) / 3600
    out = out.reset_index()
    total = {k: "all" for k in keys} | {"runs": int(out.runs.sum())}
    for st, c in COST_STAGES.items():
        total[f"{st} median s"] = float(t[c].median())
        total[f"{st} worker-h"] = float(t[c].sum(min_count=1) / 3600)
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)[cols]


def write_summary(
    name: str, profile: str = "paper", store: str | Path | None = None, trials: str = "reset"
) -> Path:
    """Write :func:`summary_table` to ``<store>/sweeps/<label>.csv`` (atomically; the label is
    :func:`sweep_label`).

    The CSV is derived from the store, never edited by hand; it is rewritten after every sweep.
    """
    st = Store(store)
    tab = summary_table(name, profile, st.root, trials=trials)
    out = st.root / "sweeps" / f"{sweep_label(name, profile, trials)}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".tmp-{uuid.uuid4().hex[:8]}.csv"
    tab.to_csv(tmp, index=False)
    os.replace(tmp, out)
    return out
