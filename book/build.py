"""Build the book (``make book``): every chapter executed, two at a time, then rendered strictly.

Jupyter Book executes notebooks one after another while Sphinx reads them. This script first
executes every notebook of ``_toc.yml`` in a pool of ``--jobs`` processes (longest first: by
the previous build's times, else by :data:`SLOWEST_FIRST`), each in its own folder as the book
runs it, and stores the executed notebooks in Jupyter Book's execution cache (jupyter-cache, the cache that
``execute_notebooks: cache`` reads), emptied first, so that nothing of an earlier build is
reused. Jupyter Book then builds with ``--warningiserror --keep-going --all`` from a copy of
``_config.yml`` that reads that cache; ``_config.yml`` itself keeps ``execute_notebooks: force``
(a plain ``jupyter-book build .`` executes everything itself, serially).

A notebook that fails stops the build before Sphinx, with its traceback.

Usage::

    python book/build.py [--path-output DIR] [--jobs N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
#: Seconds a notebook may run (as ``execute.timeout`` in ``_config.yml``).
TIMEOUT_S = 1800
#: The slowest chapters, slowest first (measured, ``make bench --only book``): started first
#: when no earlier build's times are known (a fresh clone), so that two workers finish together.
SLOWEST_FIRST = (
    "00_claims",
    "08b_census_choices",
    "02_attractor_taxonomy",
    "06_sculpting",
    "01_training",
    "09_why",
    "09b_predictors",
)


def chapters(root: Path = ROOT) -> list[Path]:
    """The notebooks of ``_toc.yml``, in the book's order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [c["file"] for c in toc.get("chapters", [])] + [toc["root"]]
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def previous_runtimes(cache_dir: Path) -> dict[str, float]:
    """Execution seconds per notebook path recorded in an earlier build's cache (empty when
    there is none or it is unreadable)."""
    if not cache_dir.exists():
        return {}
    try:
        from jupyter_cache import get_cache

        cache = get_cache(cache_dir)
        return {
            str(r.uri): float(r.data.get("execution_seconds") or 0.0)
            for r in cache.list_cache_records()
        }
    except Exception:  # noqa: BLE001 - an old cache only orders the work
        return {}


def execute(path: str, threads: int | None = None) -> tuple[str, Any, float, str | None]:
    """Execute one notebook in its folder (as Jupyter Book's cache mode does,
    ``jupyter_cache.executors.utils.single_nb_execution``), its kernel limited to ``threads``
    BLAS/OpenMP threads when given; returns (path, executed notebook, seconds, traceback or
    None)."""
    from jupyter_cache.executors.utils import single_nb_execution

    if threads is not None:  # inherited by the kernel this process starts
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)

    nb = nbformat.read(path, as_version=4)
    res = single_nb_execution(
        nb, cwd=str(Path(path).parent), timeout=TIMEOUT_S, allow_errors=False, meta_override=True
    )
    return path, res.nb, float(res.time), res.exc_string if res.err is not None else None


def execute_into_cache(
    notebooks: list[Path], cache_dir: Path, jobs: int
) -> tuple[dict[str, float], dict[str, str]]:
    """Execute ``notebooks`` with ``jobs`` processes into a fresh cache at ``cache_dir``.

    Returns the seconds of each executed notebook and the traceback of each failed one.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    before = previous_runtimes(cache_dir)
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache = get_cache(cache_dir)
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    order = sorted(
        notebooks,
        key=lambda p: (-before.get(str(p), 0.0), rank.get(p.stem, len(rank))),
    )
    # the processes share the cores: one thread per kernel when several run at once
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    times: dict[str, float] = {}
    failed: dict[str, str] = {}
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) as pool:
        for fut in as_completed([pool.submit(execute, str(p), threads) for p in order]):
            path, nb, seconds, err = fut.result()
            name = Path(path).relative_to(ROOT) if Path(path).is_relative_to(ROOT) else path
            if err is not None:
                failed[path] = err
                print(f"[book] FAILED {name} after {seconds:.1f} s", flush=True)
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, path, data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            times[path] = seconds
            print(f"[book] executed {name} in {seconds:.1f} s", flush=True)
    return times, failed


def cache_config(out: Path, cache_dir: Path, root: Path = ROOT) -> Path:
    """A copy of ``_config.yml`` that reads the execution cache at ``cache_dir``."""
    cfg = yaml.safe_load((root / "_config.yml").read_text())
    cfg.setdefault("execute", {}).update({"execute_notebooks": "cache", "cache": str(cache_dir)})
    path = out / "_config.cache.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--path-output", default=str(ROOT), help="folder of _build/ (default: root)")
    p.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="notebooks at a time"
    )
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    out = Path(args.path_output).resolve() / "_build"
    out.mkdir(parents=True, exist_ok=True)
    cache_dir = out / ".jupyter_cache"
    t0 = time.perf_counter()
    nbs = chapters()
    times, failed = execute_into_cache(nbs, cache_dir, args.jobs)
    t1 = time.perf_counter()
    print(
        f"[book] {len(times)} notebooks executed in {t1 - t0:.1f} s wall "
        f"({sum(times.values()):.1f} s of notebook time, {args.jobs} at a time)",
        flush=True,
    )
    if failed:
        for path, err in failed.items():
            print(f"\n[book] {path} failed:\n{err}", file=sys.stderr)
        return 1
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(ROOT)]
    cmd += ["--config", str(cache_config(out, cache_dir))]
    if Path(args.path_output).resolve() != ROOT:
        cmd += ["--path-output", str(Path(args.path_output).resolve())]
    cmd += ["--warningiserror", "--keep-going", "--all"]
    r = subprocess.run(cmd, cwd=ROOT, check=False)
    print(f"[book] rendered in {time.perf_counter() - t1:.1f} s", flush=True)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
