"""Provenance: the settings table of the methods chapter (the versions and machine of a
result are recorded by :mod:`lib.store.environment`, re-exported here).

Every default of the companion lives in a frozen config dataclass whose fields carry
``metadata={"source": ..., "why": ...}``; :func:`provenance_table` turns them into the
methods chapter's table, so the book cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lib.analysis.balance import BalanceConfig
from lib.analysis.census import CensusConfig
from lib.analysis.dynamics import OrbitConfig
from lib.analysis.sculpting import SculptConfig
from lib.analysis.stability import StabilityConfig
from lib.analysis.unit_information import InfoConfig
from lib.core.network import NetworkConfig
from lib.core.task import STREAM_TRIALS, TaskConfig, ideal_observer_accuracy
from lib.pipelines.profiles import (
    ABLATION_HYPOTHESES,
    ABLATION_REGIME,
    ABLATIONS,
    CHECKPOINT_SEEDS,
    DEFAULT_DELTA,
    LEAK_ALPHA,
    LONG_HORIZON_CENSUS,
    OLD_NOISE_SIGMA,
    VARIANT_REGIME,
)
from lib.store.environment import code_version, cpu_model, environment_info
from lib.train.ppo import PPOConfig
from lib.train.supervised import SLConfig
from lib.train.training import FINAL_EVAL_TRIALS, criterion_accuracy, initial_activity

__all__ = [
    "code_version",
    "cpu_model",
    "environment_info",
    "provenance_table",
    "stream_growth_table",
]

#: Reasons for analysis settings whose dataclasses carry no field metadata.
_REASONS = {
    "census.grid": "21 x 21 signed coherences per context; odd so that 0 is on the grid",
    "census.coh_max": "the task's largest coherence",
    "census.n_trial_states": "with the zero state and the stimulus-onset state: 5 initial states per grid point",
    "census.dedup_tol": "relative distance under which two fixed points or cycles are one attractor",
    "census.trial_seed": "seed of the real trials that give initial states",
    "orbit.n_transient": "trained maps contract at about 0.9 per step: 1000 steps settle them",
    "orbit.n_record": "two Birkhoff halves of 1000 steps; exponent error ~1/T",
    "orbit.max_period": "longest cycle looked for; also the largest denominator of the rationality test",
    "orbit.n_exponents": "enough to tell an invariant circle (0, -, -) from a focus (-, -)",
    "orbit.period_rtol": "relative tolerance of x_t = x_(t-p)",
    "orbit.period_atol": "absolute tolerance of x_t = x_(t-p)",
    "orbit.n_period_checks": "periodicity must hold on this many consecutive steps",
    "orbit.lyap_tol": "QR estimates of a zero exponent are within ~1e-3 after 2000 steps",
    "orbit.div_threshold": "hard bound on the state's max-norm",
    "orbit.escape_norm": "far from the origin a ReLU map is homogeneous: sustained growth there is divergence",
    "orbit.escape_growth": "growth factor per window that counts as sustained",
    "orbit.escape_every": "window of the escape test (steps)",
    "orbit.birkhoff_digits": "chaotic orbits agree to ~0.5 log10 N = 1.5 digits, smooth circles to > 8, ReLU circles to 3-6; chapter 2 shows the sensitivity",
    "orbit.rational_tol": "rotation numbers this close to p/q (q <= max_period) count as rational",
    "orbit.n_observables": "random linear observables for the Birkhoff test and the rotation plane",
    "orbit.n_points": "representative points kept per orbit",
    "orbit.seed": "seed of tangent vectors and observables",
    "balance.n_trials": "real trials for decision states and selectivity",
    "balance.robustness_trials": "trials per perturbed accuracy",
    "balance.noise_levels": "std of Gaussian noise added to the state every step",
    "balance.weight_eps": "perturbation of W_rec in units of its sd",
    "balance.ablation_fractions": "fraction of units silenced",
    "balance.n_draws": "random draws per perturbation level",
    "balance.n_control_draws": "size-matched random ablations per population",
    "balance.alpha": "selectivity test level after Holm correction",
    "balance.seed": "seed of the trials and perturbation draws",
    "balance.threshold": "a unit is active when its activity exceeds this (ReLU zeros are exact)",
    "balance.contexts": "populations are defined in both contexts",
    "info.n_trials": "real trials for the MI estimates",
    "info.seed": "seed of the trials and shifts",
    "info.active_threshold": "a unit enters the MI analysis when its activity exceeds this",
    "info.n_shuffles": "circular shifts per variable (p from a normal fitted to the shift null)",
    "info.n_fc_shuffles": "population shifts for the connectivity null",
    "info.alpha": "significance after Holm correction over units",
    "info.fc_quantile": "quantile of the null MI above which a pair is an edge",
    "sculpt.census": "11 x 11 grid, 2 real-trial initial states: a quarter of a full census, for ~80 checkpoints",
    "sculpt.n_trials": "real trials per context for decision states and selectivity",
    "sculpt.threshold": "activity threshold of the population definitions, as balance.threshold",
    "sculpt.alpha": "selectivity test level after Holm correction, as balance.alpha",
    "sculpt.eval_seed": "seed of those trials",
    "sculpt.eval_trials": "fresh trials of the greedy accuracy, the same for every checkpoint",
    "sculpt.checkpoint_runs": "seeds 0-4 of the default configuration (PPO and SL) keep checkpoints",
    "sculpt.level": "agreement with the final labels that counts as crystallised; fixed before the data were seen",
}


def _rows(prefix: str, cfg: Any) -> list[dict[str, Any]]:
    rows = []
    for f in dataclasses.fields(cfg):
        meta = f.metadata or {}
        rows.append(
            {
                "setting": f"{prefix}.{f.name}",
                "value": getattr(cfg, f.name),
                "source": meta.get("source", "companion"),
                "reason": meta.get("why", "") or _REASONS.get(f"{prefix}.{f.name}", ""),
            }
        )
    return rows


def provenance_table():  # -> pandas.DataFrame
    """Every setting of a default run: value, source (paper / NeuroGym / companion) and why.

    Also lists the derived quantities a reader checks first: period lengths in steps, the
    per-step noise, the ideal observer's accuracy and the stopping criterion.
    """
    import pandas as pd

    task, net, sc = TaskConfig(), NetworkConfig(), SculptConfig()
    cz = CensusConfig()
    census_rows = [r for r in _rows("census", cz) if r["setting"] != "census.orbit"]
    rows = (
        _rows("task", task)
        + _rows("network", net)
        + _rows("ppo", PPOConfig())
        + _rows("sl", SLConfig())
        + census_rows
        + _rows("orbit", OrbitConfig())
        + _rows("balance", BalanceConfig())
        + _rows("info", InfoConfig())
        + [r for r in _rows("sculpt", sc) if r["setting"] != "sculpt.seed"]
        + _rows("stability", StabilityConfig())
    )
    for r in rows:
        if r["setting"] == "sculpt.census":
            r["value"] = (
                f"grid {sc.census.grid}, n_trial_states {sc.census.n_trial_states}, "
                "the rest as census.* and orbit.*"
            )
    lo, hi = task.delay_steps_range
    derived = [
        (
            "task.steps",
            f"fixation {task.n_fixation}, stimulus {task.n_stimulus}, delay {lo}-{hi}, decision {task.n_decision}",
            "NeuroGym",
            "durations floored to multiples of dt",
        ),
        ("task.noise_std_per_step", round(task.noise_std, 4), "NeuroGym", "sigma / sqrt(dt)"),
        (
            "network.expected_spectral_radius",
            round(net.expected_spectral_radius, 3),
            "companion",
            "delta * sqrt(N/3), circular law",
        ),
        (
            "ideal_observer_accuracy",
            round(ideal_observer_accuracy(task), 4),
            "companion",
            "analytic, lib.core.task.ideal_observer_accuracy",
        ),
        (
            "criterion_accuracy",
            round(criterion_accuracy(task, SLConfig().criterion_fraction), 4),
            "companion",
            "criterion_fraction x ideal observer; the paper's literal 95 % is above the ideal observer",
        ),
        (
            "final_eval_trials",
            FINAL_EVAL_TRIALS,
            "companion",
            "independent trials for the recorded final accuracy",
        ),
        (
            "sculpt.checkpoint_runs",
            f"seeds {CHECKPOINT_SEEDS[0]}-{CHECKPOINT_SEEDS[-1]}, delta {DEFAULT_DELTA:g}, "
            f"{NetworkConfig.hidden} units",
            "companion",
            _REASONS["sculpt.checkpoint_runs"],
        ),
        ("sculpt.level", 0.9, "companion", _REASONS["sculpt.level"]),
        (
            "task.stream_trials",
            STREAM_TRIALS,
            "companion",
            "continuous regime: trials per stream in evaluations and analyses; each stream "
            "starts from h = 0, as a NeuroGym run does",
        ),
        (
            "variants.trials",
            VARIANT_REGIME,
            "companion",
            "the training variants of chapter 8 are trained in NeuroGym's trial regime "
            "(methods: trial regime)",
        ),
        (
            "variants.leaky.alpha",
            LEAK_ALPHA,
            "companion",
            "alpha = dt/tau with tau = 200 ms (two steps): the slowest time constant that lets "
            "one stimulus period move the state several time constants; the paper says "
            "'vanilla RNN' and states no time constant",
        ),
        (
            "variants.old_noise.sigma",
            OLD_NOISE_SIGMA,
            "NeuroGym",
            f"sigma/sqrt(dt) = {OLD_NOISE_SIGMA / TaskConfig().dt ** 0.5:g} per step, the older "
            "NeuroGym default; the criterion follows that task's ideal observer",
        ),
        (
            "variants.plain_ce.decision_weight",
            1.0,
            "NeuroGym",
            "every step weighted equally, as NeuroGym's supervised example; PPO unchanged",
        ),
        (
            "stability.ns_candidate",
            "no stable fixed point, and an unstable focus (a complex pair with |mu| > 1)",
            "companion",
            "the paper names linear stability analysis; a Neimark-Sacker bifurcation (a complex "
            "pair leaving the unit circle) is where an invariant circle (QP) is born, so such a "
            "point is where a QP attractor can exist without a stable fixed point beside it",
        ),
        (
            "variants.long_horizon.census",
            f"grid {LONG_HORIZON_CENSUS.grid}, {LONG_HORIZON_CENSUS.orbit.n_transient} transient "
            f"+ {LONG_HORIZON_CENSUS.orbit.n_record} recorded steps",
            "companion",
            "10x the main census's horizon, to see whether a slow drift or a late escape changes "
            "a point's class; on every other grid point (11 x 11 per context, about a quarter "
            "of the points) to bound the cost",
        ),
        (
            "information.copnorm_ties",
            "average",
            "companion",
            "tied values (a ReLU unit's many exact zeros) share one copula score; Ince et al.'s "
            "code orders ties by position, which creates spurious dependence",
        ),
    ]
    for name, change in ABLATIONS.items():
        what = "; ".join(
            f"{part}: " + ", ".join(f"{k}={v}" for k, v in over.items())
            for part, over in change.items()
        )
        derived.append(
            (
                f"why.{name}",
                f"{what} ({ABLATION_REGIME} regime, delta {DEFAULT_DELTA:g})",
                "companion",
                f"chapter 9 ablation; tests whether {ABLATION_HYPOTHESES[name]}",
            )
        )
    rows += [{"setting": s, "value": v, "source": src, "reason": why} for s, v, src, why in derived]
    df = pd.DataFrame(rows)
    df["value"] = df["value"].map(str)
    return df


def stream_growth_table(
    delta: float = 0.165, seeds: tuple[int, ...] = tuple(range(10)), store: Any = None
):  # -> pandas.DataFrame
    """Why wide-δ runs fail in the continuous regime: per seed of the initialisation sweep,
    the largest hidden-state norm of the untrained network in either trial regime
    (:func:`lib.train.training.initial_activity`, 200 trials) beside the state of that seed's
    continuous-regime RL and SL runs in ``store`` (done / failed / missing). Trains nothing."""
    import pandas as pd

    from lib.pipelines.sweep import sweep_status

    act = pd.DataFrame(initial_activity(NetworkConfig(delta=delta), TaskConfig(), list(seeds)))
    status = sweep_status("initialization", "paper", store, "continuous")
    status = status[(status.delta == delta) & status.seed.isin(seeds)]
    states = status.pivot(index="seed", columns="algorithm", values="state")
    states = states.rename(columns={"ppo": "RL run", "sl": "SL run"})
    return act.set_index("seed").join(states).reset_index()
