"""Stored networks on NeuroGym 1.0.8's own ``ContextDecisionMaking-v0``, trial reset vs stream.

Issue 10's check. Every stored network was trained and evaluated with ``h = 0`` at the start
of every trial; NeuroGym's ``TrialEnv`` never terminates, so a recurrent agent run on it
carries its state from one trial into the next. This script runs stored networks from their
``weights.npz`` alone (NumPy, float64; no torch) on NeuroGym's environment in two regimes:

* ``reset``: ``h = 0`` before the first step of every NeuroGym trial (trial boundaries from
  ``info["new_trial"]``) -- should reproduce ``metrics.json``'s ``final_accuracy``;
* ``continuous``: the state carried across trials, as NeuroGym runs it.

Actions are greedy (argmax of the readout). A trial counts as correct as NeuroGym scores it:
``info["performance"]`` on the step that ends the trial (1 only for the right choice in the
decision period). Also recorded per trial: no response (the decision period passed with the
fixate action), a fixation break in the fixation period (NeuroGym's ``abort`` reward; the
trial goes on since ``abort=False``) and a premature non-fixate action in stimulus or delay
(NeuroGym does not penalise it).

Every (network, regime) pair gets its own environment, all seeded with ``--seed``: NeuroGym
draws trials only in ``new_trial`` and the stream does not depend on the actions, so all
networks and both regimes see the same trials and noise (paired comparison; checked). The
first trial after ``reset()`` is not scored: NeuroGym's ``reset`` takes one step with a
random action itself, so the agent never sees that trial's first observation.

Before the evaluation the script checks the input mapping: for ``--check-trials`` trials it
compares NeuroGym's observations (a noise-free twin env, ``sigma=0``, same seed, hence the
same trials) against ``lib.core.task.sample_trials(noise=False)`` with the same context,
coherences and delay, period by period; the noise std per period and channel (NeuroGym vs
ours); the trial parameter distributions of the evaluation stream vs ours; and that
``lib.core.network.simulate_numpy`` on those NeuroGym observations makes the same choices as the
evaluation loop.

Usage (from the repository root, in the project's environment; the NeuroGym part runs in
``benchmarks/.venv-ng``, created on first use from ``benchmarks/neurogym_requirements.txt``)::

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/neurogym_stream.py \
        [--runs ID ...] [--algorithm ppo sl] [--delta 0.1] [--seeds 0-9] [--hidden 250]
        [--level standard] [--n-trials 2000] [--seed 0] [--check-trials 200]

Writes ``benchmarks/neurogym_stream_results.csv`` (one row per network) and
``benchmarks/results/neurogym_stream.json`` (the checks; git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv-ng"
REQUIREMENTS = HERE / "neurogym_requirements.txt"
RUNS = ROOT / "data" / "runs"
DEFAULT_CSV = HERE / "neurogym_stream_results.csv"
DEFAULT_JSON = HERE / "results" / "neurogym_stream.json"
ENV_ID = "ContextDecisionMaking-v0"
REGIMES = ("reset", "continuous")
PERIODS = ("fixation", "stimulus", "delay", "decision")


# ---------------------------------------------------------------------------------------
# Worker: runs inside benchmarks/.venv-ng (numpy + neurogym, no torch, no lib)
# ---------------------------------------------------------------------------------------
def _import_neurogym() -> Any:
    """Import neurogym with a stub for ``stable_baselines3.common.vec_env``.

    neurogym 1.0.8 imports ``DummyVecEnv`` at module level in ``neurogym.utils.plotting``
    only (used by ``plot_env``, which this script never calls); the stub keeps torch out.
    """
    if "stable_baselines3" not in sys.modules:
        names = (
            "stable_baselines3",
            "stable_baselines3.common",
            "stable_baselines3.common.vec_env",
        )
        mods = {n: types.ModuleType(n) for n in names}

        class DummyVecEnv:  # pragma: no cover - never instantiated
            def __init__(self, *a: Any, **k: Any) -> None:
                raise RuntimeError("stable_baselines3 is stubbed out in this environment")

        mods["stable_baselines3.common.vec_env"].DummyVecEnv = DummyVecEnv
        sys.modules.update(mods)
    import warnings

    warnings.filterwarnings("ignore", message=".*render_modes.*")
    import neurogym

    return neurogym


def _make_env(ngym: Any, task: dict[str, Any], sigma: float | None = None) -> Any:
    """NeuroGym's env with the timing, dt, sigma, coherences and rewards of our task."""
    from neurogym.utils.ngym_random import TruncExp

    timing = {
        "fixation": task["fixation_ms"],
        "stimulus": task["stimulus_ms"],
        "delay": TruncExp(task["delay_mean_ms"], task["delay_min_ms"], task["delay_max_ms"]),
        "decision": task["decision_ms"],
    }
    env = ngym.make(
        ENV_ID,
        dt=task["dt"],
        sigma=task["sigma"] if sigma is None else sigma,
        timing=timing,
        rewards={"abort": task["reward_abort"], "correct": task["reward_correct"]},
    )
    u = env.unwrapped
    # coherences are not a constructor argument in 1.0.8; the attribute is read per trial
    u.cohs = [c for c in task["coherences"]]
    return env


