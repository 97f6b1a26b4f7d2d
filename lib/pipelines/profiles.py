"""The two profiles, ``smoke`` and ``paper``, and the settings several layers share, each
written once.

``paper`` is the companion's defaults (the config dataclasses' own defaults, 250 units, the
seeds and δ grid of the sweeps); ``smoke`` is tiny networks and budgets that run in seconds and
prove only that the code runs. The sweeps (:mod:`lib.pipelines.sweep`) and the notebooks' run selection
(:mod:`lib.pipelines.experiments`) both take their trainer settings from here, so a smoke run of a
chapter and of a sweep are the same run.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lib.analysis.census import CensusConfig
from lib.analysis.dynamics import OrbitConfig
from lib.analysis.sculpting import SculptConfig
from lib.core.network import NetworkConfig
from lib.core.task import TRIAL_REGIMES, task_for_level
from lib.train.ppo import PPOConfig
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig

__all__ = [
    "PROFILES",
    "SMOKE_HIDDEN",
    "PAPER_SEEDS",
    "CHECKPOINT_SEEDS",
    "CHECKPOINT_SEEDS_BY_REGIME",
    "DEFAULT_DELTA",
    "LOW_COHERENCE",
    "SMOKE_ORBIT",
    "SMOKE_CENSUS",
    "SMOKE_POPULATIONS",
    "LONG_HORIZON_CENSUS",
    "trainers",
    "network",
    "census_config",
    "populations_config",
    "VARIANTS",
    "VARIANT_REGIME",
    "LEAK_ALPHA",
    "OLD_NOISE_SIGMA",
    "variant_spec",
    "variant_of",
    "ABLATIONS",
    "ABLATION_HYPOTHESES",
    "ABLATION_REGIME",
    "AUX_CE_LAMBDA",
    "OVERTRAIN",
    "ablation_algorithms",
    "ablation_spec",
    "teacher_spec",
]

PROFILES = ("smoke", "paper")
#: Network size of the smoke profile.
SMOKE_HIDDEN = 16
#: Seeds of every paper-scale ensemble (claims 1–4 use the default configuration's).
PAPER_SEEDS: tuple[int, ...] = tuple(range(10))
#: Runs of the default configuration whose checkpoints are kept (the training-history subset).
CHECKPOINT_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
#: Seeds whose default runs keep checkpoints, per trial regime: every seed in the main
#: (continuous) regime, so that claim S rests on 10 + 10 networks; seeds 0-4 in the reset regime.
CHECKPOINT_SEEDS_BY_REGIME: dict[str, tuple[int, ...]] = {
    "reset": CHECKPOINT_SEEDS,
    "continuous": tuple(range(10)),
}
#: The default initialisation width.
DEFAULT_DELTA: float = NetworkConfig.delta
#: Grid points with both |c1| and |c2| at most this (percent) count as low coherence: the
#: task's coherences ±5 and ±15 %, not ±50 %.
LOW_COHERENCE = 15.0
#: Orbit settings of the smoke profile (short transients and records).
SMOKE_ORBIT = OrbitConfig(n_transient=50, n_record=200, max_period=8)
#: Census of the smoke profile: a 3 × 3 grid, one trial state.
SMOKE_CENSUS = CensusConfig(grid=3, n_trial_states=1, orbit=SMOKE_ORBIT)
#: The ``long_horizon`` analysis variant: transient and record 10× the default's, on the 11 × 11
#: grid (every other point of the default 21 × 21 grid, so the two censuses are compared point
#: by point at about three times the default's cost).
LONG_HORIZON_CENSUS = CensusConfig(
    grid=11,
    orbit=dataclasses.replace(OrbitConfig(), n_transient=10_000, n_record=20_000),
)
#: Populations settings of the smoke profile.
SMOKE_POPULATIONS = SculptConfig(n_trials=40, eval_trials=100)


#: Leak of the ``leaky`` variant: α = dt/τ with τ = 200 ms (two steps of dt = 100 ms), a
#: companion choice: the slowest time constant that still lets one stimulus period (7 steps)
#: move the state several time constants.
LEAK_ALPHA = 0.5
#: Input noise of the ``old_noise`` variant: σ = 2 gives σ/√dt = 0.2 per step, the older
#: NeuroGym default (the criterion follows the ideal observer of that task).
OLD_NOISE_SIGMA = 2.0
#: The trial regime the training variants are trained in (NeuroGym's; argued in the methods
#: chapter).
VARIANT_REGIME = "continuous"
#: The training-side open choices, each one change to the default run (per part of the spec:
#: ``task``, ``network`` or a trainer ``ppo`` / ``sl``). A variant that changes nothing for an
#: algorithm (plain cross-entropy for PPO) is that algorithm's baseline run.
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "leaky": {"network": {"alpha": LEAK_ALPHA}},
    "old_noise": {"task": {"sigma": OLD_NOISE_SIGMA}},
    "plain_ce": {"sl": {"decision_weight": 1.0}},
}


#: λ of the PPO + supervised ablation. At initialisation (seeds 0–2, continuous regime, one
#: minibatch of the first rollout) the gradient norm of PPO's loss is 0.14–0.17 and that of the
#: cross-entropy 1.15–1.23; λ = 0.1 makes the cross-entropy's gradient 0.7–0.8× PPO's, so
#: neither term dominates at the start.
AUX_CE_LAMBDA = 0.1
#: The past-criterion ablation trains on to this multiple of each run's own trials to
#: criterion: a budget relative to each run, so fast and slow learners are both trained well
#: past the point where the default run stops (one fixed budget would overtrain them unequally).
OVERTRAIN = 3.0
#: The trial regime of the ablations (the regime a NeuroGym user trains in).
ABLATION_REGIME = "continuous"
#: Marks the teacher of the distillation ablation: the stored PPO baseline run of the same seed.
_PPO_TEACHER = "<ppo baseline of the same seed>"
#: The ablations of chapter 9: one ingredient of RL or of SL changed at a time on the
#: continuous baseline (keys as in :data:`VARIANTS`). A cell is trained for the algorithms
#: whose trainer it changes, or for both when it changes the task or the network.
ABLATIONS: dict[str, dict[str, dict[str, Any]]] = {
    # CE on the decision step only: supervision as sparse as PPO's reward
    "sl_decision_only": {"sl": {"fixation_weight": 0.0}},
    # PPO's optimiser: lr 3e-4, gradient norm 0.5, PPO's minibatch (64 streams x 48 steps)
    "sl_ppo_optimiser": {"sl": {"lr": 3e-4, "grad_clip": 0.5, "window": 48}},
    # targets: the stored PPO network's action probabilities (the RL solution, not its process)
    "sl_distilled": {"sl": {"teacher": _PPO_TEACHER}},
    "ppo_no_entropy": {"ppo": {"ent_coef": 0.0}},
    # policy gradient with a value baseline: no clipping, each sample used once
    "a2c": {"ppo": {"policy_loss": "unclipped", "n_epochs": 1}},
    "ppo_aux_ce": {"ppo": {"aux_ce": AUX_CE_LAMBDA}},
    "past_criterion": {"ppo": {"overtrain": OVERTRAIN}, "sl": {"overtrain": OVERTRAIN}},
    # tau = 500 ms (alpha = dt/tau); with the baseline (alpha 1) and leaky (0.5) a trend in alpha
    "leaky_0.2": {"network": {"alpha": 0.2}},
}


def _check(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")


def trainers(profile: str) -> dict[str, PPOConfig | SLConfig]:
    """The trainer settings per algorithm of a profile."""
    _check(profile)
    if profile == "smoke":
        return {
            "ppo": PPOConfig(
                n_envs=16,
                n_steps=16,
                n_minibatches=2,
                n_epochs=1,
                eval_every=2,
                eval_trials=100,
                max_trials=200,
            ),
            "sl": SLConfig(batch=16, eval_every=5, eval_trials=100, max_trials=320),
        }
    return {"ppo": PPOConfig(), "sl": SLConfig()}


def network(profile: str, delta: float = DEFAULT_DELTA, hidden: int | None = None) -> NetworkConfig:
    """The network of a profile at ``delta`` (smoke: :data:`SMOKE_HIDDEN` units whatever
    ``hidden`` says; paper: ``hidden``, default 250)."""
    _check(profile)
    if profile == "smoke":
        return NetworkConfig(hidden=SMOKE_HIDDEN, delta=float(delta))
    return NetworkConfig(
        hidden=int(hidden) if hidden is not None else NetworkConfig.hidden, delta=float(delta)
    )


def census_config(profile: str) -> CensusConfig:
    """The census settings of a profile."""
    _check(profile)
    return SMOKE_CENSUS if profile == "smoke" else CensusConfig()


def populations_config(profile: str) -> SculptConfig:
    """The populations settings of a profile."""
    _check(profile)
    return SMOKE_POPULATIONS if profile == "smoke" else SculptConfig()


def variant_spec(
    name: str, algorithm: str, seed: int, profile: str = "paper", trials: str = "reset"
) -> RunSpec:
    """The run of a training variant (``baseline``: the default run) at the default δ.

    Raises ``ValueError`` for an unknown variant, profile or trial regime.
    """
    _check(profile)
    if name != "baseline" and name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose baseline or one of {list(VARIANTS)}")
    if trials not in TRIAL_REGIMES:
        raise ValueError(f"unknown trial regime {trials!r}; choose one of {TRIAL_REGIMES}")
    change = VARIANTS.get(name, {})
    task = task_for_level("standard", trials=trials, **change.get("task", {}))
    net = dataclasses.replace(network(profile), **change.get("network", {}))
    trainer = dataclasses.replace(trainers(profile)[algorithm], **change.get(algorithm, {}))
    return RunSpec(algorithm, seed, task, net, trainer)


def variant_of(spec: RunSpec, profile: str = "paper") -> str | None:
    """The training variant or ablation a run is (``baseline`` for the default run, which is
    also the ``plain_ce`` variant's PPO run), or None."""
    for name in ("baseline", *VARIANTS):
        if variant_spec(name, spec.algorithm, spec.seed, profile, spec.task.trials) == spec:
            return name
    for name in ABLATIONS:
        if spec.algorithm in ablation_algorithms(name) and spec == ablation_spec(
            name, spec.algorithm, spec.seed, profile, spec.task.trials
        ):
            return name
    return None


#: What each ablation tests (chapter 9 and the methods chapter's settings table).
ABLATION_HYPOTHESES: dict[str, str] = {
    "sl_decision_only": "dense supervision on the fixation steps creates QP",
    "sl_ppo_optimiser": "the optimiser, not the objective, makes the difference",
    "sl_distilled": "the RL solution (its action probabilities), not the RL training process, "
    "decides QP",
    "ppo_no_entropy": "PPO's entropy bonus suppresses or creates QP",
    "a2c": "PPO's clipping and sample reuse, not policy gradient as such, decide QP",
    "ppo_aux_ce": f"a supervised signal added to RL (lambda = {AUX_CE_LAMBDA:g}, whose gradient at "
    "initialisation is 0.7-0.8x PPO's) moves QP towards SL",
    "past_criterion": f"QP changes after the criterion (both trained to {OVERTRAIN:g}x their own "
    "trials to criterion)",
    "leaky_0.2": "the leak closes the gap (alpha 0.2, with alpha 1 and 0.5 a trend in alpha)",
}


def ablation_algorithms(name: str) -> tuple[str, ...]:
    """The algorithms an ablation trains: those whose trainer it changes, or both."""
    if name not in ABLATIONS:
        raise ValueError(f"unknown ablation {name!r}; choose one of {list(ABLATIONS)}")
    algs = tuple(a for a in ("ppo", "sl") if a in ABLATIONS[name])
    return algs or ("ppo", "sl")


def teacher_spec(seed: int, profile: str = "paper", trials: str = ABLATION_REGIME) -> RunSpec:
    """The teacher of the distillation ablation: the PPO baseline run of that seed."""
    return variant_spec("baseline", "ppo", seed, profile, trials)


def ablation_spec(
    name: str, algorithm: str, seed: int, profile: str = "paper", trials: str = ABLATION_REGIME
) -> RunSpec:
    """The run of an ablation (:data:`ABLATIONS`) at the default δ.

    Raises ``ValueError`` for an unknown ablation, profile or trial regime, or an algorithm
    the ablation does not train (:func:`ablation_algorithms`).
    """
    if algorithm not in ablation_algorithms(name):
        raise ValueError(f"ablation {name!r} trains {ablation_algorithms(name)}, not {algorithm!r}")
    base = variant_spec("baseline", algorithm, seed, profile, trials)
    change = ABLATIONS[name]
    over = dict(change.get(algorithm, {}))
    if over.get("teacher") == _PPO_TEACHER:
        over["teacher"] = teacher_spec(seed, profile, trials).run_id
    return RunSpec(
        algorithm,
        seed,
        dataclasses.replace(base.task, **change.get("task", {})),
        dataclasses.replace(base.network, **change.get("network", {})),
        dataclasses.replace(base.trainer, **over),
    )
