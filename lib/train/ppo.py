r"""Recurrent PPO (Schulman et al. 2017) on the vectorised CtxDM environment.

Reads top to bottom like CleanRL's ``ppo_atari_lstm.py``:

1. **Rollout.** ``n_envs`` environments run ``n_steps`` steps with the current stochastic
   policy; the state is zeroed where a new trial starts (h_0 = 0 per trial). The state at the
   start of the rollout is kept.
2. **Advantages** by GAE:
   :math:`\delta_t = r_t + \gamma V_{t+1}(1-d_t) - V_t`,
   :math:`A_t = \delta_t + \gamma\lambda(1-d_t)A_{t+1}`, returns :math:`R_t = A_t + V_t`.
3. **Update.** ``n_epochs`` passes over minibatches of *environments*; each minibatch replays
   its whole sequence through the RNN from the stored start state with the same resets
   (backpropagation through every step of the rollout), and minimises

   .. math::

      -\mathbb{E}\big[\min(\rho_t A_t,\ \mathrm{clip}(\rho_t, 1\pm\epsilon) A_t)\big]
      + c_v\,\mathbb{E}\big[\tfrac12 (V_t - R_t)^2\big] - c_e\,\mathbb{E}[H(\pi_t)],

   with :math:`\rho_t = \pi_\theta(a_t|h_t)/\pi_{old}(a_t|h_t)`, advantages normalised per
   minibatch and the gradient norm clipped.

Trials are cut only at rollout boundaries (the stored start state carries them over).

**Ablations** (chapter 9; settings hashed only when not their defaults, so stored runs keep
their ids). ``ent_coef=0``: no entropy bonus. ``policy_loss="unclipped"`` with ``n_epochs=1``:
policy gradient with a value baseline (A2C-style: :math:`-\mathbb{E}[\rho_t A_t]`, the
importance ratio kept so later minibatches of the rollout stay unbiased, no clipping, each
sample used once). ``aux_ce`` = λ > 0: the loss adds λ times the supervised trainer's
cross-entropy on every step of the rollout (target: fixate, or the correct choice in the
decision period; weight :data:`AUX_DECISION_WEIGHT` on decision steps, as
:class:`lib.train.supervised.SLConfig`'s default). ``overtrain``: train on past the criterion
to that multiple of the trials it took.

**Trial regime** (``task.trials``). ``reset``: the state is zeroed where a new trial starts.
``continuous``: it never is, in the rollout or in the update's replay, as a recurrent PPO on
NeuroGym's never-terminating ``TrialEnv`` runs. Whether returns bootstrap across a trial's end
is :attr:`PPOConfig.bootstrap_across_trials` (default: no; a trial's return is its own
rewards, so a decision is not credited with the next trial's outcome).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.nn import functional as F

from lib.core.network import RNN, NetworkConfig
from lib.core.task import FIXATE, N_INPUTS, PERIOD_DECISION, CtxDMEnv, TaskConfig
from lib.train.training import (
    Monitor,
    TrainResult,
    check_finite,
    criterion_accuracy,
    seeded_generators,
)

__all__ = [
    "AUX_DECISION_WEIGHT",
    "POLICY_LOSSES",
    "PPOConfig",
    "aux_loss",
    "gae",
    "policy_loss",
    "supervised_targets",
    "total_loss",
    "train_ppo",
]

#: The policy losses: PPO's clipped surrogate, or the plain importance-weighted policy gradient.
POLICY_LOSSES = ("clip", "unclipped")
#: Weight of the decision steps in the auxiliary cross-entropy (the supervised default).
AUX_DECISION_WEIGHT = 5.0


@dataclass(frozen=True)
class PPOConfig:
    """Hyperparameters of recurrent PPO (all stored with each run)."""

    lr: float = field(default=3e-4, metadata={"source": "companion", "why": "PPO standard"})
    gamma: float = field(default=0.99, metadata={"source": "companion", "why": "PPO standard"})
    gae_lambda: float = field(default=0.95, metadata={"source": "companion", "why": "PPO standard"})
    clip: float = field(default=0.2, metadata={"source": "companion", "why": "PPO standard"})
    ent_coef: float = field(default=0.01, metadata={"source": "companion", "why": "PPO standard"})
    vf_coef: float = field(default=0.5, metadata={"source": "companion", "why": "PPO standard"})
    max_grad_norm: float = field(
        default=0.5, metadata={"source": "companion", "why": "PPO standard"}
    )
    n_envs: int = field(
        default=256, metadata={"source": "companion", "why": "throughput on 2 cores"}
    )
    n_steps: int = field(
        default=48, metadata={"source": "companion", "why": "> longest trial (41)"}
    )
    n_epochs: int = field(default=4, metadata={"source": "companion", "why": "PPO standard"})
    n_minibatches: int = field(default=4, metadata={"source": "companion", "why": "PPO standard"})
    eval_every: int = field(default=5, metadata={"source": "companion", "why": "updates"})
    eval_trials: int = field(default=1000, metadata={"source": "companion", "why": ">= 500"})
    criterion_fraction: float = field(
        default=0.95,
        metadata={
            "source": "companion",
            "why": "95 % of the ideal observer (the literal 95 % is unreachable)",
        },
    )
    max_trials: int = field(
        default=300_000, metadata={"source": "companion", "why": "budget (~5 min on 1 core)"}
    )

    bootstrap_across_trials: bool = field(
        default=False,
        metadata={
            "source": "companion",
            "why": "GAE stops at a trial's end in both regimes (NeuroGym's env never signals "
            "one; its users' PPO then bootstraps across trials); hashed only when True",
        },
    )

    policy_loss: str = field(
        default="clip",
        metadata={
            "source": "companion",
            "why": "'unclipped' (with n_epochs=1) is the policy-gradient ablation of chapter 9; "
            "hashed only when not 'clip'",
        },
    )
    aux_ce: float = field(
        default=0.0,
        metadata={
            "source": "companion",
            "why": "weight of a supervised cross-entropy added to PPO's loss (the PPO + "
            "supervised ablation, chapter 9); hashed only when > 0",
        },
    )
    overtrain: float = field(
        default=1.0,
        metadata={
            "source": "companion",
            "why": "train on to this multiple of the trials to criterion (the past-criterion "
            "ablation, chapter 9); hashed only when not 1",
        },
    )

    def __post_init__(self) -> None:
        if self.policy_loss not in POLICY_LOSSES:
            raise ValueError(
                f"PPOConfig.policy_loss must be one of {POLICY_LOSSES}, got {self.policy_loss!r}"
            )
        if not self.aux_ce >= 0:
            raise ValueError(f"PPOConfig.aux_ce must be >= 0, got {self.aux_ce!r}")
        if not self.overtrain >= 1:
            raise ValueError(f"PPOConfig.overtrain must be >= 1, got {self.overtrain!r}")
        for name in ("lr", "clip", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"PPOConfig.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("gamma", "gae_lambda"):
            if not (0 <= getattr(self, name) <= 1):
                raise ValueError(
                    f"PPOConfig.{name} must lie in [0, 1], got {getattr(self, name)!r}"
                )
        for name in ("ent_coef", "vf_coef"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"PPOConfig.{name} must be >= 0, got {getattr(self, name)!r}")
        for name in (
            "n_envs",
            "n_steps",
            "n_epochs",
            "n_minibatches",
            "eval_every",
            "eval_trials",
            "max_trials",
        ):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                raise ValueError(f"PPOConfig.{name} must be a positive int, got {v!r}")
        if self.n_envs % self.n_minibatches:
            raise ValueError(
                f"PPOConfig.n_envs ({self.n_envs}) must be divisible by n_minibatches ({self.n_minibatches})"
            )
        if not (0 < self.criterion_fraction <= 1):
            raise ValueError(
                f"PPOConfig.criterion_fraction must lie in (0, 1], got {self.criterion_fraction!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of all fields; those added after runs were stored
        (``bootstrap_across_trials``, ``policy_loss``, ``aux_ce``, ``overtrain``) only when not
        their defaults, so the hashed form of the stored runs is unchanged."""
        d = dataclasses.asdict(self)
        for name, default in _HASHED_UNLESS.items():
            if d[name] == default:
                del d[name]
        return d


