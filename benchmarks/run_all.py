"""Speed figures of the companion, printed as numbers and ratios (never asserted).

Foundation (250 units, this machine's cores):
  * PPO environment steps per second: rollout only (env + policy) and end-to-end training;
  * time to criterion for PPO and SL, median of 3 seeds (seeds 100-102, not the stored runs);
  * the same task in NeuroGym 1.0.8 with stable-baselines3's RecurrentPPO, installed into
    ``benchmarks/.venv-sb3`` by this script (never into requirements.txt): ratio of env steps/s.
Dynamics:
  * the census of one stored 250-unit network (2 contexts x 21 x 21 x 5 initial states,
    2,000 recorded steps with 3 exponents);
  * exact ReLU fixed points against Golub-style batched Adam from 1,000 starts: time to
    residual q < 1e-12 and how many fixed points each finds.

Usage: ``python benchmarks/run_all.py [--quick] [--skip-sb3] [--only foundation|dynamics]``.
Results also go to ``benchmarks/results/*.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from lib.census import CensusConfig, compute_census, initial_states, network_arrays, stimulus_inputs  # noqa: E402
from lib.dynamics import adam_fixed_points, relu_fixed_points  # noqa: E402
from lib.network import RNN, NetworkConfig  # noqa: E402
from lib.ppo import PPOConfig, train_ppo  # noqa: E402
from lib.store import RunSpec, Store  # noqa: E402
from lib.supervised import SLConfig, train_supervised  # noqa: E402
from lib.task import CtxDMEnv, TaskConfig  # noqa: E402


def rollout_steps_per_s(hidden: int, n_envs: int = 256, steps: int = 300) -> float:
    """Env steps per second of the batched rollout (env.step + RNN step + sampling)."""
    task = TaskConfig()
    net = RNN(NetworkConfig(hidden=hidden), generator=torch.Generator().manual_seed(0))
    env = CtxDMEnv(task, n_envs, seed=0)
    g = torch.Generator().manual_seed(1)
    obs = env.reset()
    h = torch.zeros(n_envs, hidden)
    first = torch.ones(n_envs, dtype=torch.bool)
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(steps):
            h = net.step(h * (~first).unsqueeze(1).float(), torch.addmm(net.b, obs, net.W_in.t()))
            p = torch.softmax(net.policy(h), -1)
            a = torch.multinomial(p, 1, generator=g).squeeze(1)
            net.value(h)
            obs, _, first, _ = env.step(a)
        wall = time.perf_counter() - t0
    return n_envs * steps / wall


def training_steps_per_s(hidden: int, max_trials: int) -> dict:
    """End-to-end PPO env steps per second over a fixed budget (criterion out of reach)."""
    cfg = PPOConfig(max_trials=max_trials, criterion_fraction=1.0, eval_every=10**6)
    r = train_ppo(TaskConfig(), NetworkConfig(hidden=hidden), cfg, seed=100, progress=False)
    return {
        "env_steps": r.steps_seen,
        "wall_s": r.wall_seconds,
        "steps_per_s": r.steps_seen / r.wall_seconds,
    }


def time_to_criterion(alg: str, hidden: int, seeds: list[int]) -> dict:
    rows = []
    for s in seeds:
        if alg == "ppo":
            r = train_ppo(
                TaskConfig(), NetworkConfig(hidden=hidden), PPOConfig(), seed=s, progress=False
            )
        else:
            r = train_supervised(
                TaskConfig(), NetworkConfig(hidden=hidden), SLConfig(), seed=s, progress=False
            )
        rows.append(
            {
                "seed": s,
                "wall_s": r.wall_seconds,
                "converged": r.converged,
                "trials_to_criterion": r.trials_to_criterion,
                "final_accuracy": r.final_accuracy,
            }
        )
        print(
            f"    {alg} seed {s}: {r.wall_seconds:7.1f} s, converged={r.converged}, trials={r.trials_to_criterion}",
            flush=True,
        )
    return {"runs": rows, "median_wall_s": statistics.median(x["wall_s"] for x in rows)}


def sb3_steps_per_s(steps: int, threads: int) -> dict:
    """Install (once) and run the stable-baselines3 + NeuroGym comparison in its own venv."""
    venv = HERE / ".venv-sb3"
    py = venv / "bin" / "python"
    if not py.exists():
        print(
            "    creating benchmarks/.venv-sb3 (torch 2.13.0 CPU, neurogym 1.0.8, sb3, sb3-contrib) ...",
            flush=True,
        )
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "-r", str(HERE / "sb3_requirements.txt")],
            check=True,
        )
    out = subprocess.run(
        [str(py), str(HERE / "sb3_neurogym.py"), "--steps", str(steps), "--threads", str(threads)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def stored_run(alg: str) -> object:
    return Store().load(RunSpec(alg, 0))


def census_time(alg: str, quick: bool) -> dict:
    run = stored_run(alg)
    cfg = CensusConfig(grid=5) if quick else CensusConfig()
    t0 = time.perf_counter()
    res = compute_census(run, cfg)
    wall = time.perf_counter() - t0
    n_orbits = 2 * cfg.grid**2 * (cfg.n_trial_states + 2)
    return {
        "algorithm": alg,
        "wall_s": wall,
        "grid": cfg.grid,
        "orbits": n_orbits,
        "record_steps": cfg.orbit.n_record,
        "qp_fraction": float(res["grid"].has_qp.mean()),
    }


def fixed_points_race(alg: str, n_starts: int, max_iters: int) -> dict:
    """Exact ReLU fixed points vs Golub-style Adam on the delay-period map of a stored net."""
    run = stored_run(alg)
    A = network_arrays(run)
    W = A["W_rec"]
    c = (stimulus_inputs(0, [0.0], [0.0], "delay") @ A["W_in"].T + A["b"])[0]
    rng = np.random.default_rng(0)
    H0 = initial_states(run, 0, 8, 2024)
    starts = np.concatenate(
        [H0, rng.uniform(0, 2 * np.abs(c).max(), size=(n_starts - len(H0), W.shape[0]))]
    )
    t0 = time.perf_counter()
    hA, q, iters = adam_fixed_points(W, c, starts, lr=1e-2, max_iters=max_iters, q_tol=1e-12)
    t_adam = time.perf_counter() - t0
    ok = q < 1e-12
    found_adam = hA[ok]
    uniq = []
    for h in found_adam:
        if not any(np.linalg.norm(h - u) <= 1e-5 * (1 + np.linalg.norm(u)) for u in uniq):
            uniq.append(h)
    t0 = time.perf_counter()
    fps = relu_fixed_points(W, c, candidates=starts, n_starts=0)
    t_exact = time.perf_counter() - t0
    return {
        "algorithm": alg,
        "adam_wall_s": t_adam,
        "adam_iterations": iters,
        "adam_converged_starts": int(ok.sum()),
        "adam_distinct_fixed_points": len(uniq),
        "exact_wall_s": t_exact,
        "exact_fixed_points": len(fps),
        "exact_max_q": float(0.5 * np.max(fps.residual) ** 2) if len(fps) else float("nan"),
        "exact_stable": int(fps.stable.sum()),
        "speedup": t_adam / t_exact,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny budgets, a sanity check in seconds")
    ap.add_argument("--skip-sb3", action="store_true")
    ap.add_argument("--only", choices=["foundation", "dynamics"], default=None)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    hidden = 64 if a.quick else 250
    seeds = [100] if a.quick else [100, 101, 102]
    (HERE / "results").mkdir(exist_ok=True)
    machine = {
        "cpu_count": os.cpu_count(),
        "torch_threads": a.threads,
        "platform": platform.platform(),
        "torch": torch.__version__,
    }
    print(f"machine: {machine}")

    if a.only in (None, "foundation"):
        print("== foundation ==", flush=True)
        res: dict = {"machine": machine, "hidden": hidden}
        res["rollout_steps_per_s"] = rollout_steps_per_s(hidden)
        print(
            f"  PPO rollout (env + policy), 256 envs: {res['rollout_steps_per_s']:,.0f} env steps/s",
            flush=True,
        )
        res["training"] = training_steps_per_s(hidden, 2_000 if a.quick else 20_000)
        print(
            f"  PPO end-to-end training: {res['training']['steps_per_s']:,.0f} env steps/s",
            flush=True,
        )
        print("  time to criterion:", flush=True)
        res["ppo_to_criterion"] = time_to_criterion("ppo", hidden, seeds)
        res["sl_to_criterion"] = time_to_criterion("sl", hidden, seeds)
        print(
            f"  PPO median {res['ppo_to_criterion']['median_wall_s']:.1f} s (target <= 180 s); SL median {res['sl_to_criterion']['median_wall_s']:.1f} s (target <= 60 s)"
        )
        if not a.skip_sb3:
            sb3 = sb3_steps_per_s(2048 if a.quick else 20480, a.threads)
            res["sb3"] = sb3
            ratio = res["training"]["steps_per_s"] / sb3["steps_per_s"]
            res["ratio_training_vs_sb3"] = ratio
            res["ratio_rollout_vs_sb3"] = res["rollout_steps_per_s"] / sb3["steps_per_s"]
            print(
                f"  SB3 RecurrentPPO + NeuroGym {sb3['neurogym']} (LSTM {sb3['lstm_hidden']}, {sb3['n_envs']} envs): "
                f"{sb3['steps_per_s']:,.0f} env steps/s while learning"
            )
            print(
                f"  ratio ours/SB3: training {ratio:.1f}x, rollout {res['ratio_rollout_vs_sb3']:.1f}x (target >= 20x)"
            )
        (HERE / "results" / "foundation.json").write_text(json.dumps(res, indent=1))

    if a.only in (None, "dynamics"):
        print("== dynamics ==", flush=True)
        res = {"machine": machine}
        res["census"] = [census_time(alg, a.quick) for alg in ("ppo", "sl")]
        for c in res["census"]:
            print(
                f"  census {c['algorithm']} seed 0: {c['wall_s']:.1f} s for {c['orbits']} orbits, grid {c['grid']}x{c['grid']}x2 (target <= 60 s)"
            )
        res["fixed_points"] = [
            fixed_points_race(alg, 100 if a.quick else 1000, 2000 if a.quick else 20000)
            for alg in ("ppo", "sl")
        ]
        for f in res["fixed_points"]:
            print(
                f"  fixed points {f['algorithm']}: exact {f['exact_wall_s']:.2f} s ({f['exact_fixed_points']} found, max q {f['exact_max_q']:.1e}); "
                f"Adam {f['adam_wall_s']:.1f} s, {f['adam_iterations']} iterations, {f['adam_converged_starts']} starts at q<1e-12, "
                f"{f['adam_distinct_fixed_points']} distinct; speed-up {f['speedup']:.0f}x (target >= 50x)"
            )
        (HERE / "results" / "dynamics.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
