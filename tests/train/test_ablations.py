"""The ablation settings of chapter 9, each pinned against a known answer: the decision-only
loss has zero gradient on fixation steps, the distillation target is the teacher's
probabilities, the ent_coef-0 loss has no entropy term, the policy-gradient ablation is one
unclipped epoch, training past the criterion stops at the stated multiple, and none of it
changes a stored run's id."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch.nn import functional as F

from lib.core.network import RNN, NetworkConfig
from lib.core.task import FIXATE, PERIOD_DECISION, PERIOD_FIXATION, PERIOD_STIMULUS, TaskConfig
from lib.pipelines.profiles import (
    ABLATIONS,
    AUX_CE_LAMBDA,
    ablation_algorithms,
    ablation_spec,
    teacher_spec,
    variant_of,
    variant_spec,
)
from lib.pipelines.sweep import get_sweep
from lib.train.ppo import (
    AUX_DECISION_WEIGHT,
    PPOConfig,
    aux_loss,
    policy_loss,
    supervised_targets,
    total_loss,
)
from lib.train.supervised import SLConfig, step_loss, step_weights, train_supervised
from lib.train.training import Monitor

PERIODS = torch.tensor([[PERIOD_FIXATION], [PERIOD_STIMULUS], [PERIOD_DECISION]])  # [T=3, B=1]


def test_decision_only_loss_has_zero_gradient_on_fixation_steps():
    cfg = SLConfig(fixation_weight=0.0)
    w = step_weights(PERIODS, torch.ones(3, 1, dtype=torch.bool), cfg)
    assert w[:, 0].tolist() == [0.0, 0.0, cfg.decision_weight]
    logits = torch.randn(3, 1, 3, requires_grad=True)
    targets = torch.tensor([[FIXATE], [FIXATE], [2]])
    step_loss(logits, targets, w).backward()
    assert torch.equal(logits.grad[:2], torch.zeros(2, 1, 3))
    # on the decision step: the gradient of the cross-entropy there alone, softmax - one-hot
    expect = F.softmax(logits.detach()[2, 0], -1) - F.one_hot(torch.tensor(2), 3)
    torch.testing.assert_close(logits.grad[2, 0], expect)
    # the default weights every step of the trial (padding excluded)
    mask = torch.tensor([[True], [True], [False]])
    assert step_weights(PERIODS, mask, SLConfig())[:, 0].tolist() == [1.0, 1.0, 0.0]


def test_distillation_target_is_the_teachers_probabilities():
    torch.manual_seed(0)
    t_logits = torch.randn(3, 2, 3)
    p = F.softmax(t_logits, -1)
    logits = torch.randn(3, 2, 3, requires_grad=True)
    w = torch.ones(3, 2)
    step_loss(logits, p, w).backward()
    # d CE(p, softmax(z)) / dz = softmax(z) - p: the target is exactly p
    torch.testing.assert_close(logits.grad, (F.softmax(logits.detach(), -1) - p) / w.sum())
    # the student that equals its teacher has nothing left to learn
    same = t_logits.clone().requires_grad_(True)
    step_loss(same, p, w).backward()
    torch.testing.assert_close(same.grad, torch.zeros_like(same.grad), atol=1e-7, rtol=0)


def test_distilled_student_matches_its_teacher_on_the_training_inputs():
    # the teacher's targets are computed on the same inputs from its own carried state: a
    # student trained long enough on a teacher copies its policy, in both regimes
    net_cfg = NetworkConfig(hidden=16)
    teacher = RNN(net_cfg, generator=torch.Generator().manual_seed(5))
    for trials in ("reset", "continuous"):
        task = TaskConfig(trials=trials)
        cfg = SLConfig(
            batch=16, eval_every=5, eval_trials=50, max_trials=80, teacher="abc", lr=3e-3
        )
        res = train_supervised(task, net_cfg, cfg, seed=1, progress=False, teacher=teacher)
        assert res.trials_seen >= 80 and torch.isfinite(torch.tensor(res.final_accuracy))
    with pytest.raises(ValueError, match="teacher"):
        train_supervised(TaskConfig(), net_cfg, SLConfig(teacher="abc"), 0, progress=False)
    with pytest.raises(ValueError, match="teacher"):
        train_supervised(TaskConfig(), net_cfg, SLConfig(), 0, progress=False, teacher=teacher)


def test_no_entropy_loss_has_no_entropy_term():
    pg, v = torch.tensor(0.3), torch.tensor(2.0)
    # with ent_coef 0 the entropy does not enter at all: even a NaN entropy leaves it finite
    assert float(
        total_loss(pg, v, torch.tensor(float("nan")), PPOConfig(ent_coef=0.0))
    ) == pytest.approx(1.3)
    assert float(total_loss(pg, v, torch.tensor(1.0), PPOConfig())) == pytest.approx(1.29)
    pg_leaf, ent = torch.tensor(0.3, requires_grad=True), torch.tensor(0.7, requires_grad=True)
    total_loss(pg_leaf, v, ent, PPOConfig(ent_coef=0.0)).backward()
    assert ent.grad is None and float(pg_leaf.grad) == 1.0
    total_loss(pg_leaf, v, ent, PPOConfig()).backward()
    assert float(ent.grad) == pytest.approx(-PPOConfig().ent_coef)


def test_policy_gradient_ablation_is_one_unclipped_epoch():
    cfg = ablation_spec("a2c", "ppo", 0).trainer
    assert cfg.n_epochs == 1 and cfg.policy_loss == "unclipped"
    new, old = torch.log(torch.tensor([2.0, 0.5])), torch.zeros(2)  # ratios 2 and 0.5
    adv = torch.tensor([1.0, -1.0])
    # unclipped: -mean(rho A) = -(2 - 0.5) / 2
    assert float(policy_loss(new, old, adv, cfg)) == pytest.approx(-0.75)
    # PPO clips the ratios to [0.8, 1.2]: -mean(min(2, 1.2), min(-0.5, -0.8)) = -(1.2 - 0.8)/2
    assert float(policy_loss(new, old, adv, PPOConfig())) == pytest.approx(-0.2)
    # on-policy (ratio 1) both give the REINFORCE gradient -A grad log pi
    lp = torch.zeros(2, requires_grad=True)
    policy_loss(lp, lp.detach(), adv, cfg).backward()
    torch.testing.assert_close(lp.grad, -adv / 2)
    with pytest.raises(ValueError, match="policy_loss"):
        PPOConfig(policy_loss="ppo2")


def test_auxiliary_cross_entropy_is_the_supervised_loss():
    correct = torch.tensor([[1], [2], [2]])
    labels = supervised_targets(PERIODS, correct)
    assert labels[:, 0].tolist() == [FIXATE, FIXATE, 2]
    torch.manual_seed(1)
    logits = torch.randn(3, 1, 3)
    w = step_weights(PERIODS, torch.ones(3, 1, dtype=torch.bool), SLConfig())
    assert SLConfig().decision_weight == AUX_DECISION_WEIGHT
    torch.testing.assert_close(aux_loss(logits, labels, PERIODS), step_loss(logits, labels, w))
    cfg = ablation_spec("ppo_aux_ce", "ppo", 0).trainer
    assert cfg.aux_ce == AUX_CE_LAMBDA > 0
    pg, v, ent, aux = (torch.tensor(x) for x in (0.1, 1.0, 1.0, 2.0))
    assert float(total_loss(pg, v, ent, cfg, aux)) == pytest.approx(0.1 + 0.5 - 0.01 + 0.2)
    with pytest.raises(ValueError, match="auxiliary"):
        total_loss(pg, v, ent, cfg)


def test_overtraining_stops_at_the_multiple_of_trials_to_criterion(monkeypatch):
    accs = iter([0.2, 0.99, 0.5, 0.99, 0.99, 0.99])
    monkeypatch.setattr("lib.train.training.evaluate", lambda *a, **k: {"accuracy": next(accs)})
    net = RNN(NetworkConfig(hidden=4))
    mon = Monitor(net, TaskConfig(), 0, 0.9, 10, max_trials=150, progress=False, overtrain=3.0)
    stops = [mon.evaluate(u, 100 * u, 1000 * u) for u in (1, 2, 3, 4, 5, 6)]
    # criterion first met at 200 trials; training goes on to 600, past the budget of 150
    assert stops == [False, False, False, False, False, True]
    assert mon.converged and mon.trials_to_criterion == 200 and mon.steps_to_criterion == 2000
    with pytest.raises(ValueError):
        Monitor(net, TaskConfig(), 0, 0.9, 10, 100, progress=False, overtrain=0.5)


def test_ablations_keep_every_stored_id_and_have_their_own():
    # the new settings at their defaults are not hashed: the stored runs' ids are unchanged
    assert set(PPOConfig().to_dict()) == {f.name for f in dataclasses.fields(PPOConfig)} - {
        "bootstrap_across_trials",
        "policy_loss",
        "aux_ce",
        "overtrain",
    }
    assert {"fixation_weight", "teacher", "overtrain", "window"}.isdisjoint(SLConfig().to_dict())
    base = {a: variant_spec("baseline", a, 3, "paper", "continuous") for a in ("ppo", "sl")}
    ids = set()
    for name in ABLATIONS:
        for alg in ablation_algorithms(name):
            spec = ablation_spec(name, alg, 3)
            assert spec.run_id != base[alg].run_id and spec.task.trials == "continuous"
            assert variant_of(spec) == name
            ids.add(spec.run_id)
    assert len(ids) == sum(len(ablation_algorithms(n)) for n in ABLATIONS)
    assert ablation_spec("sl_distilled", "sl", 3).teacher == teacher_spec(3).run_id
    assert teacher_spec(3) == base["ppo"]
    assert ablation_spec("leaky_0.2", "ppo", 3).network.alpha == 0.2
    with pytest.raises(ValueError, match="trains"):
        ablation_spec("ppo_no_entropy", "sl", 0)
    with pytest.raises(ValueError, match="unknown ablation"):
        ablation_algorithms("nope")


def test_why_sweep_shares_the_baseline_and_names_each_teacher():
    tasks = get_sweep("why", "paper", "continuous")
    names = [variant_of(t.spec) for t in tasks]
    n_abl = sum(len(ablation_algorithms(n)) for n in ABLATIONS)
    assert len(tasks) == 40 + 10 * n_abl
    assert names.count("baseline") == 20 and names.count("leaky") == 20
    for t in tasks:
        if t.spec.teacher:
            assert t.teacher == teacher_spec(t.spec.seed) and t.teacher.run_id == t.spec.teacher
        else:
            assert t.teacher is None
    with pytest.raises(ValueError, match="continuous"):
        get_sweep("why", "paper", "reset")
