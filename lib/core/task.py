r"""Context-dependent decision making (CtxDM), batched in torch.

The task follows NeuroGym's ``ContextDecisionMaking-v0`` in its 1.0.x semantics (Mante et al.
2013 style). One trial has four periods (``dt`` = 100 ms per step):

=========  ==============================  =====================================
period     duration                        fixation input
=========  ==============================  =====================================
fixation   300 ms -> 3 steps               1
stimulus   750 ms -> 7 steps               1
delay      truncated exponential           1
decision   100 ms -> 1 step                0 (its offset is the go cue)
=========  ==============================  =====================================

As in NeuroGym, every duration is floored to a multiple of ``dt``. The delay is drawn from an
exponential of mean 600 ms restricted (by rejection) to [300, 3000) ms.

Observation channels (7), named as in NeuroGym (:data:`CHANNELS`, the one name -> index map):
``fixation, stim1_mod1, stim2_mod1, stim1_mod2, stim2_mod2, context1, context2``.
For a signed coherence :math:`s` (in percent) in a modality the stimulus channels carry

.. math:: x_{ch1} = (1 + s/100)/2, \qquad x_{ch2} = (1 - s/100)/2

during the stimulus period only, plus Gaussian noise of std :math:`\sigma/\sqrt{dt}` (0.1 per
step) on all seven channels in the stimulus period. The sign of the relevant modality's
coherence is the correct choice (positive -> action 1, negative -> action 2).

Two faces are provided:

* :func:`sample_trials` returns padded, masked batches ``[T, B, 7]`` for supervised
  learning and analysis;
* :class:`CtxDMEnv` is a vectorised environment of ``B`` independent trials with per-
  environment auto-reset, for PPO.

Both draw their observations from the same function, so the two faces cannot drift apart; that
function's noise-free part, :func:`encode_inputs`, is also the input the analyses hold
constant (:func:`period_inputs`, used by the census and the population analysis).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = [
    "CHANNELS",
    "CHANNEL_NAMES",
    "N_ACTIONS",
    "N_INPUTS",
    "PERIOD_CODES",
    "PERIOD_NAMES",
    "CtxDMEnv",
    "STREAM_TRIALS",
    "Stream",
    "TRIAL_REGIMES",
    "TaskConfig",
    "TrialStreamer",
    "Trials",
    "ideal_observer_accuracy",
    "COMPLEXITY_LEVELS",
    "encode_inputs",
    "noisy_channels",
    "period_inputs",
    "ideal_observer_p_choice1",
    "level_of",
    "task_for_level",
    "observe",
    "sample_trial_params",
    "sample_trials",
    "stream_trials",
]

#: Observation channels in order (NeuroGym's names for ``ContextDecisionMaking-v0``).
CHANNEL_NAMES: tuple[str, ...] = (
    "fixation",
    "stim1_mod1",
    "stim2_mod1",
    "stim1_mod2",
    "stim2_mod2",
    "context1",
    "context2",
)
#: Channel name -> index of the observation vector (the only place the layout is written).
CHANNELS: dict[str, int] = {name: i for i, name in enumerate(CHANNEL_NAMES)}
N_INPUTS = len(CHANNEL_NAMES)
N_ACTIONS = 3
FIXATE = 0

# Period codes used in ``Trials.period``.
PERIOD_FIXATION, PERIOD_STIMULUS, PERIOD_DELAY, PERIOD_DECISION, PERIOD_PAD = 0, 1, 2, 3, -1
PERIOD_NAMES = {0: "fixation", 1: "stimulus", 2: "delay", 3: "decision"}
#: Period name -> code (the inverse of :data:`PERIOD_NAMES`).
PERIOD_CODES = {name: code for code, name in PERIOD_NAMES.items()}

SEMANTICS = ("neurogym1", "neurogym2")
#: How a network meets trials: ``reset`` (h = 0 at every trial start, the companion's first
#: choice) or ``continuous`` (trials back to back, the state carried, NeuroGym's convention).
TRIAL_REGIMES = ("reset", "continuous")
#: Trials per stream in the continuous regime's evaluations and analyses: each stream starts
#: from h = 0 (as NeuroGym's own runs do), so 1 in ``STREAM_TRIALS`` trials follows none.
STREAM_TRIALS = 20


def _meta(source: str, why: str = "") -> dict[str, str]:
    return {"source": source, "why": why}


@dataclass(frozen=True)
class TaskConfig:
    """Every constant of the CtxDM task, validated at construction.

    Parameters
    ----------
    dt : float
        Step in ms.
    fixation_ms, stimulus_ms, decision_ms : float
        Fixed period durations in ms (floored to multiples of ``dt``).
    delay_mean_ms, delay_min_ms, delay_max_ms : float
        Truncated exponential delay: exponential of mean ``delay_mean_ms`` restricted to
        ``[delay_min_ms, delay_max_ms)`` by rejection (NeuroGym's ``trunc_exp``).
    coherences : tuple of float
        Unsigned coherences in percent; each modality draws one independently, with a random
        sign.
    sigma : float
        Input noise; the per-step std is ``sigma / sqrt(dt)``.
    semantics : {"neurogym1", "neurogym2"}
        ``neurogym1`` (default): fixation input is 1 until the decision period (go cue) and
        noise is added to all 7 channels. ``neurogym2``: fixation input only in the fixation
        period (no go cue) and noise on the 4 stimulus channels only. Context channels are
        kept in both (the task is unsolvable without them).
    reward_abort, reward_correct, reward_fail : float
        Reward for breaking fixation in the fixation period (the trial goes on), for a
        correct and for a wrong choice in the decision period.
    trials : {"reset", "continuous"}
        The trial regime (:data:`TRIAL_REGIMES`): ``reset`` starts every trial from h = 0;
        ``continuous`` runs trials back to back with the state carried, as NeuroGym's
        ``Dataset`` and ``TrialEnv`` do. Every trainer, evaluation and analysis of a run
        reads it from here. It enters the run id only when it is not ``reset``, so the runs
        stored before it existed keep their ids.
    """

    dt: float = field(default=100.0, metadata=_meta("NeuroGym"))
    fixation_ms: float = field(default=300.0, metadata=_meta("NeuroGym"))
    stimulus_ms: float = field(default=750.0, metadata=_meta("NeuroGym"))
    delay_mean_ms: float = field(default=600.0, metadata=_meta("NeuroGym"))
    delay_min_ms: float = field(default=300.0, metadata=_meta("NeuroGym"))
    delay_max_ms: float = field(default=3000.0, metadata=_meta("NeuroGym"))
    decision_ms: float = field(default=100.0, metadata=_meta("NeuroGym"))
    coherences: tuple[float, ...] = field(default=(5.0, 15.0, 50.0), metadata=_meta("NeuroGym"))
    sigma: float = field(default=1.0, metadata=_meta("NeuroGym"))
    semantics: str = field(
        default="neurogym1",
        metadata=_meta(
            "companion",
            "NeuroGym 1.0.x keeps the go cue (fixation offset); 2.x drops it (open upstream "
            "issue), which makes the response time unobservable",
        ),
    )
    reward_abort: float = field(default=-0.1, metadata=_meta("NeuroGym"))
    reward_correct: float = field(default=1.0, metadata=_meta("NeuroGym"))
    reward_fail: float = field(default=0.0, metadata=_meta("NeuroGym"))
    trials: str = field(
        default="reset",
        metadata=_meta(
            "companion",
            "unknown in the paper; NeuroGym never resets the state (continuous), the companion "
            "trained its first 140 networks with a reset at every trial; both are compared",
        ),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "coherences", tuple(float(c) for c in self.coherences))
        if not (self.dt > 0 and math.isfinite(self.dt)):
            raise ValueError(f"TaskConfig.dt must be a positive number of ms, got {self.dt!r}")
        for name in ("fixation_ms", "stimulus_ms", "decision_ms"):
            if getattr(self, name) < self.dt:
                raise ValueError(
                    f"TaskConfig.{name}={getattr(self, name)!r} is shorter than one step "
                    f"(dt={self.dt}); every period needs at least one step"
                )
        if not (0 < self.delay_min_ms < self.delay_max_ms):
            raise ValueError(
                f"TaskConfig needs 0 < delay_min_ms < delay_max_ms, got "
                f"{self.delay_min_ms!r}, {self.delay_max_ms!r}"
            )
        if self.delay_min_ms < self.dt:
            raise ValueError("TaskConfig.delay_min_ms must be at least one step (dt)")
        if not self.delay_mean_ms > 0:
            raise ValueError(f"TaskConfig.delay_mean_ms must be > 0, got {self.delay_mean_ms!r}")
        if len(self.coherences) == 0:
            raise ValueError("TaskConfig.coherences must not be empty")
        if any(not (0 < c <= 100) for c in self.coherences):
            raise ValueError(f"coherences must lie in (0, 100] percent, got {self.coherences}")
        if not self.sigma >= 0:
            raise ValueError(f"TaskConfig.sigma must be >= 0, got {self.sigma!r}")
        if self.semantics not in SEMANTICS:
            raise ValueError(
                f"TaskConfig.semantics must be one of {SEMANTICS}, got {self.semantics!r}"
            )
        if self.trials not in TRIAL_REGIMES:
            raise ValueError(
                f"TaskConfig.trials must be one of {TRIAL_REGIMES}, got {self.trials!r}"
            )

    # ---- derived quantities -------------------------------------------------------------
    @property
    def n_fixation(self) -> int:
        """Steps in the fixation period."""
        return int(self.fixation_ms // self.dt)

    @property
    def n_stimulus(self) -> int:
        """Steps in the stimulus period."""
        return int(self.stimulus_ms // self.dt)

    @property
    def n_decision(self) -> int:
        """Steps in the decision period."""
        return int(self.decision_ms // self.dt)

    @property
    def delay_steps_range(self) -> tuple[int, int]:
        """Smallest and largest possible delay in steps."""
        lo = int(self.delay_min_ms // self.dt)
        hi = int(math.ceil(self.delay_max_ms / self.dt) - 1)  # delay < delay_max_ms
        return lo, max(lo, hi)

    @property
    def max_steps(self) -> int:
        """Length of the longest possible trial, in steps."""
        return self.n_fixation + self.n_stimulus + self.delay_steps_range[1] + self.n_decision

    @property
    def noise_std(self) -> float:
        """Per-step noise std ``sigma / sqrt(dt)``."""
        return self.sigma / math.sqrt(self.dt)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields (``trials`` only when it is not ``reset``: the
        hashed form of every run stored before the setting existed is unchanged)."""
        d = dataclasses.asdict(self)
        d["coherences"] = list(self.coherences)
        if d["trials"] == "reset":
            del d["trials"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise."""
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown TaskConfig fields: {sorted(unknown)}")
        return cls(**d)


#: Task-difficulty levels of the complexity chapter (a companion choice): harder = lower
#: coherences, more noise, longer delays. ``standard`` is NeuroGym's default task.
COMPLEXITY_LEVELS: dict[str, dict[str, Any]] = {
    "easy": {"coherences": (15.0, 30.0, 50.0), "sigma": 0.5},
    "standard": {},
    "hard": {"coherences": (3.0, 6.0, 12.0), "sigma": 1.5, "delay_mean_ms": 1000.0},
}


def task_for_level(level: str, **overrides: Any) -> TaskConfig:
    """The :class:`TaskConfig` of a complexity level (see :data:`COMPLEXITY_LEVELS`)."""
    if level not in COMPLEXITY_LEVELS:
        raise ValueError(
            f"unknown complexity level {level!r}; choose one of {list(COMPLEXITY_LEVELS)}"
        )
    return TaskConfig(**{**COMPLEXITY_LEVELS[level], **overrides})


def level_of(task: TaskConfig) -> str | None:
    """The complexity level a task belongs to (None if it matches none)."""
    for name in COMPLEXITY_LEVELS:
        if task_for_level(name, semantics=task.semantics, trials=task.trials) == task:
            return name
    return None


@dataclass
class Trials:
    """A padded batch of trials (time-major).

    Attributes
    ----------
    inputs : Tensor ``[T, B, 7]``
        Observations (zero after a trial's end).
    targets : Tensor ``[T, B]`` (long)
        Supervised target action per step: 0 (fixate) except the decision period.
    mask : Tensor ``[T, B]`` (bool)
        True on the steps that belong to the trial.
    period : Tensor ``[T, B]`` (long)
        Period code per step (0 fixation, 1 stimulus, 2 delay, 3 decision, -1 padding).
    context : Tensor ``[B]`` (long)
        0: modality 1 is relevant, 1: modality 2 is relevant.
    coh1, coh2 : Tensor ``[B]``
        Signed coherences in percent of modality 1 and 2.
    correct : Tensor ``[B]`` (long)
        The correct action (1 or 2).
    delay_steps, length : Tensor ``[B]`` (long)
        Delay length and total trial length in steps.
    stim_on, delay_on, decision_on : Tensor ``[B]`` (long)
        First step of the stimulus, delay and decision periods.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    period: torch.Tensor
    context: torch.Tensor
    coh1: torch.Tensor
    coh2: torch.Tensor
    correct: torch.Tensor
    delay_steps: torch.Tensor
    length: torch.Tensor
    stim_on: torch.Tensor
    delay_on: torch.Tensor
    decision_on: torch.Tensor

    @property
    def decision_step(self) -> torch.Tensor:
        """Index of the (last) decision step of each trial, ``[B]``."""
        return self.length - 1

    def select(self, idx: torch.Tensor) -> Trials:
        """The trials ``idx`` of the batch (same padded length)."""
        return Trials(
            **{
                f.name: (v[:, idx] if v.dim() > 1 else v[idx])
                for f in dataclasses.fields(self)
                for v in [getattr(self, f.name)]
            }
        )

    @property
    def relevant_coh(self) -> torch.Tensor:
        """Signed coherence of the relevant modality, ``[B]``."""
        return torch.where(self.context == 0, self.coh1, self.coh2)

    @property
    def irrelevant_coh(self) -> torch.Tensor:
        """Signed coherence of the irrelevant modality, ``[B]``."""
        return torch.where(self.context == 0, self.coh2, self.coh1)


def _trunc_exp_steps(cfg: TaskConfig, n: int, gen: torch.Generator) -> torch.Tensor:
    """Delay lengths in steps: exponential(mean) restricted to [min, max) by rejection."""
    out = torch.empty(n, dtype=torch.float64)
    todo = torch.arange(n)
    while todo.numel() > 0:
        u = torch.rand(todo.numel(), generator=gen, dtype=torch.float64)
        x = -cfg.delay_mean_ms * torch.log1p(-u)
        ok = (x >= cfg.delay_min_ms) & (x < cfg.delay_max_ms)
        out[todo[ok]] = x[ok]
        todo = todo[~ok]
    return torch.div(out, cfg.dt, rounding_mode="floor").long()


def sample_trial_params(
    cfg: TaskConfig,
    batch: int,
    generator: torch.Generator,
    *,
    context: torch.Tensor | None = None,
    coh1: torch.Tensor | None = None,
    coh2: torch.Tensor | None = None,
    delay_steps: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Draw the parameters of ``batch`` trials (anything given is used as is).

    Returns a dict with ``context``, ``coh1``, ``coh2`` (signed, percent), ``correct``
    (1 if the relevant coherence is positive else 2; a zero coherence gets a random side),
    ``delay_steps``, ``stim_on``, ``delay_on``, ``decision_on`` and ``length``.
    """
    if batch <= 0:
        raise ValueError(f"batch must be positive, got {batch}")
    cohs = torch.tensor(cfg.coherences, dtype=torch.float32)

    def signed() -> torch.Tensor:
        idx = torch.randint(len(cohs), (batch,), generator=generator)
        sign = torch.randint(2, (batch,), generator=generator) * 2 - 1
        return cohs[idx] * sign

    ctx = torch.randint(2, (batch,), generator=generator) if context is None else context.long()
    c1 = signed() if coh1 is None else coh1.float()
    c2 = signed() if coh2 is None else coh2.float()
    dl = _trunc_exp_steps(cfg, batch, generator) if delay_steps is None else delay_steps.long()
    for name, t in (("context", ctx), ("coh1", c1), ("coh2", c2), ("delay_steps", dl)):
        if t.shape != (batch,):
            raise ValueError(f"{name} must have shape ({batch},), got {tuple(t.shape)}")
    tie = torch.randint(1, 3, (batch,), generator=generator)
    rel = torch.where(ctx == 0, c1, c2)
    correct = torch.where(rel > 0, 1, torch.where(rel < 0, 2, tie)).long()
    stim_on = torch.full((batch,), cfg.n_fixation, dtype=torch.long)
    delay_on = stim_on + cfg.n_stimulus
    decision_on = delay_on + dl
    length = decision_on + cfg.n_decision
    return {
        "context": ctx,
        "coh1": c1,
        "coh2": c2,
        "correct": correct,
        "delay_steps": dl,
        "stim_on": stim_on,
        "delay_on": delay_on,
        "decision_on": decision_on,
        "length": length,
    }


def period_of(params: dict[str, torch.Tensor], t: torch.Tensor) -> torch.Tensor:
    """Period code at step(s) ``t`` (broadcast against the batch; -1 past the end)."""
    p = torch.full(torch.broadcast_shapes(t.shape, params["length"].shape), PERIOD_PAD)
    p = torch.where(t < params["length"], PERIOD_DECISION, p)
    p = torch.where(t < params["decision_on"], PERIOD_DELAY, p)
    p = torch.where(t < params["delay_on"], PERIOD_STIMULUS, p)
    p = torch.where(t < params["stim_on"], PERIOD_FIXATION, p)
    return p


def encode_inputs(out: Any, semantics: str, period: Any, coh1: Any, coh2: Any, context: Any) -> Any:
    """Write the noise-free observation into ``out`` (the one input encoding).

    Array-library neutral: the arguments are torch tensors (the task) or NumPy arrays (the
    analyses, in float64), broadcast against each other.

    Parameters
    ----------
    out : array ``[..., 7]``
        Zero-filled; written per channel of :data:`CHANNELS`.
    semantics : {"neurogym1", "neurogym2"}
        ``neurogym1``: fixation is 1 in every period but the decision (the go cue);
        ``neurogym2``: fixation only in the fixation period.
    period : int array ``[...]``
        Period codes (:data:`PERIOD_NAMES`; -1 padding gives an all-zero input).
    coh1, coh2 : array
        Signed coherences (percent) of modalities 1 and 2; ``stim1_modX = (1 + s)/2`` and
        ``stim2_modX = (1 - s)/2`` in the stimulus period, 0 otherwise.
    context : int array
        0 (modality 1 relevant: ``context1`` = 1) or 1 (``context2`` = 1), in every period.

    Returns
    -------
    The same ``out``.
    """
    if semantics not in SEMANTICS:
        raise ValueError(f"semantics must be one of {SEMANTICS}, got {semantics!r}")
    in_trial = period != PERIOD_PAD
    stim = period == PERIOD_STIMULUS
    if semantics == "neurogym1":
        fix = in_trial & (period != PERIOD_DECISION)
    else:
        fix = period == PERIOD_FIXATION
    out[..., CHANNELS["fixation"]] = fix
    for mod, coh in (("mod1", coh1), ("mod2", coh2)):
        s = coh / 100.0
        out[..., CHANNELS[f"stim1_{mod}"]] = stim * (1 + s) / 2
        out[..., CHANNELS[f"stim2_{mod}"]] = stim * (1 - s) / 2
    out[..., CHANNELS["context1"]] = in_trial & (context == 0)
    out[..., CHANNELS["context2"]] = in_trial & (context == 1)
    return out


def noisy_channels(semantics: str) -> list[int]:
    """Indices of the channels that carry input noise: all 7 (``neurogym1``) or the four
    stimulus channels (``neurogym2``)."""
    if semantics == "neurogym1":
        return list(range(N_INPUTS))
    return [CHANNELS[n] for n in ("stim1_mod1", "stim2_mod1", "stim1_mod2", "stim2_mod2")]


def period_inputs(
    context: int,
    c1: np.ndarray | float,
    c2: np.ndarray | float,
    period: str = "stimulus",
    semantics: str = "neurogym1",
) -> np.ndarray:
    """Noise-free inputs ``(G, 7)`` (float64) of one period, for every coherence pair.

    :func:`encode_inputs` held constant: what the network sees in that period of a trial of
    ``context`` without noise. ``c1`` and ``c2`` (percent) broadcast to G rows; they matter
    in the stimulus period only.
    """
    if period not in PERIOD_CODES:
        raise ValueError(f"unknown period {period!r}; choose one of {list(PERIOD_CODES)}")
    if context not in (0, 1):
        raise ValueError(f"context must be 0 or 1, got {context!r}")
    c1 = np.atleast_1d(np.asarray(c1, dtype=float))
    c2 = np.atleast_1d(np.asarray(c2, dtype=float))
    G = max(len(c1), len(c2))
    code = np.full(G, PERIOD_CODES[period])
    return encode_inputs(np.zeros((G, N_INPUTS)), semantics, code, c1, c2, np.int64(context))


def observe(
    cfg: TaskConfig,
    params: dict[str, torch.Tensor],
    t: torch.Tensor,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Observation at step(s) ``t`` for the trials in ``params``.

    ``t`` broadcasts against the batch: shape ``[B]`` (one step per trial, the environment) or
    ``[T, 1]`` (whole trials, the sampler). Returns ``[..., B, 7]``: :func:`encode_inputs`
    plus, in the stimulus period, noise on :func:`noisy_channels`. With ``generator=None``
    the observation is noise-free.
    """
    period = period_of(params, t)
    shape = period.shape
    obs = encode_inputs(
        torch.zeros(*shape, N_INPUTS),
        cfg.semantics,
        period,
        params["coh1"],
        params["coh2"],
        params["context"],
    )
    if generator is not None and cfg.sigma > 0:
        noise = torch.randn(*shape, N_INPUTS, generator=generator) * cfg.noise_std
        if cfg.semantics == "neurogym2":
            quiet = [i for i in range(N_INPUTS) if i not in noisy_channels(cfg.semantics)]
            noise[..., quiet] = 0.0
        obs = obs + noise * (period == PERIOD_STIMULUS).float().unsqueeze(-1)
    return obs


def sample_trials(
    cfg: TaskConfig,
    batch: int,
    generator: torch.Generator,
    *,
    noise: bool = True,
    **fixed: torch.Tensor,
) -> Trials:
    """Sample a padded batch of trials for supervised learning and analysis.

    Parameters
    ----------
    cfg : TaskConfig
    batch : int
        Number of trials.
    generator : torch.Generator
        The only source of randomness (seed it for reproducible batches).
    noise : bool
        Add the input noise (False gives the noise-free means).
    **fixed
        Optional ``context``, ``coh1``, ``coh2``, ``delay_steps`` tensors of shape ``[B]``.

    Returns
    -------
    Trials
        Time-major tensors padded to the longest trial of the batch.
    """
    params = sample_trial_params(cfg, batch, generator, **fixed)
    T = int(params["length"].max())
    t = torch.arange(T).unsqueeze(1)
    obs = observe(cfg, params, t, generator if noise else None)
    period = period_of(params, t)
    mask = period != PERIOD_PAD
    targets = torch.where(period == PERIOD_DECISION, params["correct"].unsqueeze(0), FIXATE)
    return Trials(
        inputs=obs,
        targets=targets.long(),
        mask=mask,
        period=period,
        context=params["context"],
        coh1=params["coh1"],
        coh2=params["coh2"],
        correct=params["correct"],
        delay_steps=params["delay_steps"],
        length=params["length"],
        stim_on=params["stim_on"],
        delay_on=params["delay_on"],
        decision_on=params["decision_on"],
    )


@dataclass
class Stream:
    """Trials laid end to end in ``S`` streams (the continuous regime), time-major.

    Trial ``i`` of the batch goes to stream ``i % S``, after trials ``i - S``, ``i - 2S``, ...
    Built by :func:`stream_trials`; :meth:`unstream` maps a per-step result back to the
    batch's padded per-trial layout.

    Attributes
    ----------
    inputs : Tensor ``[L, S, 7]``
        The trials' observations back to back (zero after a stream's last trial).
    mask : Tensor ``[L, S]`` (bool)
        True on steps that belong to a trial.
    time, trial : Tensor ``[n_steps]`` (long)
        For every valid step of the batch (in ``trials.mask`` order), its step within the
        trial and the trial's index.
    position, stream : Tensor ``[n_steps]`` (long)
        Where that step lies in the streams.
    shape : tuple
        ``(T, B)`` of the batch.
    """

    inputs: torch.Tensor
    mask: torch.Tensor
    time: torch.Tensor
    trial: torch.Tensor
    position: torch.Tensor
    stream: torch.Tensor
    shape: tuple[int, int]

    def unstream(self, values: torch.Tensor) -> torch.Tensor:
        """``[L, S, ...]`` per stream step -> ``[T, B, ...]`` per trial step (0 on padding)."""
        T, B = self.shape
        out = values.new_zeros((T, B, *values.shape[2:]))
        out[self.time, self.trial] = values[self.position, self.stream]
        return out


def stream_trials(trials: Trials, n_streams: int | None = None) -> Stream:
    """Lay a batch of trials end to end in streams (see :class:`Stream`).

    Parameters
    ----------
    trials : Trials
    n_streams : int, optional
        Number of streams (default ``ceil(B / STREAM_TRIALS)``: about :data:`STREAM_TRIALS`
        trials per stream).
    """
    T, B = trials.mask.shape
    S = math.ceil(B / STREAM_TRIALS) if n_streams is None else int(n_streams)
    if not 1 <= S <= B:
        raise ValueError(f"n_streams must lie in [1, {B}] for {B} trials, got {n_streams!r}")
    P = math.ceil(B / S)
    lengths = torch.zeros(P * S, dtype=torch.long)
    lengths[:B] = trials.length
    lengths = lengths.view(P, S)
    offset = (torch.cumsum(lengths, 0) - lengths).reshape(-1)[:B]  # start of trial i
    L = int(lengths.sum(0).max())
    t_idx, i_idx = torch.nonzero(trials.mask, as_tuple=True)
    pos, st = offset[i_idx] + t_idx, i_idx % S
    inputs = trials.inputs.new_zeros(L, S, trials.inputs.shape[-1])
    inputs[pos, st] = trials.inputs[t_idx, i_idx]
    mask = torch.zeros(L, S, dtype=torch.bool)
    mask[pos, st] = True
    return Stream(inputs, mask, t_idx, i_idx, pos, st, (T, B))


class TrialStreamer:
    """Endless streams of trials cut into windows, as NeuroGym's ``Dataset`` serves them.

    Each of ``n_streams`` streams is a sequence of fresh trials back to back; every call of
    :meth:`window` returns the next ``steps`` steps of every stream, so consecutive windows
    continue the same trials (a window may start or end inside a trial).

    Parameters
    ----------
    cfg : TaskConfig
    n_streams : int
        Parallel streams (the batch).
    generator : torch.Generator
        The only source of randomness.
    """

    def __init__(self, cfg: TaskConfig, n_streams: int, generator: torch.Generator) -> None:
        if n_streams <= 0:
            raise ValueError(f"n_streams must be positive, got {n_streams}")
        self.cfg, self.n_streams, self.generator = cfg, n_streams, generator
        # one buffer per field, [steps buffered, S, ...]; stream s holds _fill[s] valid steps
        self._buf: dict[str, torch.Tensor] = {
            "inputs": torch.zeros(0, n_streams, N_INPUTS),
            "targets": torch.zeros(0, n_streams, dtype=torch.long),
            "period": torch.zeros(0, n_streams, dtype=torch.long),
            "end": torch.zeros(0, n_streams, dtype=torch.bool),
        }
        self._fill = torch.zeros(n_streams, dtype=torch.long)

    def _refill(self, steps: int) -> None:
        """Append fresh trials (one per stream per draw) until every stream holds ``steps``."""
        streams = torch.arange(self.n_streams)
        while int(self._fill.min()) < steps:
            tr = sample_trials(self.cfg, self.n_streams, self.generator)
            grow = int((self._fill + tr.length).max()) - self._buf["targets"].shape[0]
            if grow > 0:
                self._buf = {
                    k: torch.cat([v, v.new_zeros((grow, *v.shape[1:]))])
                    for k, v in self._buf.items()
                }
            t_idx, s_idx = torch.nonzero(
                torch.arange(tr.inputs.shape[0])[:, None] < tr.length, as_tuple=True
            )
            pos = self._fill[s_idx] + t_idx
            self._buf["inputs"][pos, s_idx] = tr.inputs[t_idx, s_idx]
            self._buf["targets"][pos, s_idx] = tr.targets[t_idx, s_idx]
            self._buf["period"][pos, s_idx] = tr.period[t_idx, s_idx]
            self._buf["end"][self._fill + tr.length - 1, streams] = True
            self._fill += tr.length

    def window(self, steps: int) -> dict[str, torch.Tensor]:
        """The next ``steps`` steps of every stream: ``inputs [steps, S, 7]``, ``targets``,
        ``period`` and ``end`` (True on a trial's last step) ``[steps, S]``."""
        if steps <= 0:
            raise ValueError(f"steps must be positive, got {steps}")
        self._refill(steps)
        out = {k: v[:steps].clone() for k, v in self._buf.items()}
        self._buf = {k: v[steps:] for k, v in self._buf.items()}
        self._fill -= steps
        return out


class CtxDMEnv:
    """Vectorised CtxDM environment: ``n_envs`` independent trials with auto-reset.

    ``step(actions)`` scores action ``a_t`` (chosen after seeing ``obs_t``) by the period of
    step ``t``:

    * fixation period: a non-fixate action costs ``reward_abort``; the trial goes on;
    * stimulus and delay: no reward for any action;
    * decision period: a non-fixate action ends the trial with ``reward_correct`` if it is the
      correct choice, ``reward_fail`` otherwise; fixating through the last decision step ends
      the trial with reward 0.

    When a trial ends, that environment starts a new trial at once and the returned
    observation is the new trial's first; ``done`` marks the end.

    Parameters
    ----------
    cfg : TaskConfig
    n_envs : int
        Number of parallel environments.
    seed : int
        Seed of the environment's private generator.
    """

    def __init__(self, cfg: TaskConfig, n_envs: int, seed: int = 0) -> None:
        if n_envs <= 0:
            raise ValueError(f"n_envs must be positive, got {n_envs}")
        self.cfg = cfg
        self.n_envs = n_envs
        self.generator = torch.Generator().manual_seed(int(seed))
        self.params: dict[str, torch.Tensor] = {}
        self.t = torch.zeros(n_envs, dtype=torch.long)
        self.trials_completed = 0

    def _new_trials(self, which: torch.Tensor) -> None:
        n = int(which.sum())
        if n == 0:
            return
        fresh = sample_trial_params(self.cfg, n, self.generator)
        for k, v in fresh.items():
            self.params[k][which] = v
        self.t[which] = 0

    def reset(self) -> torch.Tensor:
        """Start a new trial in every environment; returns the first observations ``[B, 7]``."""
        self.params = sample_trial_params(self.cfg, self.n_envs, self.generator)
        self.t = torch.zeros(self.n_envs, dtype=torch.long)
        return observe(self.cfg, self.params, self.t, self.generator)

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Advance every environment by one step.

        Returns
        -------
        obs : Tensor ``[B, 7]``
            Next observation (of a new trial where ``done``).
        reward : Tensor ``[B]``
        done : Tensor ``[B]`` (bool)
            The trial ended with this step.
        info : dict of Tensor ``[B]``
            ``period`` of the scored step, ``correct_choice`` (the right action),
            ``choice`` (the action at the trial's end, 0 if none), ``is_correct``
            (trial ended with the right choice), ``context``, ``coh1``, ``coh2``.
        """
        if not self.params:
            raise RuntimeError("call reset() before step()")
        actions = torch.as_tensor(actions).long()
        if actions.shape != (self.n_envs,):
            raise ValueError(
                f"actions must have shape ({self.n_envs},), got {tuple(actions.shape)}"
            )
        if bool(((actions < 0) | (actions >= N_ACTIONS)).any()):
            raise ValueError("actions must be 0 (fixate), 1 or 2")
        cfg = self.cfg
        period = period_of(self.params, self.t)
        moved = actions != FIXATE
        in_decision = period == PERIOD_DECISION
        last_step = self.t == self.params["length"] - 1
        done = (in_decision & moved) | last_step
        right = actions == self.params["correct"]
        reward = torch.zeros(self.n_envs)
        reward = torch.where((period == PERIOD_FIXATION) & moved, cfg.reward_abort, reward)
        reward = torch.where(in_decision & moved & right, cfg.reward_correct, reward)
        reward = torch.where(in_decision & moved & ~right, cfg.reward_fail, reward)
        info = {
            "period": period,
            "correct_choice": self.params["correct"].clone(),
            "choice": torch.where(done & in_decision, actions, 0),
            "is_correct": done & in_decision & moved & right,
            "context": self.params["context"].clone(),
            "coh1": self.params["coh1"].clone(),
            "coh2": self.params["coh2"].clone(),
        }
        self.t = self.t + 1
        self.trials_completed += int(done.sum())
        self._new_trials(done)
        obs = observe(cfg, self.params, self.t, self.generator)
        return obs, reward, done, info


def ideal_observer_p_choice1(cfg: TaskConfig, relevant_coh: np.ndarray | float) -> np.ndarray:
    r"""Probability that the ideal observer chooses action 1, given the relevant coherence.

    The observer sums the difference ``ch1 - ch2`` of the relevant modality over the
    ``n = n_stimulus`` stimulus steps: mean :math:`n s`, variance :math:`2 n \sigma_{step}^2`
    (independent noise on the two channels), so

    .. math:: P(\text{choice 1}) = \Phi\!\left(\frac{s\sqrt{n}}{\sigma_{step}\sqrt{2}}\right),

    with :math:`s` the signed coherence as a fraction.
    """
    s = np.asarray(relevant_coh, dtype=float) / 100.0
    n = cfg.n_stimulus
    if cfg.noise_std == 0:
        return np.where(s > 0, 1.0, np.where(s < 0, 0.0, 0.5))
    from scipy.special import ndtr  # Φ, what scipy.stats.norm.cdf computes (lighter import)

    return ndtr(s * np.sqrt(n) / (cfg.noise_std * np.sqrt(2.0)))


def ideal_observer_accuracy(cfg: TaskConfig) -> float:
    """Analytic accuracy of the ideal observer on the task's coherence distribution.

    The average over the (equiprobable) unsigned coherences of
    :math:`\\Phi(|s|\\sqrt{n}/(\\sigma_{step}\\sqrt{2}))`; see :func:`ideal_observer_p_choice1`.
    """
    return float(np.mean(ideal_observer_p_choice1(cfg, np.asarray(cfg.coherences))))