#: Fields hashed only when they differ from these defaults (added after runs were stored).
_HASHED_UNLESS: dict[str, Any] = {
    "bootstrap_across_trials": False,
    "policy_loss": "clip",
    "aux_ce": 0.0,
    "overtrain": 1.0,
}


def policy_loss(
    new_logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, cfg: PPOConfig
) -> torch.Tensor:
    r"""The policy term of the loss: PPO's clipped surrogate
    :math:`-\mathbb{E}[\min(\rho A, \mathrm{clip}(\rho, 1\pm\epsilon) A)]`, or with
    ``policy_loss="unclipped"`` the importance-weighted policy gradient
    :math:`-\mathbb{E}[\rho A]` (:math:`\rho = e^{\log\pi - \log\pi_{old}}`)."""
    ratio = (new_logp - old_logp).exp()
    if cfg.policy_loss == "unclipped":
        return -(ratio * adv).mean()
    return -torch.min(ratio * adv, ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * adv).mean()


def supervised_targets(period: torch.Tensor, correct: torch.Tensor) -> torch.Tensor:
    """The supervised trainer's label of each step: fixate, or the correct choice in the
    decision period."""
    return torch.where(period == PERIOD_DECISION, correct, torch.full_like(correct, FIXATE))


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    next_value: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over a time-major rollout ``[T, B]``.

    ``dones[t]`` marks that the trial ended with step t (no bootstrap across it);
    ``next_value`` is V of the state after the last step. Returns (advantages, returns).
    """
    T = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(T)):
        nonterminal = 1.0 - dones[t].float()
        nv = next_value if t == T - 1 else values[t + 1]
        delta = rewards[t] + gamma * nv * nonterminal - values[t]
        last = delta + gamma * lam * nonterminal * last
        adv[t] = last
    return adv, adv + values


def total_loss(
    pg: torch.Tensor,
    v_loss: torch.Tensor,
    entropy: torch.Tensor,
    cfg: PPOConfig,
    aux: torch.Tensor | None = None,
) -> torch.Tensor:
    """PPO's loss ``pg + vf_coef·v_loss − ent_coef·entropy (+ aux_ce·aux)``; a term whose
    coefficient is 0 is left out altogether (``ent_coef=0``: the entropy does not enter)."""
    loss = pg + cfg.vf_coef * v_loss
    if cfg.ent_coef > 0:
        loss = loss - cfg.ent_coef * entropy
    if cfg.aux_ce > 0:
        if aux is None:
            raise ValueError("PPOConfig.aux_ce > 0 needs the auxiliary cross-entropy")
        loss = loss + cfg.aux_ce * aux
    return loss


def aux_loss(logits: torch.Tensor, labels: torch.Tensor, period: torch.Tensor) -> torch.Tensor:
    """The supervised cross-entropy of ``aux_ce``: mean over every step of ``[T, B]``, weighted
    :data:`AUX_DECISION_WEIGHT` on decision steps and 1 elsewhere."""
    w = torch.where(period == PERIOD_DECISION, AUX_DECISION_WEIGHT, 1.0)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none")
    return (ce * w.reshape(-1)).sum() / w.sum()


def train_ppo(
    task: TaskConfig,
    net_cfg: NetworkConfig,
    cfg: PPOConfig,
    seed: int,
    *,
    progress: bool = True,
    keep_checkpoints: bool = False,
) -> TrainResult:
    """Train one network by recurrent PPO until the criterion or the budget.

    Parameters
    ----------
    task, net_cfg, cfg : the task, the network and PPO's hyperparameters.
    seed : int
        Seeds the initial weights, the environments and the action sampling; the same seed on
        the same machine gives the same network bit for bit.
    progress : bool
        Show a tqdm progress bar.
    keep_checkpoints : bool
        Keep checkpoints along training (see :class:`lib.train.training.Monitor`).

    Raises
    ------
    lib.train.training.TrainingDivergedError
        As soon as the policy's logits, the loss or the weights go non-finite.
    """
    g_init, g_data = seeded_generators(seed)
    net = RNN(net_cfg, generator=g_init)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, eps=1e-5)
    env = CtxDMEnv(task, cfg.n_envs, seed=int(torch.randint(2**62, (1,), generator=g_data)))
    mon = Monitor(
        net,
        task,
        seed,
        criterion_accuracy(task, cfg.criterion_fraction),
        cfg.eval_trials,
        cfg.max_trials,
        progress,
        desc=f"PPO seed {seed}",
        keep_checkpoints=keep_checkpoints,
        overtrain=cfg.overtrain,
    )
    B, T, N = cfg.n_envs, cfg.n_steps, net_cfg.hidden
    continuous = task.trials == "continuous"
    obs = env.reset()
    h = torch.zeros(B, N)
    # a new trial starts at step 0 of every environment (continuous: never a reset; h is 0)
    first = torch.full((B,), not continuous, dtype=torch.bool)
    ret_running = torch.zeros(B)
    steps = update = 0
    stats = {"reward_sum": 0.0, "trials": 0, "correct": 0, "loss": 0.0, "entropy": 0.0, "n_mb": 0}

    while True:
        # ---- 1. rollout -----------------------------------------------------------------
        h_start = h.clone()
        b_obs = torch.empty(T, B, N_INPUTS)
        b_act = torch.empty(T, B, dtype=torch.long)
        b_logp = torch.empty(T, B)
        b_val = torch.empty(T, B)
        b_rew = torch.empty(T, B)
        b_done = torch.empty(T, B, dtype=torch.bool)
        b_reset = torch.empty(T, B, dtype=torch.bool)
        b_label = torch.empty(T, B, dtype=torch.long)  # the supervised label (aux_ce only)
        b_period = torch.empty(T, B, dtype=torch.long)
        with torch.no_grad():
            for t in range(T):
                b_obs[t], b_reset[t] = obs, first
                # the recurrence of the update's net(...) call: same step, same reset hook
                h = net.step(h, net.drive(obs), carry=~first)
                logits = net.policy(h)
                if not bool(torch.isfinite(logits).all()):
                    check_finite(net, f"PPO rollout {update + 1}, step {t}", logits=logits)
                logp_all = F.log_softmax(logits, -1)
                a = torch.multinomial(logp_all.exp(), 1, generator=g_data).squeeze(1)
                b_act[t], b_logp[t], b_val[t] = (
                    a,
                    logp_all.gather(1, a.unsqueeze(1)).squeeze(1),
                    net.value(h),
                )
                obs, r, done, info = env.step(a)
                b_rew[t], b_done[t] = r, done
                b_period[t] = info["period"]
                b_label[t] = supervised_targets(info["period"], info["correct_choice"])
                ret_running += r
                if bool(done.any()):
                    stats["reward_sum"] += float(ret_running[done].sum())
                    stats["trials"] += int(done.sum())
                    stats["correct"] += int(info["is_correct"].sum())
                    ret_running[done] = 0.0
                first = done if not continuous else torch.zeros_like(done)
            h_next = net.step(h, net.drive(obs), carry=~first)
            next_value = net.value(h_next)
            # ---- 2. advantages ----------------------------------------------------------
            cut = torch.zeros_like(b_done) if cfg.bootstrap_across_trials else b_done
            adv, ret = gae(b_rew, b_val, cut, next_value, cfg.gamma, cfg.gae_lambda)
        steps += B * T

        # ---- 3. update ------------------------------------------------------------------
        mb = B // cfg.n_minibatches
        for _ in range(cfg.n_epochs):
            perm = torch.randperm(B, generator=g_data)
            for k in range(cfg.n_minibatches):
                idx = perm[k * mb : (k + 1) * mb]
                _, logits, values = net(b_obs[:, idx], h0=h_start[idx], reset=b_reset[:, idx])
                logp_all = F.log_softmax(logits, -1)
                new_logp = logp_all.gather(2, b_act[:, idx].unsqueeze(2)).squeeze(2)
                entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
                a_mb = adv[:, idx]
                a_mb = (a_mb - a_mb.mean()) / (a_mb.std() + 1e-8)
                pg = policy_loss(new_logp, b_logp[:, idx], a_mb, cfg)
                v_loss = 0.5 * (values - ret[:, idx]).pow(2).mean()
                aux = (
                    aux_loss(logits, b_label[:, idx], b_period[:, idx]) if cfg.aux_ce > 0 else None
                )
                loss = total_loss(pg, v_loss, entropy, cfg, aux)
                if not bool(torch.isfinite(loss)):
                    check_finite(net, f"PPO update {update + 1}", loss=loss)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
                opt.step()
                stats["loss"] += float(loss.detach())
                stats["entropy"] += float(entropy.detach())
                stats["n_mb"] += 1
        update += 1

        trials = env.trials_completed
        if update % cfg.eval_every == 0 or trials >= cfg.max_trials:
            n_tr = max(stats["trials"], 1)
            stop = mon.evaluate(
                update,
                trials,
                steps,
                reward_per_trial=stats["reward_sum"] / n_tr,
                rollout_accuracy=stats["correct"] / n_tr,
                loss=stats["loss"] / max(stats["n_mb"], 1),
                entropy=stats["entropy"] / max(stats["n_mb"], 1),
            )
            stats = dict.fromkeys(stats, 0.0)
            if stop:
                break
    return mon.finish(env.trials_completed, steps)
