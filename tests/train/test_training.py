"""Trainers: GAE, determinism, stopping rule, and PPO learning a trivial task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.core.network import RNN, NetworkConfig
from lib.core.task import TaskConfig
from lib.train.evaluation import evaluate, psychometric
from lib.train.ppo import PPOConfig, gae, train_ppo
from lib.train.supervised import SLConfig, train_supervised
from lib.train.training import criterion_accuracy, initial_activity

#: A trivial CtxDM: full coherence, no noise, shortest delays.
EASY = TaskConfig(coherences=(100.0,), sigma=0.0, delay_mean_ms=100.0, delay_max_ms=600.0)


def test_gae_known_answer():
    # one env, 3 steps, trial ends at t=1; gamma=0.5, lambda=0.5
    r = torch.tensor([[0.0], [1.0], [2.0]])
    v = torch.tensor([[0.5], [0.25], [1.0]])
    d = torch.tensor([[False], [True], [False]])
    nv = torch.tensor([4.0])
    adv, ret = gae(r, v, d, nv, gamma=0.5, lam=0.5)
    d2 = 2.0 + 0.5 * 4.0 - 1.0  # 3
    d1 = 1.0 - 0.25  # terminal: no bootstrap
    d0 = 0.0 + 0.5 * 0.25 - 0.5  # -0.375
    a1 = d1
    a0 = d0 + 0.25 * a1
    torch.testing.assert_close(adv[:, 0], torch.tensor([a0, a1, d2]))
    torch.testing.assert_close(ret, adv + v)


def test_criterion_is_relative_to_ideal_observer():
    assert criterion_accuracy(TaskConfig(), 0.95) == pytest.approx(0.95 * 0.9409, abs=1e-3)
    assert criterion_accuracy(EASY, 0.95) == pytest.approx(0.95)
    with pytest.raises(ValueError):
        criterion_accuracy(EASY, 0.0)


def test_initial_activity_per_regime():
    # delta -> 0: weights (and biases, zero) vanish, so does the state in either regime
    (z,) = initial_activity(NetworkConfig(delta=1e-12), TaskConfig(), [3], n_trials=20)
    assert z["seed"] == 3 and 0 < z["reset_max_norm"] < 1e-9
    assert z["continuous_max_norm"] < 1e-9
    # below the edge of chaos carrying the state changes little; far beyond it, activity
    # compounds from trial to trial (the cause of the continuous regime's failed runs)
    for r in initial_activity(NetworkConfig(delta=0.1), TaskConfig(), [0, 1], n_trials=100):
        assert 0 < r["reset_max_norm"] < 5
        assert r["continuous_max_norm"] == pytest.approx(r["reset_max_norm"], rel=0.1)
    (w,) = initial_activity(NetworkConfig(delta=0.165), TaskConfig(), [5], n_trials=100)
    assert w["continuous_max_norm"] > 1e6 * w["reset_max_norm"] > 0


def test_sl_same_seed_same_network_bit_for_bit():
    cfg = SLConfig(batch=16, eval_every=5, eval_trials=100, max_trials=160)
    net_cfg = NetworkConfig(hidden=16)
    a = train_supervised(TaskConfig(), net_cfg, cfg, seed=3, progress=False)
    b = train_supervised(TaskConfig(), net_cfg, cfg, seed=3, progress=False)
    c = train_supervised(TaskConfig(), net_cfg, cfg, seed=4, progress=False)
    for k, v in a.net.state_dict().items():
        assert torch.equal(v, b.net.state_dict()[k])
    assert not torch.equal(a.net.W_rec, c.net.W_rec)
    assert [p["accuracy"] for p in a.curve] == [p["accuracy"] for p in b.curve]
    assert a.trials_seen == 160 and not a.converged


def test_ppo_same_seed_same_network_bit_for_bit():
    cfg = PPOConfig(
        n_envs=8,
        n_steps=16,
        n_minibatches=2,
        n_epochs=1,
        eval_every=1,
        eval_trials=50,
        max_trials=20,
    )
    net_cfg = NetworkConfig(hidden=16)
    a = train_ppo(TaskConfig(), net_cfg, cfg, seed=1, progress=False)
    b = train_ppo(TaskConfig(), net_cfg, cfg, seed=1, progress=False)
    for k, v in a.net.state_dict().items():
        assert torch.equal(v, b.net.state_dict()[k])
    assert a.curve == [{**p, "wall_s": q["wall_s"]} for p, q in zip(b.curve, a.curve, strict=True)]


def test_ppo_learns_a_trivial_task():
    """Full coherence, no noise: PPO must reach 95 % greedy accuracy from chance."""
    net_cfg = NetworkConfig(hidden=32, delta=0.1)
    cfg = PPOConfig(
        n_envs=64, n_steps=24, lr=3e-3, eval_every=2, eval_trials=200, max_trials=60_000
    )
    before = evaluate(RNN(net_cfg, generator=torch.Generator().manual_seed(0)), EASY, 400)[
        "accuracy"
    ]
    res = train_ppo(EASY, net_cfg, cfg, seed=0, progress=False)
    assert before < 0.7
    assert res.converged, res.curve[-3:]
    assert res.final_accuracy >= 0.9
    assert res.trials_to_criterion is not None and res.trials_to_criterion <= 60_000


def test_sl_learns_a_trivial_task():
    net_cfg = NetworkConfig(hidden=32)
    res = train_supervised(
        EASY,
        net_cfg,
        SLConfig(lr=3e-3, eval_every=10, eval_trials=200, max_trials=40_000),
        seed=0,
        progress=False,
    )
    assert res.converged and res.final_accuracy >= 0.9


def test_psychometric_counts():
    choice = np.array([1, 1, 2, 0, 1, 2])
    coh = np.array([-5, -5, -5, 5, 5, 5.0])
    lv, p, sem, n = psychometric(choice, coh)
    assert lv.tolist() == [-5, 5] and n.tolist() == [3, 3]
    np.testing.assert_allclose(p, [2 / 3, 1 / 3])
    np.testing.assert_allclose(sem, np.sqrt(p * (1 - p) / 3))


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        (PPOConfig, {"lr": 0}),
        (PPOConfig, {"gamma": 1.5}),
        (PPOConfig, {"n_envs": 10, "n_minibatches": 4}),
        (PPOConfig, {"max_trials": 0}),
        (SLConfig, {"batch": 0}),
        (SLConfig, {"criterion_fraction": 1.2}),
    ],
)
def test_invalid_trainer_configs(cls, kwargs):
    with pytest.raises(ValueError):
        cls(**kwargs)