def _period(u: Any) -> int:
    """Index in PERIODS of the env's current step (before ``step``)."""
    for i, p in enumerate(PERIODS):
        if u.in_period(p):
            return i
    raise RuntimeError(f"time {u.t} outside every period")


def _trial_params(u: Any) -> tuple[int, int, float, float, int]:
    """(ground truth, context, signed coh modality 1, signed coh modality 2, delay steps)."""
    tr = u.trial
    gt, other, ctx = int(tr["ground_truth"]), int(tr["other_choice"]), int(tr["context"])
    c0, c1 = (gt, other) if ctx == 0 else (other, gt)
    s0 = tr["coh_0"] if c0 == 1 else -tr["coh_0"]
    s1 = tr["coh_1"] if c1 == 1 else -tr["coh_1"]
    delay = u.end_ind["delay"] - u.start_ind["delay"]
    return gt, ctx, float(s0), float(s1), int(delay)


def _load_weights(path: str, n_max: int) -> dict[str, np.ndarray]:
    """weights.npz in float64, zero-padded to ``n_max`` units (padding stays exactly 0)."""
    with np.load(path) as z:
        w = {k: np.asarray(z[k], dtype=np.float64) for k in z.files}
    n = w["W_rec"].shape[0]
    pad = n_max - n
    return {
        "W_rec": np.pad(w["W_rec"], ((0, pad), (0, pad))),
        "W_in": np.pad(w["W_in"], ((0, pad), (0, 0))),
        "b": np.pad(w["b"], (0, pad)),
        "W_out": np.pad(w["W_out"], ((0, 0), (0, pad))),
        "b_out": w["b_out"],
        "alpha": np.float64(w["alpha"]),
    }


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run every (network, regime) on its own NeuroGym env; return per-trial arrays."""
    ngym = _import_neurogym()
    nets = spec["networks"]
    n_trials, seed, n_check = int(spec["n_trials"]), int(spec["seed"]), int(spec["check_trials"])
    n_max = max(int(n["hidden"]) for n in nets)
    ws = [_load_weights(n["weights"], n_max) for n in nets]
    pairs = [(i, r) for i in range(len(nets)) for r in REGIMES]  # env k -> (net, regime)
    K = len(pairs)
    W = np.stack([ws[i]["W_rec"] for i, _ in pairs])
    Win = np.stack([ws[i]["W_in"] for i, _ in pairs])
    b = np.stack([ws[i]["b"] for i, _ in pairs])
    Wout = np.stack([ws[i]["W_out"] for i, _ in pairs])
    bout = np.stack([ws[i]["b_out"] for i, _ in pairs])
    alpha = np.array([ws[i]["alpha"] for i, _ in pairs])[:, None]
    is_reset = np.array([r == "reset" for _, r in pairs])

    envs = [_make_env(ngym, nets[i]["task"]) for i, _ in pairs]
    obs = []
    for env in envs:
        env.unwrapped.seed(seed)  # seeds the trial rng and the TruncExp delay rng
        ob, _ = env.reset()
        obs.append(ob)
    x = np.asarray(obs, dtype=np.float64)
    us = [e.unwrapped for e in envs]

    keys = ("performance", "choice", "gt", "context", "coh1", "coh2", "delay", "abort")
    rec = {k: np.zeros((K, n_trials), dtype=np.float64) for k in keys}
    rec["premature"] = np.zeros((K, n_trials), dtype=np.float64)
    rec["h_start"] = np.zeros((K, n_trials), dtype=np.float64)  # max_i |h_i| carried into the trial
    done = np.full(K, -1)  # trials completed; -1 while in the partial first trial
    cur = [dict(abort=0, premature=0, params=_trial_params(u), h_start=0.0) for u in us]
    new = np.zeros(K, dtype=bool)
    check_obs: list[np.ndarray] = []  # env 0's full ob array for its first n_check trials
    h = np.zeros((K, n_max))
    steps = 0
    t0 = time.perf_counter()
    err = np.seterr(over="ignore", invalid="ignore")  # diverging carried states
    while done.min() < n_trials:
        h[new & is_reset] = 0.0
        pre = np.einsum("kij,kj->ki", W, h) + np.einsum("kij,kj->ki", Win, x) + b
        h = (1 - alpha) * h + alpha * np.maximum(pre, 0.0)
        act = (np.einsum("kaj,kj->ka", Wout, h) + bout).argmax(-1)
        for k, (env, u) in enumerate(zip(envs, us, strict=True)):
            a = int(act[k])
            p = _period(u)
            if a != 0 and p == 0:
                cur[k]["abort"] = 1
            if a != 0 and p in (1, 2):
                cur[k]["premature"] = 1
            ob, _r, _te, _tr, info = env.step(a)
            x[k] = ob
            new[k] = bool(info["new_trial"])
            if new[k]:
                j = done[k]
                if 0 <= j < n_trials:
                    gt, ctx, s1, s2, dl = cur[k]["params"]
                    if int(info["gt"]) != gt:
                        raise RuntimeError("ground truth in info differs from the trial's")
                    choice = a if p == 3 else 0
                    perf = float(info["performance"])
                    if perf != float(choice == gt):
                        raise RuntimeError("NeuroGym's performance disagrees with the choice")
                    for key, val in zip(
                        keys,
                        (perf, choice, gt, ctx, s1, s2, dl, cur[k]["abort"]),
                        strict=True,
                    ):
                        rec[key][k, j] = val
                    rec["premature"][k, j] = cur[k]["premature"]
                    rec["h_start"][k, j] = cur[k]["h_start"]
                done[k] += 1
                carried = 0.0 if is_reset[k] else float(np.abs(h[k]).max())
                cur[k] = dict(abort=0, premature=0, params=_trial_params(u), h_start=carried)
                if k == 0 and 0 <= done[0] < n_check:
                    check_obs.append(np.array(u.ob, dtype=np.float64))
        steps += 1
    wall = time.perf_counter() - t0
    np.seterr(**err)

    # noise-free twin of env 0 (sigma=0, same seed: same rng draws, so the same trials)
    twin = _make_env(ngym, nets[0]["task"], sigma=0.0)
    tu = twin.unwrapped
    tu.seed(seed)
    twin.reset()
    clean, starts, tparams = [], [], []
    while len(clean) < n_check + 1:
        _, _, _, _, info = twin.step(0)
        if info["new_trial"]:
            clean.append(np.array(tu.ob, dtype=np.float64))
            starts.append([tu.start_ind[p] for p in PERIODS] + [tu.end_ind["decision"]])
            tparams.append(_trial_params(tu))
    clean, starts, tparams = clean[:n_check], starts[:n_check], tparams[:n_check]

    L = max(o.shape[0] for o in clean)

    def padded(arrs: list[np.ndarray]) -> np.ndarray:
        out = np.full((len(arrs), L, 7), np.nan)
        for i, o in enumerate(arrs):
            out[i, : o.shape[0]] = o
        return out

    same_stream = all(
        np.array_equal(rec[k_][0], rec[k_][k])
        for k_ in ("gt", "coh1", "coh2", "delay")
        for k in range(K)
    )
    import gymnasium
    import neurogym

    return {
        "arrays": {
            **rec,
            "check_noisy": padded(check_obs),
            "check_clean": padded(clean),
            "check_starts": np.asarray(starts),
            "check_params": np.asarray(tparams, dtype=np.float64),
        },
        "meta": {
            "neurogym": neurogym.__version__,
            "gymnasium": gymnasium.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
            "wall_s": wall,
            "vector_steps": steps,
            "envs": K,
            "same_stream_all_envs": bool(same_stream),
            "delay_steps_mean_200k_draws": _delay_mean(nets[0]["task"], seed),
            "neurogym_defaults": _neurogym_defaults(ngym),
        },
    }


def _delay_mean(task: dict[str, Any], seed: int, n: int = 200_000) -> float:
    """Mean delay in steps of ``n`` draws of NeuroGym's TruncExp, floored as it floors."""
    from neurogym.utils.ngym_random import TruncExp

    t = TruncExp(task["delay_mean_ms"], task["delay_min_ms"], task["delay_max_ms"])
    t.seed(seed)
    dt = task["dt"]
    return float(np.mean([t() // dt for _ in range(n)]))


def _neurogym_defaults(ngym: Any) -> dict[str, Any]:
    """NeuroGym's own default constants of the task, for comparison with TaskConfig."""
    u = ngym.make(ENV_ID).unwrapped
    d = u.timing["delay"]
    return {
        "dt": u.dt,
        "fixation_ms": u.timing["fixation"],
        "stimulus_ms": u.timing["stimulus"],
        "delay_mean_ms": d.vmean,
        "delay_min_ms": d.vmin,
        "delay_max_ms": d.vmax,
        "decision_ms": u.timing["decision"],
        "coherences": list(u.cohs),
        "noise_std_per_step": float(u.sigma),
        "rewards": dict(u.rewards),
        "abort": bool(u.abort),
        "observation_names": dict(u.observation_space.name),
        "action_names": dict(u.action_space.name),
    }


# ---------------------------------------------------------------------------------------
# Driver: runs in the project's environment (lib, torch) and orchestrates
# ---------------------------------------------------------------------------------------
def _pip(py: Path, args: list[str], log: Path) -> bool:
    cmd = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
        f.write(f"[exit {rc}]\n")
    return rc == 0


def ensure_venv(venv: Path = VENV) -> dict[str, Any]:
    """Create ``venv`` and install the pinned closure once (``--no-deps``); return its record."""
    record_file = venv / "benchmark-install.json"
    py = venv / "bin" / "python"
    if record_file.exists() and py.exists():
        return json.loads(record_file.read_text())
    print(f"setting up {venv.relative_to(ROOT)} ...", file=sys.stderr)
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log = venv / "benchmark-install.log"
    log.write_text("")
    if not _pip(py, ["--no-deps", "-r", str(REQUIREMENTS)], log):
        sys.exit(
            f"could not install {REQUIREMENTS.name} into {venv} (see {log}); "
            "NeuroGym 1.0.8 is not available here, nothing measured"
        )
    freeze = subprocess.run(
        [str(py), "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    ).stdout.split()
    record = {"requirements": REQUIREMENTS.name, "freeze": freeze}
    record_file.write_text(json.dumps(record, indent=1))
    return record


def _parse_seeds(s: str) -> list[int]:
    out: list[int] = []
    for part in s.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    return out


def select_runs(a: argparse.Namespace) -> list[dict[str, Any]]:
    """The stored runs chosen by id or by (algorithm, delta, seeds, hidden, level)."""
    from lib.core.task import TaskConfig, level_of
    from lib.pipelines.profiles import variant_of
    from lib.train.spec import RunSpec

    runs = []
    for cfg_file in sorted(RUNS.glob("*/config.json")):
        c = json.loads(cfg_file.read_text())
        s = c["spec"]
        m = json.loads((cfg_file.parent / "metrics.json").read_text())
        task = TaskConfig.from_dict(s["task"])
        spec = RunSpec.from_dict(s)
        runs.append(
            {
                "run_id": c["run_id"],
                "algorithm": s["algorithm"],
                "seed": int(s["seed"]),
                "delta": float(s["network"]["delta"]),
                "hidden": int(s["network"]["hidden"]),
                "alpha": float(s["network"]["alpha"]),
                "level": level_of(task) or "custom",
                "trials": task.trials,
                "variant": variant_of(spec) or "",
                "task": task.to_dict(),
                "weights": str(cfg_file.parent / "weights.npz"),
                "final_accuracy": float(m["final_accuracy"]),
                "final_eval_trials": int(m["final_eval_trials"]),
            }
        )
    if a.runs:
        byid = {r["run_id"]: r for r in runs}
        missing = [i for i in a.runs if i not in byid]
        if missing:
            sys.exit(f"unknown run ids: {missing}")
        chosen = [byid[i] for i in a.runs]
    else:
        seeds = set(_parse_seeds(a.seeds))
        chosen = [
            r
            for r in runs
            if r["algorithm"] in a.algorithm
            and math.isclose(r["delta"], a.delta)
            and r["seed"] in seeds
            and r["hidden"] == a.hidden
            and r["trials"] == a.trials
            and (
                r["variant"] == a.variant
                if a.variant
                else (r["level"] == a.level and r["alpha"] == 1.0)
            )
        ]
        chosen.sort(key=lambda r: (a.algorithm.index(r["algorithm"]), r["seed"]))
        keys = [(r["algorithm"], r["seed"]) for r in chosen]
        if len(set(keys)) != len(keys):
            sys.exit(f"selection is ambiguous (several runs per algorithm and seed): {keys}")
    if not chosen:
        sys.exit("no stored run matches the selection")
    for r in chosen:
        if r["task"]["semantics"] != "neurogym1":
            sys.exit(
                f"{r['run_id']}: semantics {r['task']['semantics']!r} has no NeuroGym 1.0.8 env"
            )
        if r["task"]["reward_fail"] != 0.0:
            sys.exit(f"{r['run_id']}: NeuroGym 1.0.8 has no reward for a wrong choice (it is 0)")
    return chosen


def wilson(k: float, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson 95 % interval of a binomial proportion k/n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    w = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - w, c + w


def two_prop_p(p1: float, n1: int, p2: float, n2: int) -> float:
    """Two-sided p of the pooled two-proportion z test."""
    from scipy.stats import norm

    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return float(2 * norm.sf(abs(p1 - p2) / se)) if se > 0 else 1.0


def exact_delay_mean(cfg: Any) -> float:
    """Exact mean of floor(delay / dt) for the truncated exponential."""
    lo_s, hi_s = cfg.delay_steps_range
    k = np.arange(lo_s, hi_s + 1)
    lo = np.maximum(k * cfg.dt, cfg.delay_min_ms)
    hi = np.minimum((k + 1) * cfg.dt, cfg.delay_max_ms)
    p = np.exp(-lo / cfg.delay_mean_ms) - np.exp(-hi / cfg.delay_mean_ms)
    return float((k * p).sum() / p.sum())


def obs_check(
    run: dict[str, Any], arr: dict[str, np.ndarray], seed: int, delay_200k: float
) -> dict[str, Any]:
    """NeuroGym's observations vs ``lib.core.task.sample_trials``, period by period."""
    import torch
    from scipy.stats import chi2_contingency

    from lib.core.network import load_weights_npz, simulate_numpy
    from lib.core.task import TaskConfig, sample_trial_params, sample_trials

    cfg = TaskConfig.from_dict(run["task"])
    clean, noisy, starts, prm = (
        arr["check_clean"],
        arr["check_noisy"],
        arr["check_starts"],
        arr["check_params"],
    )
    n = len(prm)
    gt, ctx, s1, s2, dl = (prm[:, i] for i in range(5))
    gen = torch.Generator().manual_seed(seed)
    fixed = {
        "context": torch.as_tensor(ctx).long(),
        "coh1": torch.as_tensor(s1).float(),
        "coh2": torch.as_tensor(s2).float(),
        "delay_steps": torch.as_tensor(dl).long(),
    }
    ours = sample_trials(cfg, n, gen, noise=False, **fixed)
    ours_noisy = sample_trials(cfg, n, gen, noise=True, **fixed)
    x0 = ours.inputs.double().numpy().transpose(1, 0, 2)  # [B, T, 7]
    xn = ours_noisy.inputs.double().numpy().transpose(1, 0, 2)
    bounds_ok = bool(
        np.array_equal(starts[:, 1], ours.stim_on.numpy())
        and np.array_equal(starts[:, 2], ours.delay_on.numpy())
        and np.array_equal(starts[:, 3], ours.decision_on.numpy())
        and np.array_equal(starts[:, 4], ours.length.numpy())
        and np.array_equal(gt, ours.correct.numpy())
    )
    per_period: dict[str, Any] = {}
    for pi, name in enumerate(PERIODS):
        ng_mean, our_mean, ng_res, our_res = [], [], [], []
        for b in range(n):
            lo, hi = int(starts[b, pi]), int(starts[b, pi + 1])
            ng_mean.append(clean[b, lo:hi])
            our_mean.append(x0[b, lo:hi])
            ng_res.append(noisy[b, lo:hi] - clean[b, lo:hi])
            our_res.append(xn[b, lo:hi] - x0[b, lo:hi])
        ngm, ourm = np.concatenate(ng_mean), np.concatenate(our_mean)
        per_period[name] = {
            "max_abs_diff_noise_free": float(np.abs(ngm - ourm).max()),
            "neurogym_noise_std": np.concatenate(ng_res).std(0).round(4).tolist(),
            "ours_noise_std": np.concatenate(our_res).std(0).round(4).tolist(),
            "neurogym_mean_by_channel": ngm.mean(0).round(4).tolist(),
            "ours_mean_by_channel": ourm.mean(0).round(4).tolist(),
        }
    # the stream's trial-parameter distributions vs ours (evaluation stream of env 0)
    ngd = arr["delay"][0].astype(int)
    ourd = sample_trial_params(cfg, len(ngd), torch.Generator().manual_seed(seed + 1))
    ourd = ourd["delay_steps"].numpy()
    vals = np.union1d(ngd, ourd)
    table = np.array([[np.sum(ngd == v) for v in vals], [np.sum(ourd == v) for v in vals]])
    table = table[:, table.sum(0) > 0]
    dist = {
        "delay_steps_mean_neurogym": float(ngd.mean()),
        "delay_steps_mean_ours": float(ourd.mean()),
        "delay_steps_range_neurogym": [int(ngd.min()), int(ngd.max())],
        "delay_chi2_p": float(chi2_contingency(table)[1]),
        "delay_steps_mean_200k_neurogym": delay_200k,
        "delay_steps_mean_200k_ours": float(
            sample_trial_params(cfg, 200_000, torch.Generator().manual_seed(seed))["delay_steps"]
            .double()
            .mean()
        ),
        "delay_steps_mean_exact": exact_delay_mean(cfg),
        "context1_fraction": float(np.mean(arr["context"][0] == 0)),
        "abs_coherence_fractions": {
            str(c): float(np.mean(np.abs(arr["coh1"][0]) == c)) for c in cfg.coherences
        },
        "choice1_correct_fraction": float(np.mean(arr["gt"][0] == 1)),
    }
    # lib's reference simulator on NeuroGym's observations == the evaluation loop's choices
    w = load_weights_npz(run["weights"])
    w = {k: np.asarray(v, dtype=np.float64) for k, v in w.items()}
    agree = 0
    for b in range(n):
        L = int(starts[b, 4])
        _, logits = simulate_numpy(w, noisy[b, :L][:, None, :])
        act = logits[:, 0].argmax(-1)
        dec = act[int(starts[b, 3]) : L]
        moved = dec[dec != 0]
        choice = int(moved[0]) if moved.size else 0
        agree += int(choice == arr["choice"][0, b])
    twin_same = all(
        np.array_equal(prm[:, i], arr[key][0, :n])
        for i, key in enumerate(("gt", "context", "coh1", "coh2", "delay"))
    )
    return {
        "run_id": run["run_id"],
        "trials": n,
        "noise_free_twin_has_same_trials": bool(twin_same),
        "periods_and_correct_choice_match": bounds_ok,
        "per_period": per_period,
        "stream_distributions": dist,
        "simulate_numpy_agrees_with_loop": f"{agree}/{n}",
    }


def main() -> None:
    """Select the runs, run the NeuroGym worker in the side venv, check, write the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", nargs="*", help="run ids (overrides the selection below)")
    ap.add_argument("--algorithm", nargs="+", default=["ppo", "sl"], choices=["ppo", "sl"])
    ap.add_argument("--delta", type=float, default=0.1)
    ap.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5")
    ap.add_argument("--hidden", type=int, default=250)
    ap.add_argument("--level", default="standard", help="standard, easy, hard or custom")
    ap.add_argument("--n-trials", type=int, default=2000, help="scored trials per network/regime")
    ap.add_argument("--seed", type=int, default=0, help="NeuroGym env seed (all envs)")
    ap.add_argument("--check-trials", type=int, default=200)
    ap.add_argument(
        "--trials",
        choices=["reset", "continuous"],
        default="reset",
        help="the trial regime the selected networks were trained in",
    )
    ap.add_argument(
        "--variant",
        default="",
        help="select a training variant at the default delta (baseline, leaky, old_noise, "
        "plain_ce) instead of --delta/--hidden/--level",
    )
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    ap.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.worker:
        spec = json.loads(Path(a.worker[0]).read_text())
        res = worker(spec)
        np.savez(a.worker[1], **res["arrays"])
        Path(a.worker[1] + ".json").write_text(json.dumps(res["meta"], indent=1))
        return

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    chosen = select_runs(a)
    install = ensure_venv()
    print(
        f"{len(chosen)} networks, {a.n_trials} trials per regime, env seed {a.seed}",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory() as tmp:
        spec_f, out_f = Path(tmp) / "spec.json", Path(tmp) / "out.npz"
        spec = {
            "networks": chosen,
            "n_trials": a.n_trials,
            "seed": a.seed,
            "check_trials": a.check_trials,
        }
        spec_f.write_text(json.dumps(spec))
        t0 = time.process_time()
        cmd = [
            str(VENV / "bin" / "python"),
            str(Path(__file__).resolve()),
            "--worker",
            str(spec_f),
            str(out_f),
        ]
        subprocess.run(cmd, check=True)
        with np.load(out_f) as z:
            arr = {k: z[k] for k in z.files}
        meta = json.loads(Path(str(out_f) + ".json").read_text())

    check = obs_check(chosen[0], arr, a.seed, meta["delay_steps_mean_200k_draws"])
    defaults_match = {
        k: (meta["neurogym_defaults"][k], chosen[0]["task"].get(k))
        for k in (
            "dt",
            "fixation_ms",
            "stimulus_ms",
            "delay_mean_ms",
            "delay_min_ms",
            "delay_max_ms",
            "decision_ms",
        )
    }
    rows = []
    for i, r in enumerate(chosen):
        row: dict[str, Any] = {
            "run_id": r["run_id"],
            "algorithm": r["algorithm"],
            "seed": r["seed"],
            "delta": r["delta"],
            "hidden": r["hidden"],
            "level": r["level"],
            "trained_trials": r["trials"],
            "variant": r["variant"],
            "env_seed": a.seed,
            "n_trials": a.n_trials,
            "metrics_final_accuracy": r["final_accuracy"],
            "metrics_eval_trials": r["final_eval_trials"],
        }
        lo, hi = wilson(r["final_accuracy"] * r["final_eval_trials"], r["final_eval_trials"])
        row.update(metrics_ci_lo=round(lo, 4), metrics_ci_hi=round(hi, 4))
        for j, reg in enumerate(REGIMES):
            k = 2 * i + j
            perf = arr["performance"][k]
            acc = float(perf.mean())
            lo, hi = wilson(perf.sum(), a.n_trials)
            row[f"{reg}_accuracy"] = round(acc, 4)
            row[f"{reg}_ci_lo"] = round(lo, 4)
            row[f"{reg}_ci_hi"] = round(hi, 4)
            row[f"{reg}_no_response"] = round(float(np.mean(arr["choice"][k] == 0)), 4)
            row[f"{reg}_fixation_break"] = round(float(arr["abort"][k].mean()), 4)
            row[f"{reg}_premature"] = round(float(arr["premature"][k].mean()), 4)
            row[f"{reg}_choice1"] = round(float(np.mean(arr["choice"][k] == 1)), 4)
            row[f"{reg}_choice2"] = round(float(np.mean(arr["choice"][k] == 2)), 4)
        hs = arr["h_start"][2 * i + 1]
        fin = np.isfinite(hs)
        row["continuous_h_start_median"] = float(f"{np.median(hs[fin]):.4g}") if fin.any() else ""
        row["continuous_h_start_max"] = float(f"{hs[fin].max():.4g}") if fin.any() else ""
        # float64 overflow: once |h| is inf the logits are nan and argmax gives 0 (fixate)
        row["continuous_nonfinite"] = round(float(np.mean(~fin)), 4)
        row["continuous_first_nonfinite_trial"] = int(np.argmax(~fin)) if (~fin).any() else ""
        perf_c = arr["performance"][2 * i + 1]
        row["continuous_accuracy_finite"] = round(float(perf_c[fin].mean()), 4) if fin.any() else ""
        row["correct_is_choice1"] = round(float(np.mean(arr["gt"][2 * i] == 1)), 4)
        row["reset_vs_metrics_p"] = round(
            two_prop_p(
                row["reset_accuracy"], a.n_trials, r["final_accuracy"], r["final_eval_trials"]
            ),
            4,
        )
        rows.append(row)
    # merge: rows of other networks already in the file are kept (one row per run id)
    a.csv.parent.mkdir(parents=True, exist_ok=True)
    new_ids = {r["run_id"] for r in rows}
    kept: list[dict[str, Any]] = []
    if a.csv.is_file():
        with a.csv.open(newline="") as f:
            kept = [r for r in csv.DictReader(f) if r["run_id"] not in new_ids]
    for r in kept:
        r.setdefault("trained_trials", "reset")
        r["trained_trials"] = r["trained_trials"] or "reset"
    fields = list(rows[0]) + [k for r in kept for k in r if k not in rows[0]]
    fields = list(dict.fromkeys(fields))
    tmp = a.csv.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=fields, restval="")
        wr.writeheader()
        wr.writerows(kept + rows)
    os.replace(tmp, a.csv)

    summary: dict[str, Any] = {}
    for alg in sorted({r["algorithm"] for r in rows}):
        sub = [r for r in rows if r["algorithm"] == alg]
        for col in ("metrics_final_accuracy", "reset_accuracy", "continuous_accuracy"):
            v = np.array([r[col] for r in sub])
            summary[f"{alg}/{col}"] = {
                "n_networks": len(v),
                "mean": round(float(v.mean()), 4),
                "min": round(float(v.min()), 4),
                "max": round(float(v.max()), 4),
            }
    a.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "meta": meta,
        "install": install,
        "task_vs_neurogym_defaults": defaults_match,
        "observation_check": check,
        "summary": summary,
        "cpu_s": time.process_time()
        - t0
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
    }
    a.json.write_text(json.dumps(report, indent=1))

    hdr = f"{'run_id':16s} {'alg':3s} {'seed':>4s} {'metrics':>7s} {'reset [95% CI]':>22s} {'continuous [95% CI]':>22s} {'no-resp':>7s}"
    print(hdr)
    for r in rows:
        print(
            f"{r['run_id']:16s} {r['algorithm']:3s} {r['seed']:4d} {r['metrics_final_accuracy']:7.3f} "
            f"{r['reset_accuracy']:6.3f} [{r['reset_ci_lo']:.3f},{r['reset_ci_hi']:.3f}]     "
            f"{r['continuous_accuracy']:6.3f} [{r['continuous_ci_lo']:.3f},{r['continuous_ci_hi']:.3f}]     "
            f"{r['continuous_no_response']:7.3f}"
        )
    for k, v in summary.items():
        print(
            f"{k:32s} mean {v['mean']:.3f}  range {v['min']:.3f}-{v['max']:.3f}  (n={v['n_networks']})"
        )
    print(
        f"observation check ({check['trials']} trials): periods/choice match "
        f"{check['periods_and_correct_choice_match']}, max |diff| noise-free per period "
        + ", ".join(
            f"{p} {d['max_abs_diff_noise_free']:.2g}" for p, d in check["per_period"].items()
        )
        + f"; simulate_numpy agrees {check['simulate_numpy_agrees_with_loop']}"
    )
    print(
        f"same trial stream in all envs: {meta['same_stream_all_envs']}; noise-free twin same "
        f"trials: {check['noise_free_twin_has_same_trials']}; worker loop {meta['wall_s']:.1f} s; "
        f"CPU {report['cpu_s']:.0f} s"
    )
    print(f"wrote {a.csv} and {a.json}")


if __name__ == "__main__":
    main()
