"""The linear-stability census, version 2 (batched, with continuation) against the stored
version 1, network by network: per-grid-point agreement of every label, fixed-point counts,
and seconds per network.

For each stored network with a version-1 entry (the default networks of both trial regimes),
the version-2 census is computed (and cached in the store, unless ``--no-store``), and its
``grid`` table compared with version 1's, grid point by grid point. Prints one line per
network and a summary; ``--csv`` writes the per-network table.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/stability_versions.py [--limit N] [--csv FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.analysis import stability as sb  # noqa: E402
from lib.analysis.dynamics import leak_version  # noqa: E402
from lib.store.runs import Store  # noqa: E402

LABELS = ("has_stable_fp", "has_unstable_focus", "ns_candidate", "ns_strict")


def v1_params(run) -> dict:
    """The cache key's parameters of the stored version-1 entry (its config had no
    ``float32_search``)."""
    new = ("float32_search", "newton_steps", "adam_stride")
    cfg = {k: v for k, v in sb.StabilityConfig().to_dict().items() if k not in new}
    return {"stability": cfg, "version": leak_version("1", run.spec.network.alpha)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None, help="at most this many networks")
    p.add_argument("--csv", default=None, help="write the per-network table here")
    p.add_argument("--shard", default="0/1", help="K/N: only every N-th network from the K-th")
    p.add_argument("--no-store", action="store_true", help="compute without caching")
    p.add_argument(
        "--adam-stride", type=int, default=None, help="try another adam_stride (implies --no-store)"
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    st = Store()
    rows = []
    runs = [
        r
        for r in st.all_runs()
        if st.analysis_state(r, "stability", v1_params(r)).state == "complete"
    ]
    k, n = (int(v) for v in args.shard.split("/"))
    runs = runs[k::n]
    runs = runs[: args.limit] if args.limit else runs
    cfg = sb.StabilityConfig()
    if args.adam_stride is not None:
        cfg = dataclasses.replace(cfg, adam_stride=args.adam_stride)
        args.no_store = True
    for r in runs:
        old = st.cached_analysis(r, "stability", v1_params(r), lambda: {}, compute=False)["grid"]
        t0 = time.perf_counter()
        if args.no_store:
            new = sb.compute_stability(r, cfg)["grid"]
        else:
            new = sb.stability_census(r, sb.StabilityConfig(), st)["grid"]
        wall = time.perf_counter() - t0
        keys = ["context", "c1", "c2"]
        m = old.merge(new, on=keys, suffixes=("_v1", "_v2"))
        assert len(m) == len(old) == len(new), "the grids differ"
        row = {
            "run_id": r.path.name,
            "algorithm": r.spec.algorithm,
            "seed": r.spec.seed,
            "trials": r.spec.task.trials,
            "seconds_v2": wall,
            "seconds_v1": float(
                __import__("json")
                .loads((st.analysis_dir(r, "stability", v1_params(r)) / "meta.json").read_text())
                .get("wall_seconds", np.nan)
            ),
            "grid_points": len(m),
        }
        for c in LABELS:
            a, b = m[f"{c}_v1"].astype(bool), m[f"{c}_v2"].astype(bool)
            row[f"agree_{c}"] = float((a == b).mean())
            row[f"{c}_v1"], row[f"{c}_v2"] = float(a.mean()), float(b.mean())
        row["all_labels_agree"] = float(
            np.all(
                [m[f"{c}_v1"].astype(bool) == m[f"{c}_v2"].astype(bool) for c in LABELS], 0
            ).mean()
        )
        row["n_fixed_equal"] = float((m.n_fixed_v1 == m.n_fixed_v2).mean())
        row["n_fixed_more_v2"] = float((m.n_fixed_v2 > m.n_fixed_v1).mean())
        row["n_fixed_fewer_v2"] = float((m.n_fixed_v2 < m.n_fixed_v1).mean())
        row["n_stable_equal"] = float((m.n_stable_v1 == m.n_stable_v2).mean())
        rows.append(row)
        print(
            f"{r.path.name} {r.spec.algorithm:3s} seed {r.spec.seed} {r.spec.task.trials:10s} "
            f"v2 {wall:5.1f} s (v1 {row['seconds_v1']:5.0f} s)  all labels {row['all_labels_agree']:.3f}  "
            f"NS {row['ns_candidate_v1']:.3f}->{row['ns_candidate_v2']:.3f}  "
            f"stableFP {row['has_stable_fp_v1']:.3f}->{row['has_stable_fp_v2']:.3f}  "
            f"n_fixed = {row['n_fixed_equal']:.3f} (+{row['n_fixed_more_v2']:.3f} "
            f"-{row['n_fixed_fewer_v2']:.3f})",
            flush=True,
        )
    tab = pd.DataFrame(rows)
    if args.csv:
        tab.to_csv(args.csv, index=False)
    if len(tab):
        print(
            f"\n{len(tab)} networks; median seconds v2 {tab.seconds_v2.median():.1f}, "
            f"v1 {tab.seconds_v1.median():.0f} (ratio {tab.seconds_v1.median() / tab.seconds_v2.median():.0f}x)"
        )
        for c in (
            *[f"agree_{c}" for c in LABELS],
            "all_labels_agree",
            "n_fixed_equal",
            "n_stable_equal",
        ):
            print(f"  {c:26s} mean {tab[c].mean():.4f}  min {tab[c].min():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
