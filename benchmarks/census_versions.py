"""The orbit census, version 3 (float32, settled orbits stopped exactly, one attractor
followed once) against the stored version 2, network by network: per-grid-point agreement of
the display category, of the kinds present and of the fixed-point count, and seconds per
network.

For each stored network with a version-2 census of the given grid (the chapters' 21 × 21 by
default), version 3 is computed (and cached in the store under its own key, unless
``--no-store``) and its ``grid`` table compared with version 2's point by point. The networks
are taken round-robin over (algorithm, trial regime, leak), so that the first ones cover every
kind. Prints one line per network and a summary; ``--csv`` writes the per-network table.
Resumable: networks whose version-3 entry is stored are read, not recomputed (their seconds
are the stored ones). ``--entries other`` does the same for every other stored version-2
census (the checkpoints' and the 10× horizon's), each under its own settings.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/census_versions.py [--limit N] [--shard K/N] [--csv FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.analysis import census as cz  # noqa: E402
from lib.analysis.dynamics import leak_version  # noqa: E402
from lib.store.runs import Store  # noqa: E402


def _params(run, cfg: cz.CensusConfig, version: str) -> dict:
    return {"census": cfg.to_dict(), "version": leak_version(version, run.spec.network.alpha)}


def _seconds(st: Store, run, cfg: cz.CensusConfig, version: str) -> float:
    meta = st.analysis_dir(run, "census", _params(run, cfg, version)) / "meta.json"
    return float(json.loads(meta.read_text()).get("wall_seconds", np.nan))


def _config(d: dict) -> cz.CensusConfig:
    """The :class:`CensusConfig` of a stored entry's parameters."""
    d = dict(d)
    return cz.CensusConfig(**{**d, "orbit": cz.OrbitConfig(**d["orbit"])})


def other_entries(st: Store) -> list[tuple]:
    """``(run or checkpoint view, CensusConfig)`` of every stored version-2 census that is not
    the default one of a trained network, in store order."""
    out = []
    runs = {r.path.name: r for r in st.all_runs()}
    default = cz.CensusConfig().to_dict()
    for meta in sorted((st.root / "analyses").glob("*/census-*/meta.json")):
        m = json.loads(meta.read_text())
        run = runs.get(m.get("run_id"))
        params = m.get("params", {})
        if run is None or params.get("version") != leak_version("2", run.spec.network.alpha):
            continue
        if m.get("checkpoint") is None and params["census"] == default:
            continue
        view = run.at_checkpoint(m["checkpoint"]) if m.get("checkpoint") else run
        out.append((view, _config(params["census"])))
    return out


def round_robin(runs: list) -> list:
    """``runs`` interleaved over (algorithm, trial regime, leak), each group in store order."""
    groups: dict[tuple, list] = {}
    for r in runs:
        key = (r.spec.algorithm, r.spec.task.trials, r.spec.network.alpha != 1.0)
        groups.setdefault(key, []).append(r)
    out, lists = [], [groups[k] for k in sorted(groups)]
    for i in range(max((len(v) for v in lists), default=0)):
        out += [v[i] for v in lists if i < len(v)]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None, help="at most this many networks")
    p.add_argument("--csv", default=None, help="write the per-network table here")
    p.add_argument("--shard", default="0/1", help="K/N: only every N-th network from the K-th")
    p.add_argument("--grid", type=int, default=21, help="census grid (21: the chapters')")
    p.add_argument("--no-store", action="store_true", help="compute without caching")
    p.add_argument(
        "--entries",
        choices=("default", "other"),
        default="default",
        help="default: the chapters' census of every network; other: every other stored one",
    )
    p.add_argument(
        "--reverse", action="store_true", help="last first (a second process on the same shard)"
    )
    args = p.parse_args(argv)
    k, n = (int(v) for v in args.shard.split("/"))
    if not 0 <= k < n:
        p.error("--shard K/N needs 0 <= K < N")
    torch.set_num_threads(1)
    st = Store()
    if args.entries == "other":
        todo = other_entries(st)
    else:
        cfg = cz.CensusConfig(grid=args.grid)
        runs = [
            r
            for r in st.all_runs()
            if st.analysis_state(r, "census", _params(r, cfg, "2")).state == "complete"
        ]
        todo = [(r, cfg) for r in round_robin(runs)]
    todo = (todo[: args.limit] if args.limit else todo)[k::n]
    todo = todo[::-1] if args.reverse else todo
    rows = []
    for r, cfg in todo:
        old_tabs = cz.census(r, cfg, st, compute=False, version="2")
        old = old_tabs["grid"]
        stored = st.analysis_state(r, "census", _params(r, cfg, "3")).state == "complete"
        t0 = time.perf_counter()
        if args.no_store:
            new = cz.compute_census(r, cfg, "3")["grid"]
        else:
            new = cz.census(r, cfg, st, version="3")["grid"]
        wall = _seconds(st, r, cfg, "3") if stored else time.perf_counter() - t0
        row = {
            "run_id": r.path.name,
            "checkpoint": r.checkpoint,
            "grid": cfg.grid,
            "n_record": cfg.orbit.n_record,
            "algorithm": r.spec.algorithm,
            "seed": r.spec.seed,
            "trials": r.spec.task.trials,
            "alpha": r.spec.network.alpha,
            "delta": r.spec.network.delta,
            "seconds_v3": wall,
            "seconds_v2": _seconds(st, r, cfg, "2"),
            **{
                k.replace("_old", "_v2").replace("_new", "_v3"): v
                for k, v in cz.compare_censuses(old, new).items()
            },
            "split_verdicts_v2": cz.split_verdicts(old_tabs["attractors"]),
        }
        rows.append(row)
        print(
            f"{r.path.name} {r.checkpoint or '':>9s} {r.spec.algorithm:3s} seed {r.spec.seed:2d} "
            f"{r.spec.task.trials:10s} grid {cfg.grid} T {cfg.orbit.n_record} "
            f"alpha {r.spec.network.alpha:4.2f}  v3 {wall:5.1f} s (v2 {row['seconds_v2']:5.0f} s)  "
            f"category {row['agree_category']:.3f}  kinds {row['agree_kinds']:.3f}  "
            f"n_fixed {row['n_fixed_equal']:.3f}  QP {row['qp_fraction_v2']:.3f}->"
            f"{row['qp_fraction_v3']:.3f}",
            flush=True,
        )
    tab = pd.DataFrame(rows)
    if args.csv:
        tab.to_csv(args.csv, index=False)
    if len(tab):
        print(
            f"\n{len(tab)} networks; median seconds v3 {tab.seconds_v3.median():.1f}, "
            f"v2 {tab.seconds_v2.median():.0f} (stored)"
        )
        for c in ("agree_category", "agree_kinds", "agree_has_qp", "n_fixed_equal"):
            print(f"  {c:16s} mean {tab[c].mean():.4f}  min {tab[c].min():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
