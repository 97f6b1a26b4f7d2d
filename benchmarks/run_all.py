"""Speed figures of the companion, printed as numbers and ratios (never asserted).

Foundation (250 units, 1 torch thread by default, the store's default; end to end also on 2):

1. PPO environment steps per second of :func:`lib.train.ppo.train_ppo`: *rollout only* (batched
   :class:`lib.core.task.CtxDMEnv` step + :class:`lib.core.network.RNN` policy step, no update) and
   *end to end* (rollouts + PPO updates over a fixed budget, criterion out of reach);
2. time to criterion of PPO and SL with their default configurations, per seed and the
   median over seeds 100, 101, 102 (not the seeds of the stored runs);
3. the usual alternative on the same task: NeuroGym 1.0.8's ``ContextDecisionMaking-v0`` with
   sb3-contrib's ``RecurrentPPO`` (``MlpLstmPolicy``), run by ``benchmarks/sb3_neurogym.py``
   inside ``benchmarks/.venv-sb3``, a virtual environment this script creates and fills from
   ``benchmarks/sb3_requirements.txt`` (never the project's requirements). Two SB3 set-ups
   are timed: ``matched`` (the companion's PPO schedule, one shared LSTM core) and
   ``defaults`` (RecurrentPPO out of the box); ours/SB3 ratios are printed for both.

Dynamics (``--only dynamics``; needs the stored runs):

* the census of one stored 250-unit network (2 contexts x 21 x 21 x 5 initial states,
  2,000 recorded steps with 3 exponents);
* exact ReLU fixed points against Golub-style batched Adam from 1,000 starts: time to
  residual q < 1e-12 and how many fixed points each finds.

Book (``--only book``; needs the stored runs): every chapter executed once in book mode, seconds
per chapter and its slowest cells.

Usage::

    python benchmarks/run_all.py [--quick] [--skip-sb3] [--seeds N] [--threads T]
                                 [--only foundation|dynamics|analyses|book]

Tables go to stdout; the same numbers to ``benchmarks/results/foundation.json`` and
``benchmarks/results/dynamics.json`` (git-ignored; ``--quick`` writes ``*-quick.json``).
The machine may be shared: the load average before and after is recorded with the numbers.
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
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lib.core.network import RNN, NetworkConfig  # noqa: E402
from lib.core.task import (  # noqa: E402
    N_ACTIONS,
    CtxDMEnv,
    TaskConfig,
    TrialStreamer,
    sample_trials,
)
from lib.store.environment import torch_threads  # noqa: E402
from lib.train.ppo import PPOConfig, train_ppo  # noqa: E402
from lib.train.supervised import SLConfig, train_supervised  # noqa: E402

SB3_VENV = HERE / ".venv-sb3"
SB3_REQUIREMENTS = HERE / "sb3_requirements.txt"
SB3_SCRIPT = HERE / "sb3_neurogym.py"
NEUROGYM_WANTED = "1.0.8"
#: Tried in order when ``neurogym==1.0.8`` cannot be installed.
NEUROGYM_FALLBACKS = ("neurogym>=1.0,<1.1", "neurogym<2", "neurogym")
TARGETS = {"ppo_median_s": 180.0, "sl_median_s": 60.0, "ratio_vs_sb3": 20.0}


# ---- 1. environment steps per second -----------------------------------------------------
def rollout_rate(hidden: int, n_envs: int, steps: int, repeats: int = 3) -> dict[str, Any]:
    """Env steps/s of the batched rollout, without any update.

    The loop is the rollout of :func:`lib.train.ppo.train_ppo`: state reset where a trial starts,
    one RNN step, policy logits, a sampled action, the value head, ``env.step``. Also timed:
    ``env.step`` alone with uniformly random actions. Each figure is the median of
    ``repeats`` timings of ``steps`` vector steps.
    """
    task = TaskConfig()
    net = RNN(NetworkConfig(hidden=hidden), generator=torch.Generator().manual_seed(0))
    env = CtxDMEnv(task, n_envs, seed=0)
    g = torch.Generator().manual_seed(1)
    obs = env.reset()
    h = torch.zeros(n_envs, hidden)
    first = torch.ones(n_envs, dtype=torch.bool)

    def policy_and_env(n: int) -> None:
        nonlocal obs, h, first
        for _ in range(n):
            h = net.step(h * (~first).unsqueeze(1).float(), torch.addmm(net.b, obs, net.W_in.t()))
            p = torch.softmax(net.policy(h), -1)
            a = torch.multinomial(p, 1, generator=g).squeeze(1)
            net.value(h)
            obs, _, first, _ = env.step(a)

    def env_only(n: int) -> None:
        for _ in range(n):
            env.step(torch.randint(N_ACTIONS, (n_envs,), generator=g))

    out: dict[str, Any] = {"n_envs": n_envs, "vector_steps": steps, "repeats": repeats}
    with torch.no_grad():
        for name, fn in (("rollout", policy_and_env), ("env_only", env_only)):
            fn(10)  # warm-up
            rates = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn(steps)
                rates.append(n_envs * steps / (time.perf_counter() - t0))
            out[f"{name}_steps_per_s"] = statistics.median(rates)
            out[f"{name}_all"] = rates
    return out


def batch_rate(batch: int, window: int, repeats: int = 5, batches: int = 50) -> dict[str, Any]:
    """Trial steps/s of the supervised batches, without the network.

    ``reset``: :func:`lib.core.task.sample_trials` of ``batch`` fresh trials (padded steps
    counted too, as the loss masks them). ``continuous``: :class:`lib.core.task.TrialStreamer`
    windows of ``window`` steps from ``batch`` streams, what :func:`train_supervised` draws in
    the continuous regime. Each figure is the median of ``repeats`` timings of ``batches``
    batches.
    """
    out: dict[str, Any] = {"batch": batch, "window": window, "batches": batches}
    cont = TaskConfig(trials="continuous")
    g = torch.Generator().manual_seed(0)
    streamer = TrialStreamer(cont, batch, g)

    def reset() -> int:
        return int(sample_trials(TaskConfig(), batch, g).mask.numel())

    def continuous() -> int:
        return int(streamer.window(window)["targets"].numel())

    for name, fn in (("reset", reset), ("continuous", continuous)):
        fn()  # warm-up
        rates = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            n = sum(fn() for _ in range(batches))
            rates.append(n / (time.perf_counter() - t0))
        out[f"{name}_steps_per_s"] = statistics.median(rates)
        out[f"{name}_all"] = rates
    return out


def training_rate(hidden: int, max_trials: int, seed: int = 100) -> dict[str, Any]:
    """End-to-end env steps/s of :func:`lib.train.ppo.train_ppo` over a fixed budget.

    Default :class:`PPOConfig` but ``max_trials`` (the budget), ``eval_every`` beyond the
    budget (a single evaluation, at the end) and ``criterion_fraction=1`` so the run cannot
    stop early. The wall time is :attr:`TrainResult.wall_seconds` (set-up and the final
    5,000-trial evaluation excluded; the one in-training evaluation included).
    """
    cfg = PPOConfig(max_trials=max_trials, eval_every=10**6, criterion_fraction=1.0)
    r = train_ppo(TaskConfig(), NetworkConfig(hidden=hidden), cfg, seed=seed, progress=False)
    updates = r.steps_seen // (cfg.n_envs * cfg.n_steps)
    return {
        "seed": seed,
        "max_trials": max_trials,
        "updates": updates,
        "env_steps": r.steps_seen,
        "trials": r.trials_seen,
        "wall_s": r.wall_seconds,
        "steps_per_s": r.steps_seen / r.wall_seconds,
        "s_per_update": r.wall_seconds / max(updates, 1),
    }


def gemm_rate(rows: int, hidden: int, repeats: int = 200) -> float:
    """Measured FLOP/s of ``[rows, hidden] @ [hidden, hidden]`` in float32 (the recurrence's
    shape), on the current torch threads; median of 5 timings of ``repeats`` products."""
    a, w = torch.randn(rows, hidden), torch.randn(hidden, hidden)
    for _ in range(10):
        a @ w
    rates = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeats):
            a @ w
        rates.append(2 * rows * hidden * hidden * repeats / (time.perf_counter() - t0))
    return statistics.median(rates)


def ppo_roofline(hidden: int, s_per_update: float) -> dict[str, Any]:
    """PPO's update cycle against the matmul FLOP/s of its own shapes.

    One cycle's recurrent products: the rollout (``n_steps`` GEMMs of ``n_envs`` rows) and,
    per epoch and minibatch, the replay's forward and its backward (two products per step:
    the state's gradient and the weights'), of ``n_envs / n_minibatches`` rows. Their time at
    the measured FLOP/s of those shapes is the floor; ``fraction`` = floor / measured
    ``s_per_update``. The heads, the input drive and the environment are left out of the
    floor (a few % of the FLOPs), so the fraction is an upper bound on what the recurrence
    alone could reach.
    """
    c = PPOConfig()
    mb = c.n_envs // c.n_minibatches
    r_roll, r_mb = gemm_rate(c.n_envs, hidden), gemm_rate(mb, hidden)
    per_step = 2 * hidden * hidden
    roll = c.n_steps * c.n_envs * per_step
    upd = c.n_epochs * c.n_envs * c.n_steps * 3 * per_step
    floor = roll / r_roll + upd / r_mb
    return {
        "gflop_per_update": (roll + upd) / 1e9,
        "gemm_gflops_rollout": r_roll / 1e9,
        "gemm_gflops_minibatch": r_mb / 1e9,
        "floor_s_per_update": floor,
        "s_per_update": s_per_update,
        "fraction": floor / s_per_update,
    }


# ---- 2. time to criterion ------------------------------------------------------------------
def time_to_criterion(
    alg: str, hidden: int, seeds: list[int], max_trials: int | None = None
) -> dict[str, Any]:
    """Train one network per seed with the default configuration of ``alg`` ("ppo"/"sl").

    ``max_trials`` overrides the budget (``--quick`` only). Prints each run as it ends.
    """
    rows = []
    for s in seeds:
        budget = {} if max_trials is None else {"max_trials": max_trials}
        net_cfg = NetworkConfig(hidden=hidden)
        if alg == "ppo":
            r = train_ppo(TaskConfig(), net_cfg, PPOConfig(**budget), seed=s, progress=False)
        else:
            r = train_supervised(TaskConfig(), net_cfg, SLConfig(**budget), seed=s, progress=False)
        row = {
            "seed": s,
            "wall_s": r.wall_seconds,
            "converged": r.converged,
            "trials_to_criterion": r.trials_to_criterion,
            "trials_seen": r.trials_seen,
            "steps_seen": r.steps_seen,
            "steps_per_s": r.steps_seen / r.wall_seconds,
            "criterion": r.criterion,
            "final_accuracy": r.final_accuracy,
        }
        rows.append(row)
        print(
            f"    {alg.upper():3s} seed {s}: {r.wall_seconds:7.1f} s  "
            f"converged={r.converged!s:5s}  "
            f"trials to criterion={r.trials_to_criterion}  final accuracy={r.final_accuracy:.3f}",
            flush=True,
        )
    return {
        "algorithm": alg,
        "seeds": seeds,
        "max_trials": max_trials,
        "runs": rows,
        "median_wall_s": statistics.median(x["wall_s"] for x in rows),
        "n_converged": sum(bool(x["converged"]) for x in rows),
    }


# ---- 3. the usual alternative: NeuroGym + stable-baselines3 --------------------------------
def _rel(p: Path) -> str:
    """``p`` relative to the repository root where it lies inside it."""
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def _pip(py: Path, args: list[str], log: Path) -> bool:
    """``py -m pip install -q ARGS``, output appended to ``log``; True on success."""
    cmd = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
        f.write(f"[exit {rc}]\n")
    return rc == 0


def _requirements() -> tuple[str, list[str]]:
    """The torch pin and the other pins of ``sb3_requirements.txt``."""
    lines = [
        ln.split("#")[0].strip() for ln in SB3_REQUIREMENTS.read_text().splitlines() if ln.strip()
    ]
    lines = [ln for ln in lines if ln]
    torch_pin = next((ln for ln in lines if ln.replace(" ", "").startswith("torch==")), None)
    if torch_pin is None:
        raise RuntimeError(f"{SB3_REQUIREMENTS} must pin torch (torch==...)")
    return torch_pin, [ln for ln in lines if ln != torch_pin]


def ensure_sb3_venv(venv: Path = SB3_VENV) -> dict[str, Any]:
    """Create ``venv`` and install the comparison's packages once; return the install record.

    torch is installed first, alone and pinned, so that the later installs cannot pull
    another (e.g. CUDA) build. If ``neurogym==1.0.8`` cannot be installed, the nearest
    installable version is tried (:data:`NEUROGYM_FALLBACKS`) and the record says so. The
    record is kept in ``venv/benchmark-install.json``; delete the folder to reinstall.
    """
    record_file = venv / "benchmark-install.json"
    py = venv / "bin" / "python"
    if record_file.exists() and py.exists():
        return json.loads(record_file.read_text())
    torch_pin, pins = _requirements()
    print(f"    setting up {_rel(venv)} (pip log: {_rel(venv / 'benchmark-install.log')}) ...")
    sys.stdout.flush()
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log = venv / "benchmark-install.log"
    log.write_text("")
    if not _pip(py, [torch_pin], log):
        raise RuntimeError(f"could not install {torch_pin} into {venv}; see {log}")
    record: dict[str, Any] = {"neurogym_requested": NEUROGYM_WANTED, "fallback": None}
    if not _pip(py, [torch_pin, *pins], log):
        others = [p for p in pins if not p.replace(" ", "").startswith("neurogym")]
        for spec in NEUROGYM_FALLBACKS:
            # unpin the SB3 stack too: a fallback neurogym may need other versions of it
            loose = [p.split("==")[0] for p in others]
            if _pip(py, [torch_pin, spec, *loose], log):
                record["fallback"] = spec
                break
        else:
            raise RuntimeError(f"no installable neurogym found; see {log}")
    record_file.write_text(json.dumps(record, indent=1))
    return record


def run_sb3(
    preset: str, steps: int, hidden: int, n_envs: int, threads: int, rollout_steps: int
) -> dict[str, Any]:
    """Run ``sb3_neurogym.py`` in the SB3 environment and return its JSON line."""
    cmd = [
        str(SB3_VENV / "bin" / "python"),
        str(SB3_SCRIPT),
        f"--preset={preset}",
        f"--steps={steps}",
        f"--hidden={hidden}",
        f"--n-envs={n_envs}",
        f"--threads={threads}",
        f"--rollout-steps={rollout_steps}",
    ]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONPATH", None)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError(f"sb3_neurogym.py failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---- output ------------------------------------------------------------------------------
def table(rows: list[tuple[str, str, str]], title: str) -> str:
    """A plain-text table of (quantity, value, note) rows."""
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    line = "-" * (w0 + w1 + 6 + max(len(r[2]) for r in rows))
    out = [title, line]
    out += [f"  {a:<{w0}}  {b:>{w1}}  {c}".rstrip() for a, b, c in rows]
    out.append(line)
    return "\n".join(out)


def machine_info(threads: int) -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "platform": platform.platform(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "loadavg_start": os.getloadavg(),
    }


def foundation(a: argparse.Namespace) -> dict[str, Any]:
    """Items 1-3 of the foundation benchmark; prints a table and returns the results."""
    hidden = 64 if a.quick else 250
    seeds = list(range(100, 100 + (1 if a.quick else a.seeds)))
    res: dict[str, Any] = {
        "machine": machine_info(a.threads),
        "hidden": hidden,
        "quick": a.quick,
        "ppo_config": PPOConfig().to_dict(),
        "sl_config": SLConfig().to_dict(),
    }
    t_start = time.perf_counter()
    print(f"== foundation: {hidden} units, {a.threads} torch threads ==", flush=True)

    print("  [1/3] env steps per second ...", flush=True)
    n_envs = PPOConfig().n_envs
    res["rollout"] = rollout_rate(hidden, n_envs, 100 if a.quick else 1000)
    budget_e2e = 2_000 if a.quick else 20_000
    res["training_by_threads"] = {}
    for th in (1, 2):  # side by side: the same budget and seed on 1 and on 2 threads
        with torch_threads(th):
            t = training_rate(hidden, budget_e2e)
            t["roofline"] = ppo_roofline(hidden, t["s_per_update"])
        res["training_by_threads"][str(th)] = t
    with torch_threads(a.threads):
        res["training"] = res["training_by_threads"].get(str(a.threads)) or training_rate(
            hidden, budget_e2e
        )
    res["sl_batches"] = batch_rate(SLConfig().batch, SLConfig().window)

    print(f"  [2/3] time to criterion, seeds {seeds} ...", flush=True)
    budget = 3_000 if a.quick else None
    res["ppo_to_criterion"] = time_to_criterion("ppo", hidden, seeds, budget)
    res["sl_to_criterion"] = time_to_criterion("sl", hidden, seeds, budget)

    sb3: dict[str, Any] = {}
    if a.skip_sb3:
        res["sb3"] = {"skipped": True}
    else:
        print("  [3/3] NeuroGym + stable-baselines3 RecurrentPPO ...", flush=True)
        try:
            sb3["install"] = ensure_sb3_venv()
            if sb3["install"]["fallback"]:
                print(
                    f"    NOTE: neurogym=={NEUROGYM_WANTED} could NOT be installed; fell back "
                    f"to {sb3['install']['fallback']!r}",
                    flush=True,
                )
            for preset, steps in (("matched", a.sb3_steps), ("defaults", a.sb3_steps // 2)):
                if a.quick:
                    steps = 2048
                sb3[preset] = run_sb3(
                    preset, steps, hidden, a.sb3_envs, a.threads, 20 if a.quick else 200
                )
            # SB3 matched on 1 and 2 threads too: each side is compared at its fastest setting
            steps = 2048 if a.quick else a.sb3_steps
            sb3["matched_by_threads"] = {
                str(th): sb3["matched"]
                if th == a.threads
                else run_sb3("matched", steps, hidden, a.sb3_envs, th, 20 if a.quick else 200)
                for th in (1, 2)
            }
        except Exception as e:  # noqa: BLE001 - the comparison must not hide our own figures
            sb3["error"] = f"{type(e).__name__}: {e}"
            print(f"    SB3 comparison FAILED: {sb3['error']}", flush=True)
        res["sb3"] = sb3

    res["machine"]["loadavg_end"] = os.getloadavg()
    res["benchmark_wall_s"] = time.perf_counter() - t_start

    # ---- the table -----------------------------------------------------------------------
    ro, tr = res["rollout"], res["training"]
    ppo, sl = res["ppo_to_criterion"], res["sl_to_criterion"]
    rows = [
        (
            "rollout only (env + policy)",
            f"{ro['rollout_steps_per_s']:,.0f}",
            f"env steps/s, {n_envs} envs",
        ),
        ("env.step alone", f"{ro['env_only_steps_per_s']:,.0f}", "env steps/s, random actions"),
        (
            "end-to-end PPO training",
            f"{tr['steps_per_s']:,.0f}",
            f"env steps/s ({tr['env_steps']:,} steps, {tr['updates']} updates, "
            f"{tr['wall_s']:.1f} s; "
            f"{tr['s_per_update']:.2f} s/update)",
        ),
        *(
            (
                f"  end to end on {th} thread{'s' if th != '1' else ''}",
                f"{t['steps_per_s']:,.0f}",
                f"env steps/s; {t['roofline']['fraction']:.0%} of the matmul roofline "
                f"({t['roofline']['gflop_per_update']:.1f} GFLOP/update at "
                f"{t['roofline']['gemm_gflops_minibatch']:.0f} GFLOP/s (64 rows), "
                f"{t['roofline']['gemm_gflops_rollout']:.0f} GFLOP/s (256 rows))",
            )
            for th, t in res["training_by_threads"].items()
        ),
        (
            "SL batches, reset",
            f"{res['sl_batches']['reset_steps_per_s']:,.0f}",
            f"trial steps/s, {res['sl_batches']['batch']} fresh trials (padding included)",
        ),
        (
            "SL batches, continuous",
            f"{res['sl_batches']['continuous_steps_per_s']:,.0f}",
            f"trial steps/s, {res['sl_batches']['batch']} streams x "
            f"{res['sl_batches']['window']}-step windows",
        ),
        (
            "  share of time in updates",
            f"{1 - tr['steps_per_s'] / ro['rollout_steps_per_s']:.0%}",
            "1 - end-to-end / rollout-only rate",
        ),
    ]
    for name, r, target in (
        ("PPO", ppo, TARGETS["ppo_median_s"]),
        ("SL", sl, TARGETS["sl_median_s"]),
    ):
        for run in r["runs"]:
            rows.append(
                (
                    f"{name} seed {run['seed']}",
                    f"{run['wall_s']:.1f} s",
                    f"converged={run['converged']}, "
                    f"trials to criterion={run['trials_to_criterion']}, "
                    f"{run['steps_per_s']:,.0f} env steps/s incl. evaluations",
                )
            )
        rows.append(
            (
                f"{name} time to criterion, median",
                f"{r['median_wall_s']:.1f} s",
                f"{r['n_converged']}/{len(r['runs'])} converged; target <= {target:.0f} s",
            )
        )
    for preset in ("matched", "defaults"):
        s = sb3.get(preset)
        if not s:
            continue
        rows.append(
            (
                f"SB3 RecurrentPPO, {preset}",
                f"{s['steps_per_s']:,.0f}",
                f"env steps/s learning ({s['learn_env_steps']:,} steps, {s['n_envs']} envs, "
                f"LSTM {s['lstm_hidden']}, {s['n_epochs']} epochs, batch {s['batch_size']}, "
                f"{s['policy_parameters']:,} params)",
            )
        )
        rows.append(
            (
                f"  ours / SB3 {preset}, training",
                f"{tr['steps_per_s'] / s['steps_per_s']:.1f}x",
                f"target >= {TARGETS['ratio_vs_sb3']:.0f}x",
            )
        )
        if preset == "matched":
            rows.append(
                (
                    "SB3 rollout only (predict + step)",
                    f"{s['rollout_steps_per_s']:,.0f}",
                    f"env steps/s, {s['n_envs']} envs",
                )
            )
            rows.append(
                (
                    "  ours / SB3, rollout only",
                    f"{ro['rollout_steps_per_s'] / s['rollout_steps_per_s']:.1f}x",
                    f"ours {n_envs} envs vs SB3 {s['n_envs']} envs",
                )
            )
        res.setdefault("ratios", {})[f"training_vs_sb3_{preset}"] = (
            tr["steps_per_s"] / s["steps_per_s"]
        )
        res["ratios"][f"rollout_vs_sb3_{preset}"] = (
            ro["rollout_steps_per_s"] / s["rollout_steps_per_s"]
        )
    if sb3.get("matched_by_threads"):
        ours = max(t["steps_per_s"] for t in res["training_by_threads"].values())
        theirs = max(t["steps_per_s"] for t in sb3["matched_by_threads"].values())
        per = ", ".join(
            f"{th} thread(s): ours {res['training_by_threads'][th]['steps_per_s']:,.0f}, "
            f"SB3 {t['steps_per_s']:,.0f}"
            for th, t in sb3["matched_by_threads"].items()
        )
        rows.append(("  ours / SB3 matched, each at its fastest", f"{ours / theirs:.1f}x", per))
        res["ratios"]["training_vs_sb3_matched_best"] = ours / theirs
    if sb3.get("matched"):
        v = sb3["matched"]["versions"]
        rows.append(
            (
                "SB3 stack",
                "",
                f"neurogym {v['neurogym']}, stable-baselines3 {v['stable_baselines3']}, "
                f"sb3-contrib {v['sb3_contrib']}, gymnasium {v['gymnasium']}, torch {v['torch']}",
            )
        )
    if sb3.get("error"):
        rows.append(("SB3 comparison", "failed", sb3["error"].splitlines()[0][:120]))
    if a.skip_sb3:
        rows.append(("SB3 comparison", "skipped", "--skip-sb3"))
    m = res["machine"]
    rows.append(
        (
            "machine",
            "",
            f"{m['cpu_count']} cores, {a.threads} torch threads, torch {m['torch']}, load average "
            f"{m['loadavg_start'][0]:.2f} at start, {m['loadavg_end'][0]:.2f} at end",
        )
    )
    print()
    print(table(rows, f"Foundation benchmark ({hidden} units{', QUICK' if a.quick else ''})"))
    return res


# ---- dynamics ------------------------------------------------------------------------------
def plain_simulation_s(run: Any, cfg: Any) -> float:
    """Seconds of the census's physical reference: every orbit of the census (both contexts,
    all grid points and initial states, one batch per context) simulated in float64 for
    ``n_transient + n_record`` steps, one GEMM per step and nothing else."""
    import numpy as np

    from lib.analysis.census import initial_states, network_arrays, stimulus_inputs

    A = network_arrays(run)
    W, Win, b = A["W_rec"], A["W_in"], A["b"]
    c1, c2 = (v.ravel() for v in np.meshgrid(cfg.coherences, cfg.coherences, indexing="ij"))
    WT = np.ascontiguousarray(W.T)
    wall = 0.0
    for ctx in (0, 1):
        H0 = initial_states(run, ctx, cfg.n_trial_states, cfg.trial_seed)
        C = np.repeat(
            stimulus_inputs(ctx, c1, c2, semantics=run.spec.task.semantics) @ Win.T + b, len(H0), 0
        )
        X = np.tile(H0, (len(c1), 1))
        t0 = time.perf_counter()
        for _ in range(cfg.orbit.n_transient + cfg.orbit.n_record):
            X = X @ WT
            X += C
            np.maximum(X, 0.0, out=X)
        wall += time.perf_counter() - t0
    return wall


def census_time(alg: str, quick: bool) -> dict[str, Any]:
    """Wall time of the census of the stored network (``alg``, seed 0) under every census
    version this code computes (the default first), side by side in one run, and of its
    physical reference (:func:`plain_simulation_s`)."""
    from lib.analysis.census import CENSUS_VERSION, VERSIONS, CensusConfig, compute_census
    from lib.store.runs import Store
    from lib.train.spec import RunSpec

    run = Store().load(RunSpec(alg, 0))
    cfg = CensusConfig(grid=5) if quick else CensusConfig()
    walls, qp = {}, {}
    for v in sorted(VERSIONS, key=lambda v: v != CENSUS_VERSION):
        t0 = time.perf_counter()
        res = compute_census(run, cfg, v)
        walls[v] = time.perf_counter() - t0
        qp[v] = float(res["grid"].has_qp.mean())
    n_orbits = 2 * cfg.grid**2 * (cfg.n_trial_states + 2)
    return {
        "algorithm": alg,
        "version": CENSUS_VERSION,
        "wall_s": walls[CENSUS_VERSION],
        "wall_s_by_version": walls,
        "qp_fraction_by_version": qp,
        "reference_float64_simulation_s": plain_simulation_s(run, cfg),
        "grid": cfg.grid,
        "orbits": n_orbits,
        "record_steps": cfg.orbit.n_record,
        "qp_fraction": qp[CENSUS_VERSION],
    }


def stability_time(alg: str, quick: bool) -> dict[str, Any]:
    """Wall time of the linear-stability census of the stored network (``alg``, seed 0)."""
    from lib.analysis.stability import STABILITY_VERSION, StabilityConfig, compute_stability
    from lib.store.runs import Store
    from lib.train.spec import RunSpec

    run = Store().load(RunSpec(alg, 0))
    cfg = StabilityConfig(grid=5) if quick else StabilityConfig()
    t0 = time.perf_counter()
    res = compute_stability(run, cfg)
    return {
        "algorithm": alg,
        "version": STABILITY_VERSION,
        "wall_s": time.perf_counter() - t0,
        "grid": cfg.grid,
        "ns_candidate_fraction": float(res["grid"].ns_candidate.mean()),
    }


def fixed_points_race(alg: str, n_starts: int, max_iters: int) -> dict[str, Any]:
    """Exact ReLU fixed points vs Golub-style Adam on the delay-period map of a stored net."""
    from lib.analysis.census import initial_states, network_arrays, stimulus_inputs
    from lib.analysis.dynamics import adam_fixed_points, relu_fixed_points
    from lib.store.runs import Store
    from lib.train.spec import RunSpec

    run = Store().load(RunSpec(alg, 0))
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
    uniq: list[np.ndarray] = []
    for h in hA[ok]:
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


def dynamics(a: argparse.Namespace) -> dict[str, Any]:
    """The dynamics benchmark (census, fixed points); prints its lines and returns results."""
    print("== dynamics ==", flush=True)
    res: dict[str, Any] = {"machine": machine_info(a.threads)}
    res["census"] = [census_time(alg, a.quick) for alg in ("ppo", "sl")]
    for c in res["census"]:
        others = ", ".join(
            f"version {v} {w:.1f} s ({w / c['wall_s']:.1f}x)"
            for v, w in c["wall_s_by_version"].items()
            if v != c["version"]
        )
        print(
            f"  census {c['algorithm']} seed 0: {c['wall_s']:.1f} s (version {c['version']}) for "
            f"{c['orbits']} orbits, grid {c['grid']}x{c['grid']}x2 (target <= 10 s); {others}; "
            f"plain float64 simulation of the same orbits {c['reference_float64_simulation_s']:.1f} s "
            f"({c['wall_s'] / c['reference_float64_simulation_s']:.2f}x)"
        )
    res["stability"] = [stability_time(alg, a.quick) for alg in ("ppo", "sl")]
    for c in res["stability"]:
        print(
            f"  linear-stability census {c['algorithm']} seed 0: {c['wall_s']:.1f} s "
            f"(version {c['version']}, grid {c['grid']}x{c['grid']}x2; target <= 20 s)"
        )
    res["fixed_points"] = [
        fixed_points_race(alg, 100 if a.quick else 1000, 2000 if a.quick else 20000)
        for alg in ("ppo", "sl")
    ]
    for f in res["fixed_points"]:
        print(
            f"  fixed points {f['algorithm']}: exact {f['exact_wall_s']:.2f} s "
            f"({f['exact_fixed_points']} found, max q {f['exact_max_q']:.1e}); "
            f"Adam {f['adam_wall_s']:.1f} s, {f['adam_iterations']} iterations, "
            f"{f['adam_converged_starts']} starts at q<1e-12, "
            f"{f['adam_distinct_fixed_points']} distinct; speed-up {f['speedup']:.0f}x "
            "(target >= 50x)"
        )
    res["machine"]["loadavg_end"] = os.getloadavg()
    return res


def analyses(a: argparse.Namespace) -> dict[str, Any]:
    """Chapter 3 and 7 analyses of one stored 250-unit network each (populations + robustness,
    and the information analysis), timed without the cache. Target: <= 30 s for all three."""
    from lib.analysis.balance import BalanceConfig, compute_balance
    from lib.analysis.unit_information import InfoConfig, compute_unit_information
    from lib.store.runs import Store
    from lib.train.spec import RunSpec

    print("== analyses (populations + robustness, information) ==", flush=True)
    out: dict[str, Any] = {"runs": []}
    for alg in ("ppo", "sl"):
        run = Store().load(RunSpec(alg, 0))
        bcfg = (
            BalanceConfig(n_trials=100, robustness_trials=100, n_draws=1)
            if a.quick
            else BalanceConfig()
        )
        icfg = InfoConfig(n_trials=60, n_shuffles=20) if a.quick else InfoConfig()
        t0 = time.perf_counter()
        compute_balance(run, bcfg)
        t_bal = time.perf_counter() - t0
        t0 = time.perf_counter()
        compute_unit_information(run, icfg)
        t_info = time.perf_counter() - t0
        out["runs"].append(
            {
                "algorithm": alg,
                "balance_s": t_bal,
                "information_s": t_info,
                "total_s": t_bal + t_info,
            }
        )
        print(
            f"  {alg} seed 0: populations + robustness {t_bal:.1f} s, information {t_info:.1f} s, "
            f"total {t_bal + t_info:.1f} s (target <= 30 s)",
            flush=True,
        )
    return out


def book(a: argparse.Namespace) -> dict[str, Any]:
    """Every chapter executed once in book mode from the stored results (nbclient, in the
    notebooks' folder, as the book build executes them), seconds per chapter and the three
    slowest cells of each. ``make book`` is this plus Sphinx (target: <= 2 min in all)."""
    import datetime as dt

    import nbformat
    from nbclient import NotebookClient

    print("== book: every chapter executed in book mode ==", flush=True)
    chapters = sorted((ROOT / "notebooks").glob("0*.ipynb"))
    if a.quick:
        chapters = chapters[:1]
    out: dict[str, Any] = {"chapters": []}

    def secs(meta: dict) -> float:
        e = meta.get("execution", {})
        if "iopub.execute_input" not in e or "shell.execute_reply" not in e:
            return 0.0
        t0, t1 = (
            dt.datetime.fromisoformat(e[k]) for k in ("iopub.execute_input", "shell.execute_reply")
        )
        return (t1 - t0).total_seconds()

    total = 0.0
    for nb_path in chapters:
        nb = nbformat.read(nb_path, as_version=4)
        t0 = time.perf_counter()
        NotebookClient(
            nb,
            timeout=1800,
            kernel_name="python3",
            resources={"metadata": {"path": str(nb_path.parent)}},
        ).execute()
        wall = time.perf_counter() - t0
        total += wall
        cells = sorted(
            ((secs(c.metadata), i) for i, c in enumerate(nb.cells) if c.cell_type == "code"),
            reverse=True,
        )[:3]
        out["chapters"].append(
            {"chapter": nb_path.stem, "wall_s": wall, "slowest_cells": [[i, t] for t, i in cells]}
        )
        slow = ", ".join(f"cell {i} {t:.1f} s" for t, i in cells)
        print(f"  {nb_path.stem}: {wall:.1f} s ({slow})", flush=True)
    out["total_s"] = total
    print(f"  all chapters: {total:.1f} s", flush=True)
    return out


def main() -> None:
    """Parse the options, run the chosen benchmarks, print tables, write JSON results."""
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="tiny budgets for a sanity check: 1 seed, 64 units, few SB3 steps",
    )
    ap.add_argument("--skip-sb3", action="store_true", help="leave out the NeuroGym/SB3 part")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 100, 101, ... (default 3)")
    ap.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1, the store's default)"
    )
    ap.add_argument("--sb3-steps", type=int, default=40_960, help="SB3 env steps timed")
    ap.add_argument("--sb3-envs", type=int, default=16, help="SB3 DummyVecEnv size")
    ap.add_argument("--only", choices=["foundation", "dynamics", "analyses", "book"], default=None)
    a = ap.parse_args()
    if a.seeds < 1:
        ap.error("--seeds must be >= 1")
    torch.set_num_threads(a.threads)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    suffix = "-quick" if a.quick else ""  # a sanity check never overwrites the real figures

    if a.only in (None, "foundation"):
        res = foundation(a)
        path = out_dir / f"foundation{suffix}.json"
        path.write_text(json.dumps(res, indent=1, default=str))
        print(f"(written to {_rel(path)})", flush=True)
    if a.only in (None, "dynamics"):
        res = dynamics(a)
        path = out_dir / f"dynamics{suffix}.json"
        path.write_text(json.dumps(res, indent=1, default=str))
        print(f"(written to {_rel(path)})", flush=True)
    if a.only in (None, "analyses"):
        res = analyses(a)
        path = out_dir / f"analyses{suffix}.json"
        path.write_text(json.dumps(res, indent=1, default=str))
        print(f"(written to {_rel(path)})", flush=True)
    if a.only in (None, "book"):
        res = book(a)
        path = out_dir / f"book{suffix}.json"
        path.write_text(json.dumps(res, indent=1, default=str))
        print(f"(written to {_rel(path)})", flush=True)


if __name__ == "__main__":
    main()
