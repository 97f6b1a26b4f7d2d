"""The usual alternative, for comparison: NeuroGym 1.0.8's ContextDecisionMaking-v0 with
stable-baselines3's RecurrentPPO (sb3-contrib). Runs inside ``benchmarks/.venv-sb3`` (made
by ``run_all.py``), never in the project's environment. Prints one JSON line."""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20480)
    ap.add_argument("--n-envs", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=250)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    import gymnasium as gym
    import neurogym  # noqa: F401  (registers the environments)
    import sb3_contrib
    import stable_baselines3
    import torch
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    torch.set_num_threads(a.threads)
    env = DummyVecEnv([lambda: gym.make("ContextDecisionMaking-v0") for _ in range(a.n_envs)])
    model = RecurrentPPO(
        "MlpLstmPolicy",
        env,
        n_steps=128,
        batch_size=256,
        policy_kwargs={
            "lstm_hidden_size": a.hidden,
            "net_arch": [],
            "shared_lstm": True,
            "enable_critic_lstm": False,
        },
        verbose=0,
        seed=0,
        device="cpu",
    )
    model.learn(total_timesteps=1024)  # warm-up (allocations, first rollout)
    t0 = time.perf_counter()
    model.learn(total_timesteps=a.steps, reset_num_timesteps=False)
    wall = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "env_steps": a.steps,
                "wall_s": wall,
                "steps_per_s": a.steps / wall,
                "n_envs": a.n_envs,
                "lstm_hidden": a.hidden,
                "neurogym": neurogym.__version__,
                "stable_baselines3": stable_baselines3.__version__,
                "sb3_contrib": sb3_contrib.__version__,
                "gymnasium": gym.__version__,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
