"""``make bench`` of two code revisions side by side, in one run (numbers and ratios only).

Each revision is checked out into a temporary git worktree and ``benchmarks/run_all.py`` runs
there (``--quick --skip-sb3`` by default) against this checkout's ``data/`` store, alternating
between the two revisions ``--repeat`` times, so that a machine shared with other work slows
both alike. The median of each figure per revision and the ratio new / old are printed
(> 1: the new revision takes longer, for times; for rates the ratio is old / new, so > 1
always means slower).

Usage (from the repository root)::

    .venv/bin/python benchmarks/compare_revisions.py OLD_REV [NEW_REV] [--repeat 3] [--full]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: (file stem, path in its JSON, label, kind): "time" (lower is better) or "rate" (higher).
FIGURES = [
    ("foundation", ("rollout", "rollout_steps_per_s"), "PPO rollout, env steps/s", "rate"),
    ("foundation", ("training", "steps_per_s"), "PPO end to end, env steps/s", "rate"),
    ("foundation", ("sl_batches", "continuous_steps_per_s"), "SL stream windows, steps/s", "rate"),
    ("foundation", ("ppo_to_criterion", "median_wall_s"), "PPO training run, s", "time"),
    ("foundation", ("sl_to_criterion", "median_wall_s"), "SL training run, s", "time"),
    ("dynamics", ("census", 0, "wall_s"), "census PPO seed 0, s", "time"),
    ("dynamics", ("census", 1, "wall_s"), "census SL seed 0, s", "time"),
    (
        "dynamics",
        ("census", 1, "reference_float64_simulation_s"),
        "plain float64 simulation of SL seed 0's census orbits, s",
        "time",
    ),
    ("dynamics", ("stability", 0, "wall_s"), "linear-stability census PPO seed 0, s", "time"),
    ("dynamics", ("stability", 1, "wall_s"), "linear-stability census SL seed 0, s", "time"),
    ("dynamics", ("fixed_points", 0, "exact_wall_s"), "exact fixed points PPO, s", "time"),
    ("analyses", ("runs", 0, "total_s"), "populations + robustness + MI PPO, s", "time"),
    ("analyses", ("runs", 1, "total_s"), "populations + robustness + MI SL, s", "time"),
    ("book", ("total_s",), "every chapter executed in book mode, s", "time"),
]


def _get(d: object, path: tuple) -> float:
    for k in path:
        d = d[k]  # type: ignore[index]
    return float(d)  # type: ignore[arg-type]


def run_once(tree: Path, quick: bool) -> dict[str, float]:
    """One ``run_all.py`` in worktree ``tree``; its figures."""
    env = {**os.environ, "PYTHONPATH": str(tree), "CTXDM_DATA": str(ROOT / "data")}
    args = [sys.executable, str(tree / "benchmarks" / "run_all.py"), "--skip-sb3"]
    args += ["--quick"] if quick else []
    subprocess.run(args, cwd=tree, env=env, check=True, capture_output=True)
    suffix = "-quick" if quick else ""
    out = {}
    for stem, path, label, _ in FIGURES:
        f = tree / "benchmarks" / "results" / f"{stem}{suffix}.json"
        try:
            out[label] = _get(json.loads(f.read_text()), path)
        except (FileNotFoundError, KeyError, IndexError, TypeError):
            out[label] = float("nan")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new", nargs="?", default="HEAD")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="the full benchmark, not --quick")
    a = ap.parse_args()
    if a.repeat < 1:
        sys.exit("--repeat must be >= 1")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for name, rev in (("old", a.old), ("new", a.new)):
            trees[name] = Path(tmp) / name
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(trees[name]), rev],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        try:
            res: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
            for i in range(a.repeat):
                for name in ("old", "new") if i % 2 == 0 else ("new", "old"):
                    print(f"run {i + 1}/{a.repeat}: {name}", file=sys.stderr)
                    res[name].append(run_once(trees[name], not a.full))
        finally:
            for t in trees.values():
                subprocess.run(["git", "worktree", "remove", "--force", str(t)], cwd=ROOT)
    print(f"{'figure':42s} {a.old[:12]:>12s} {a.new[:12]:>12s}  slower by")
    for _, _, label, kind in FIGURES:
        old = statistics.median(r[label] for r in res["old"])
        new = statistics.median(r[label] for r in res["new"])
        ratio = new / old if kind == "time" else old / new
        print(f"{label:42s} {old:12.4g} {new:12.4g}  {ratio:8.2f}x")
    print(f"(medians of {a.repeat} runs each, alternating; ratio > 1: the new revision is slower)")


if __name__ == "__main__":
    main()
