"""The stored orbit census recomputed on this machine: seconds per network here against the
stored ones, and per-grid-point agreement of the labels with the stored tables.

The stored censuses (version 3) were computed on other machines. Their float32 orbits follow
the machine's own GEMM kernels, so an orbit near a classification threshold (a quasi-periodic
orbit with a rotation number close to p/q, an exponent close to ``lyap_tol``) can be labelled
differently elsewhere. This script measures how often. Nothing is written to the store. The
networks are taken round-robin over (algorithm, trial regime, leak), as in
``census_versions.py``; run two shards at once to time them two at a time on 2 cores.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/census_here.py [--limit 48] [--shard K/N] [--csv FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from census_versions import _params, _seconds, round_robin  # noqa: E402

from lib.analysis import census as cz  # noqa: E402
from lib.store.environment import cpu_model  # noqa: E402
from lib.store.runs import Store  # noqa: E402


def _cpu(st: Store, run, cfg: cz.CensusConfig, version: str) -> str:
    meta = st.analysis_dir(run, "census", _params(run, cfg, version)) / "meta.json"
    return str(json.loads(meta.read_text()).get("provenance", {}).get("cpu", "unknown"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=48, help="at most this many networks")
    p.add_argument("--shard", default="0/1", help="K/N: only every N-th network from the K-th")
    p.add_argument("--csv", default=None, help="write the per-network table here")
    args = p.parse_args(argv)
    k, n = (int(v) for v in args.shard.split("/"))
    if not 0 <= k < n:
        p.error("--shard K/N needs 0 <= K < N")
    if args.limit < 1:
        p.error("--limit must be at least 1")
    torch.set_num_threads(1)
    st, cfg, v = Store(), cz.CensusConfig(), cz.CENSUS_VERSION
    runs = [
        r
        for r in st.all_runs()
        if st.analysis_state(r, "census", _params(r, cfg, v)).state == "complete"
    ]
    rows = []
    for r in round_robin(runs)[: args.limit][k::n]:
        old = cz.census(r, cfg, st, compute=False, version=v)["grid"]
        t0 = time.perf_counter()
        new = cz.compute_census(r, cfg, v)["grid"]
        wall = time.perf_counter() - t0
        row = {
            "run_id": r.path.name,
            "algorithm": r.spec.algorithm,
            "seed": r.spec.seed,
            "trials": r.spec.task.trials,
            "alpha": r.spec.network.alpha,
            "delta": r.spec.network.delta,
            "seconds_here": wall,
            "seconds_stored": _seconds(st, r, cfg, v),
            "cpu_here": cpu_model(),
            "cpu_stored": _cpu(st, r, cfg, v),
            **cz.compare_censuses(old, new),
        }
        rows.append(row)
        print(
            f"{r.path.name} {r.spec.algorithm:3s} seed {r.spec.seed:2d} {r.spec.task.trials:10s} "
            f"alpha {r.spec.network.alpha:4.2f}  here {wall:5.1f} s (stored "
            f"{row['seconds_stored']:5.1f} s)  category {row['agree_category']:.3f}  "
            f"n_fixed {row['n_fixed_equal']:.3f}  QP {row['qp_fraction_old']:.4f}->"
            f"{row['qp_fraction_new']:.4f}",
            flush=True,
        )
    tab = pd.DataFrame(rows)
    if args.csv:
        tab.to_csv(args.csv, index=False)
    if len(tab):
        dqp = (tab.qp_fraction_new - tab.qp_fraction_old).abs()
        print(
            f"\n{len(tab)} networks; median seconds here {tab.seconds_here.median():.1f}, "
            f"stored {tab.seconds_stored.median():.1f}; identical grids "
            f"{int((tab.agree_category == 1).sum())}/{len(tab)}; |QP fraction change| max "
            f"{dqp.max():.4f}"
        )
        for c in ("agree_category", "agree_kinds", "agree_has_qp", "n_fixed_equal"):
            print(f"  {c:16s} mean {tab[c].mean():.4f}  min {tab[c].min():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
