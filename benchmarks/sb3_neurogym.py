"""The usual alternative, timed for comparison: NeuroGym's ``ContextDecisionMaking-v0`` with
sb3-contrib's ``RecurrentPPO`` (stable-baselines3).

Runs inside ``benchmarks/.venv-sb3`` (made by ``run_all.py``), never in the project's
environment, and prints one JSON line on stdout (everything else goes to stderr).

Set-up, chosen to be as close as sb3-contrib allows to the companion's trainer:

* ``DummyVecEnv`` of ``--n-envs`` environments made with ``neurogym.make`` (Gymnasium API,
  NeuroGym's own maker, which turns the Gymnasium env checker off);
* ``MlpLstmPolicy`` with one LSTM of ``--hidden`` units shared by actor and critic
  (``shared_lstm=True, enable_critic_lstm=False, net_arch=[]``): one recurrent core, two
  linear heads, like :class:`lib.core.network.RNN` (an LSTM has 4x the recurrent weights of a
  vanilla RNN; a vanilla RNN core is not offered);
* the update schedule of :class:`lib.train.ppo.PPOConfig`: ``n_epochs=4`` passes over 4
  minibatches per rollout, lr 3e-4, gamma 0.99, GAE 0.95, clip 0.2, ent 0.01, vf 0.5,
  max grad norm 0.5 (``--preset matched``, the default). ``--preset defaults`` keeps
  RecurrentPPO's own defaults instead (what a user gets out of the box) and sets only
  ``lstm_hidden_size``.

Two numbers are measured after a warm-up rollout+update: environment steps per second while
learning (``model.learn``; rollouts + updates) and rollout-only steps per second
(``model.predict`` + ``env.step``, no update).
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> None:
    """Parse the options, build the model, time learning and rollouts, print a JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20480, help="env steps timed while learning")
    ap.add_argument("--rollout-steps", type=int, default=200, help="vector steps, rollout only")
    ap.add_argument("--n-envs", type=int, default=16)
    ap.add_argument("--n-steps", type=int, default=128, help="rollout length per environment")
    ap.add_argument("--hidden", type=int, default=250, help="LSTM units")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--env-id", default="ContextDecisionMaking-v0")
    ap.add_argument(
        "--preset",
        choices=["matched", "defaults"],
        default="matched",
        help="matched: the companion's PPO schedule and a shared LSTM core; defaults: "
        "RecurrentPPO's own defaults (separate critic LSTM, 64-64 MLP heads, 10 epochs, "
        "minibatch 128) with only lstm_hidden_size set",
    )
    a = ap.parse_args()

    import gymnasium as gym
    import neurogym
    import numpy as np
    import sb3_contrib
    import stable_baselines3
    import torch
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    torch.set_num_threads(a.threads)
    env = DummyVecEnv([lambda: neurogym.make(a.env_id) for _ in range(a.n_envs)])
    if a.preset == "matched":
        kwargs = {
            "learning_rate": 3e-4,
            "n_steps": a.n_steps,
            "batch_size": a.n_steps * a.n_envs // 4,
            "n_epochs": 4,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "clip_range": 0.2,
            "ent_coef": 0.01,
            "vf_coef": 0.5,
            "max_grad_norm": 0.5,
            "policy_kwargs": {
                "lstm_hidden_size": a.hidden,
                "n_lstm_layers": 1,
                "shared_lstm": True,
                "enable_critic_lstm": False,
                "net_arch": [],
            },
        }
    else:
        kwargs = {"n_steps": a.n_steps, "policy_kwargs": {"lstm_hidden_size": a.hidden}}
    model = RecurrentPPO("MlpLstmPolicy", env, verbose=0, seed=0, device="cpu", **kwargs)
    per_rollout = a.n_steps * a.n_envs
    n_params = sum(p.numel() for p in model.policy.parameters())

    # ---- learning: rollouts + PPO updates ------------------------------------------------
    model.learn(total_timesteps=per_rollout)  # warm-up: one rollout and one update
    start = model.num_timesteps
    t0 = time.perf_counter()
    model.learn(total_timesteps=a.steps, reset_num_timesteps=False)
    learn_wall = time.perf_counter() - t0
    learn_steps = model.num_timesteps - start

    # ---- rollout only: policy forward + env.step -----------------------------------------
    obs = env.reset()
    state = None
    starts = np.ones(a.n_envs, dtype=bool)
    for _ in range(5):  # warm-up
        act, state = model.predict(obs, state=state, episode_start=starts, deterministic=False)
        obs, _, dones, _ = env.step(act)
        starts = dones
    t0 = time.perf_counter()
    for _ in range(a.rollout_steps):
        act, state = model.predict(obs, state=state, episode_start=starts, deterministic=False)
        obs, _, dones, _ = env.step(act)
        starts = dones
    roll_wall = time.perf_counter() - t0

    one = neurogym.make(a.env_id)
    print(
        json.dumps(
            {
                "env_id": a.env_id,
                "observation_shape": list(one.observation_space.shape),
                "n_actions": int(one.action_space.n),
                "algorithm": "sb3_contrib.RecurrentPPO(MlpLstmPolicy)",
                "n_envs": a.n_envs,
                "n_steps": a.n_steps,
                "preset": a.preset,
                "n_epochs": model.n_epochs,
                "batch_size": model.batch_size,
                "shared_lstm": model.policy.shared_lstm,
                "critic_lstm": model.policy.lstm_critic is not None,
                "lstm_hidden": a.hidden,
                "policy_parameters": n_params,
                "learn_env_steps": int(learn_steps),
                "learn_wall_s": learn_wall,
                "steps_per_s": learn_steps / learn_wall,
                "rollout_env_steps": a.rollout_steps * a.n_envs,
                "rollout_wall_s": roll_wall,
                "rollout_steps_per_s": a.rollout_steps * a.n_envs / roll_wall,
                "threads": torch.get_num_threads(),
                "versions": {
                    "neurogym": getattr(neurogym, "__version__", "unknown"),
                    "stable_baselines3": stable_baselines3.__version__,
                    "sb3_contrib": sb3_contrib.__version__,
                    "gymnasium": gym.__version__,
                    "torch": torch.__version__,
                    "numpy": np.__version__,
                    "python": sys.version.split()[0],
                },
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
