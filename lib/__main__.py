"""Command line: ``python -m lib train|census|sculpt|sweep|list|migrate``.

Examples
--------
Train (or reuse) one network and print its run folder::

    python -m lib train --algorithm ppo --delta 0.1 --seed 0

Errors (invalid options, no such store, a store that is not writable, training that
diverges, an unreachable scheduler) are one ``error: ...`` line on stderr and a non-zero
exit code: 2 for what is wrong before any compute, 1 for a failure during it.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import sys
from collections.abc import Iterator

import torch

from lib.core.network import NetworkConfig
from lib.core.task import SEMANTICS, TRIAL_REGIMES, TaskConfig
from lib.pipelines.profiles import LONG_HORIZON_CENSUS, VARIANTS, variant_of
from lib.store.environment import THREADS_ENV, compute_threads
from lib.store.runs import Store, StoredRun, StoreError
from lib.train.spec import ALGORITHMS, RunSpec, spec_from_options
from lib.train.training import MAX_SEED, TrainingDivergedError

log = logging.getLogger("lib")


def _positive_float(s: str) -> float:
    v = float(s)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {s}")
    return v


def _positive_int(s: str) -> int:
    v = int(s)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {s}")
    return v


def _nonneg_int(s: str) -> int:
    v = int(s)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {s}")
    return v


def _seed(s: str) -> int:
    v = _nonneg_int(s)
    if v > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be <= {MAX_SEED} (2**63 - 2), got {s}")
    return v


def _odd_positive_int(s: str) -> int:
    v = _positive_int(s)
    if v % 2 == 0:
        raise argparse.ArgumentTypeError(
            f"must be odd (so that coherence 0 is on the grid), got {s}"
        )
    return v


def _selection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trials", choices=TRIAL_REGIMES, default=None, help="only this trial regime")
    p.add_argument(
        "--default",
        action="store_true",
        help="only the default networks (delta 0.1, 250 units, standard task: claims 1-4)",
    )
    p.add_argument(
        "--variant",
        choices=("baseline", *VARIANTS),
        default=None,
        help="only the runs of this training variant at the default delta (baseline: the "
        "default runs, which are also plain_ce's PPO runs)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lib", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train (or reuse) one run and print its folder")
    t.add_argument("--algorithm", required=True, choices=ALGORITHMS)
    t.add_argument("--seed", type=_seed, required=True)
    t.add_argument("--delta", type=_positive_float, default=NetworkConfig.delta)
    t.add_argument("--hidden", type=_positive_int, default=NetworkConfig.hidden)
    t.add_argument("--alpha", type=float, default=NetworkConfig.alpha, help="leak; 1 = none")
    t.add_argument("--semantics", choices=SEMANTICS, default=TaskConfig.semantics)
    t.add_argument(
        "--trials",
        choices=TRIAL_REGIMES,
        default=TaskConfig.trials,
        help="trial regime: reset h = 0 at every trial, or continuous (NeuroGym's)",
    )
    t.add_argument(
        "--max-trials", type=_positive_int, default=None, help="training budget in trials"
    )
    t.add_argument(
        "--criterion-fraction", type=float, default=None, help="fraction of the ideal observer"
    )
    t.add_argument("--store", default=None, help="store root (default: data/ or $CTXDM_DATA)")
    t.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help=f"torch threads (default ${THREADS_ENV} or 1, the fastest here; same result)",
    )
    t.add_argument("--no-progress", action="store_true")
    t.add_argument("--checkpoints", action="store_true", help="keep checkpoints along training")
    cs = sub.add_parser("census", help="compute (or reuse) the attractor census of stored runs")
    cs.add_argument("--algorithm", choices=ALGORITHMS, default=None, help="only this algorithm")
    cs.add_argument("--seeds", type=_nonneg_int, nargs="*", default=None, help="only these seeds")
    cs.add_argument("--grid", type=_odd_positive_int, default=21, help="coherences per axis (odd)")
    cs.add_argument(
        "--horizon",
        choices=("default", "long"),
        default="default",
        help="long: the long_horizon variant (10x transient and record, 11 x 11 grid)",
    )
    _selection_options(cs)
    cs.add_argument("--store", default=None)
    for name, (_, what) in ANALYSES.items():
        sb = sub.add_parser(name, help=f"compute (or reuse) the {what} of stored runs")
        sb.add_argument("--algorithm", choices=ALGORITHMS, default=None, help="only this algorithm")
        sb.add_argument(
            "--seeds", type=_nonneg_int, nargs="*", default=None, help="only these seeds"
        )
        if name == "stability":
            sb.add_argument(
                "--grid", type=_odd_positive_int, default=21, help="coherences per axis (odd)"
            )
        _selection_options(sb)
        sb.add_argument("--store", default=None)
    sc = sub.add_parser(
        "sculpt", help="census and populations per checkpoint of the runs that kept checkpoints"
    )
    sc.add_argument("--algorithm", choices=ALGORITHMS, default=None, help="only this algorithm")
    sc.add_argument("--seeds", type=_nonneg_int, nargs="*", default=None, help="only these seeds")
    _selection_options(sc)
    sc.add_argument("--store", default=None)
    sw = sub.add_parser("sweep", help="run (or report on) a named sweep")
    sw.add_argument(
        "name",
        help="initialization | complexity | all (both, shared runs once) | default (the "
        "default delta only: claims 1-4's networks) | variants (the training-side open "
        "choices at the default delta)",
    )
    sw.add_argument("--profile", default="paper", help="smoke | paper")
    sw.add_argument(
        "--trials",
        choices=TRIAL_REGIMES,
        default=TaskConfig.trials,
        help="trial regime of the sweep's runs (default reset)",
    )
    sw.add_argument("--workers", type=_positive_int, default=2, help="local worker processes")
    sw.add_argument("--scheduler", default=None, help="address of a Dask scheduler")
    sw.add_argument("--status", action="store_true", help="only report done / missing / failed")
    sw.add_argument(
        "--costs",
        action="store_true",
        help="only print the compute its stored runs took, per cell and stage",
    )
    sw.add_argument("--retry-failed", action="store_true")
    sw.add_argument("--store", default=None)
    ls = sub.add_parser("list", help="list the complete runs in the store")
    ls.add_argument("--store", default=None)
    mg = sub.add_parser(
        "migrate", help="record the weights' checksum in cached analyses written before it"
    )
    mg.add_argument("--store", default=None)
    mg.add_argument("--dry-run", action="store_true", help="only count what would change")
    return p


def train_spec(args: argparse.Namespace) -> RunSpec:
    """The run spec of parsed ``train`` options (raises ``ValueError`` / ``TypeError``)."""
    return spec_from_options(
        args.algorithm,
        args.seed,
        delta=args.delta,
        hidden=args.hidden,
        alpha=args.alpha,
        semantics=args.semantics,
        trials=args.trials,
        max_trials=args.max_trials,
        criterion_fraction=args.criterion_fraction,
    )


def _error(msg: object, code: int) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        compute_threads()  # a bad $CTXDM_THREADS is refused before any compute
    except ValueError as e:
        return _error(e, 2)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("distributed", "tornado", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        code = _run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        if not _stdout_reader_gone():
            raise  # another pipe broke (a worker's, say): a real error
        # The reader of stdout went away (``| head``): stop quietly, as Unix tools do. Python
        # would flush stdout again at exit and print a second traceback, so point it at
        # /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except StoreError as e:
        return _error(e, 2)
    except TrainingDivergedError as e:
        return _error(e, 1)


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe or socket whose reader has closed it (poll reports an error on
    it); ``False`` when stdout is not a real file (a test's capture) or is still open."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(ev & select.POLLERR for _, ev in poller.poll(0))


def _cmd_migrate(args: argparse.Namespace) -> int:
    counts = Store(args.store).migrate_analyses(dry_run=args.dry_run)
    verb = "would migrate" if args.dry_run else "migrated"
    print(
        f"{verb} {counts['migrated']} analyses; {counts['current']} already current, "
        f"{counts['stale']} stale (recomputed when used), {counts['skipped']} skipped"
    )
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    for r in Store(args.store).all_runs():
        m = r.metrics
        print(
            f"{r.path.name}  {r.spec.algorithm:3s} seed={r.spec.seed:<3d} delta={r.spec.network.delta:<6g} "
            f"N={r.spec.network.hidden:<4d} converged={m['converged']!s:5s} acc={m['final_accuracy']:.3f} "
            f"trials={m['trials_seen']}"
        )
    return 0


def _print_costs(args: argparse.Namespace) -> int:
    from lib.pipelines.sweep import cost_table, summary_table

    Store(args.store).check_exists()
    tab = cost_table(summary_table(args.name, args.profile, args.store, trials=args.trials))
    if tab.empty:
        print(f"sweep {args.name} ({args.profile}, {args.trials} trials): no run stored yet")
        return 0
    tab["delta"] = [d if isinstance(d, str) else f"{d:g}" for d in tab.delta]
    print(tab.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from lib.pipelines.sweep import (
        SchedulerError,
        check_scheduler_address,
        get_sweep,
        run_sweep,
        sweep_status,
        write_summary,
    )

    try:
        get_sweep(args.name, args.profile, args.trials)
        if args.scheduler:
            check_scheduler_address(args.scheduler)
    except (ValueError, SchedulerError) as e:
        return _error(e, 2)
    if args.costs:
        return _print_costs(args)
    if args.status:
        df = sweep_status(args.name, args.profile, args.store, args.trials)
    else:
        try:
            df = run_sweep(
                args.name,
                args.profile,
                args.store,
                workers=args.workers,
                scheduler=args.scheduler,
                retry_failed=args.retry_failed,
                trials=args.trials,
            )
        except SchedulerError as e:
            return _error(e, 2)
    counts = df.state.value_counts().to_dict()
    if not args.status:
        names = ["initialization", "complexity"] if args.name == "all" else [args.name]
        for n in names:
            print(f"summary table: {write_summary(n, args.profile, args.store, args.trials)}")
    regime = "" if args.trials == "reset" else f", {args.trials} trials"
    print(
        f"sweep {args.name} ({args.profile}{regime}): {len(df)} tasks: "
        + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    )
    if counts.get("failed", 0):
        from lib.pipelines.sweep import failure_table

        for r in failure_table(args.name, args.profile, args.store, args.trials).itertuples():
            where = f"level {r.level}" if r.level not in (None, "standard") else f"delta {r.delta}"
            print(f"  failed: {r.run_id} {r.algorithm} seed={r.seed} {where}: {r.error}")
        print("  (records in <store>/sweeps/failures/; rerun them with --retry-failed)")
    return 0 if counts.get("failed", 0) == 0 else 1


def _each(args: argparse.Namespace, st: Store, checkpoints: bool = False) -> Iterator[StoredRun]:
    """The selected runs (:func:`_selected`) with a progress bar on stderr (one step per run)."""
    from tqdm.auto import tqdm

    runs = list(_selected(args, st, checkpoints))
    yield from tqdm(runs, desc=f"{args.cmd}", unit="run", disable=len(runs) < 2)


def _report(line: str) -> None:
    """One result line on stdout, at once (a long command piped to a file shows its progress)."""
    from tqdm.auto import tqdm

    tqdm.write(line)
    sys.stdout.flush()


def _selected(
    args: argparse.Namespace, st: Store, checkpoints: bool = False
) -> Iterator[StoredRun]:
    for r in st.all_runs():
        if checkpoints and not r.has_checkpoints:
            continue
        if args.algorithm and r.spec.algorithm != args.algorithm:
            continue
        if args.seeds is not None and r.spec.seed not in args.seeds:
            continue
        if getattr(args, "trials", None) and r.spec.task.trials != args.trials:
            continue
        if getattr(args, "default", False) and variant_of(r.spec) != "baseline":
            continue
        if getattr(args, "variant", None) and variant_of(r.spec) != args.variant:
            continue
        yield r


def _cmd_census(args: argparse.Namespace) -> int:
    from lib.analysis.census import CensusConfig, census

    cfg = LONG_HORIZON_CENSUS if args.horizon == "long" else CensusConfig(grid=args.grid)
    st = Store(args.store)
    for r in _each(args, st):
        g = census(r, cfg, st)["grid"]
        _report(
            f"{r.path.name} {r.spec.algorithm} seed={r.spec.seed}: QP fraction {g.has_qp.mean():.3f}"
        )
    return 0


def _stability(r: StoredRun, st: Store, args: argparse.Namespace) -> str:
    from lib.analysis.stability import StabilityConfig, stability_census

    g = stability_census(r, StabilityConfig(grid=args.grid), st)["grid"]
    return f"Neimark-Sacker candidates {g.ns_candidate.mean():.3f} of the grid"


def _balance(r: StoredRun, st: Store, args: argparse.Namespace) -> str:
    from lib.analysis.balance import BalanceConfig, balance_analysis

    return (
        f"mean balance {balance_analysis(r, BalanceConfig(), st)['populations'].balance.mean():.3f}"
    )


def _information(r: StoredRun, st: Store, args: argparse.Namespace) -> str:
    from lib.analysis.unit_information import InfoConfig, unit_information

    return f"{len(unit_information(r, InfoConfig(), st)['units'])} unit-variable rows"


#: The cached analyses the command line computes for a selection of stored runs: command ->
#: (analysis of one run, given the store and the parsed options, returning a one-line
#: summary, help).
def _weights(r: StoredRun, st: Store, args: argparse.Namespace) -> str:
    from lib.analysis.weights import weight_stats

    w = weight_stats(r, store=st)["weights"].iloc[0]
    return (
        f"spectral radius {w.spectral_radius_before:.3f} -> {w.spectral_radius_after:.3f}, "
        f"|dW| {w.dw_norm:.3f}"
    )


ANALYSES = {
    "stability": (_stability, "linear-stability census (exact fixed points, Jacobian spectra)"),
    "weights": (_weights, "weight statistics (spectral radii before and after, |dW|, its rank)"),
    "balance": (_balance, "populations, balance and robustness (chapter 3)"),
    "information": (_information, "unit information and functional connectivity (chapter 7)"),
}


def _cmd_analysis(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    st = Store(args.store)
    fn = ANALYSES[args.cmd][0]
    for r in _each(args, st):
        _report(
            f"{r.path.name} {r.spec.algorithm} seed={r.spec.seed} {r.spec.task.trials}: {fn(r, st, args)}"
        )
    return 0


def _cmd_sculpt(args: argparse.Namespace) -> int:
    from lib.analysis.sculpting import crystallisation_point, sculpting_table

    torch.set_num_threads(1)
    st = Store(args.store)
    for r in _each(args, st, checkpoints=True):
        tab = sculpting_table(r, store=st)
        cp = crystallisation_point(tab.progress, tab.label_agreement_ds)
        _report(
            f"{r.path.name} {r.spec.algorithm} seed={r.spec.seed}: {len(tab)} checkpoints, "
            f"population labels crystallise at {cp:.2f} of training"
        )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.threads:
        os.environ[THREADS_ENV] = str(args.threads)  # the store trains with these threads
    try:
        spec = train_spec(args)
    except (ValueError, TypeError) as e:
        return _error(e, 2)
    st = Store(args.store)
    if st.status(spec) != "complete" or args.checkpoints:
        st.check_writable()
    run = st.get_or_train(spec, progress=not args.no_progress, keep_checkpoints=args.checkpoints)
    print(run.path)
    return 0


#: Each subcommand and the function that runs it; the commands that only read a store check
#: first that it exists.
COMMANDS = {
    "train": _cmd_train,
    "census": _cmd_census,
    **dict.fromkeys(ANALYSES, _cmd_analysis),
    "sculpt": _cmd_sculpt,
    "sweep": _cmd_sweep,
    "list": _cmd_list,
    "migrate": _cmd_migrate,
}
_READS_A_STORE = ("list", "census", *ANALYSES, "sculpt", "migrate")


def _run(args: argparse.Namespace) -> int:
    if args.cmd in _READS_A_STORE:
        Store(args.store).check_exists()
    return COMMANDS[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
