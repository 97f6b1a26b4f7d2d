"""Robustness under perturbations: exact agreement with evaluation, known answers for full
ablation and a feed-forward network, reproducible noise, curve shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import lib.analysis.robustness as R
from lib.core.task import TaskConfig, sample_trials
from lib.train.evaluation import evaluate, greedy_choices

TASK = TaskConfig()


@pytest.fixture(scope="module")
def ppo(stored_default):
    run = stored_default("ppo", 0)
    return run.network(), run.spec.task


# ------------------------------------------------------------------ exact agreement
@pytest.mark.parametrize("n_trials", [300, 250])
def test_unperturbed_accuracy_equals_evaluate_exactly(n_trials, random_net):
    net = random_net()
    ref = evaluate(net, TASK, n_trials, seed=3, batch=100)["accuracy"]
    assert R.perturbed_accuracy(net, TASK, n_trials, 3, batch=100) == ref


def test_unperturbed_accuracy_equals_evaluate_exactly_on_a_stored_network(ppo):
    net, task = ppo
    ref = evaluate(net, task, 300, seed=5)["accuracy"]
    assert R.perturbed_accuracy(net, task, 300, 5) == ref
    assert ref > 0.7


# ------------------------------------------------------------------ known answers
def bias_only_accuracy(b_out: np.ndarray, n_trials: int, seed: int, random_net) -> float:
    """With h = 0 the logits are b_out on every step: the policy always picks argmax(b_out);
    it scores the fraction of trials whose correct choice that is (0 if it is 'fixate')."""
    a = int(np.argmax(b_out))
    correct = evaluate(random_net(), TASK, n_trials, seed)["correct"]
    return 0.0 if a == 0 else float(np.mean(correct == a))


@pytest.mark.parametrize("b_out", [[0.0, 1.0, 0.5], [0.0, 0.2, 0.7], [1.0, 0.0, 0.0]])
def test_ablating_every_unit_leaves_the_bias_readout(b_out, random_net):
    net = random_net()
    with torch.no_grad():
        net.b_out.copy_(torch.tensor(b_out))
    acc = R.perturbed_accuracy(net, TASK, 400, 2, unit_mask=np.zeros(32, dtype=bool))
    expected = bias_only_accuracy(np.array(b_out), 400, 2, random_net)
    assert acc == expected
    if b_out[1] > max(b_out[0], b_out[2]):
        assert 0.4 < acc < 0.6  # about half the trials want choice 1


def test_ablating_every_unit_of_a_stored_network(ppo):
    net, task = ppo
    acc = R.perturbed_accuracy(net, task, 300, 1, unit_mask=np.zeros(net.hidden, dtype=bool))
    b_out = net.b_out.detach().numpy()
    a = int(np.argmax(b_out))
    correct = evaluate(net, task, 300, 1)["correct"]
    assert acc == (0.0 if a == 0 else float(np.mean(correct == a)))


def test_zero_recurrence_is_the_feed_forward_map(random_net):
    """With W_rec = 0: h_t = ReLU(W_in x_t + b), logits = W_out h_t + b_out."""
    net = random_net(seed=4, delta=1.0)
    n = 400
    acc = R.perturbed_accuracy(net, TASK, n, 7, W_rec=np.zeros((32, 32)))
    tr = sample_trials(TASK, n, torch.Generator().manual_seed(7))
    with torch.no_grad():
        h = torch.relu(tr.inputs @ net.W_in.T + net.b)
        choice = greedy_choices(h @ net.W_out.T + net.b_out, tr)
    assert acc == float(np.mean((choice == tr.correct).numpy()))
    # the same network with its recurrent weights zeroed, through evaluate
    with torch.no_grad():
        net.W_rec.zero_()
    assert acc == evaluate(net, TASK, n, 7)["accuracy"]


# ---------------------------------------------------------------------- noise
def test_noise_is_reproducible_and_depends_on_its_seed(random_net):
    net = random_net(hidden=64, seed=1, delta=0.15)
    kw = {"noise_std": 0.5}
    a = R.perturbed_accuracy(net, TASK, 300, 0, **kw)
    assert a == R.perturbed_accuracy(net, TASK, 300, 0, **kw)
    assert a == R.perturbed_accuracy(net, TASK, 300, 0, noise_seed=R._derived_seed(0, 1), **kw)
    others = {R.perturbed_accuracy(net, TASK, 300, 0, noise_seed=s, **kw) for s in (1, 2)}
    assert len(others | {a}) > 1


def test_perturbation_validation(random_net):
    net = random_net()
    with pytest.raises(ValueError, match="noise_std"):
        R.perturbed_accuracy(net, TASK, 10, noise_std=-1.0)
    with pytest.raises(ValueError, match="unit_mask"):
        R.perturbed_accuracy(net, TASK, 10, unit_mask=np.ones(31, dtype=bool))
    with pytest.raises(ValueError, match="unit_mask"):
        R.perturbed_accuracy(net, TASK, 10, unit_mask=np.ones(32))
    with pytest.raises(ValueError, match="W_rec"):
        R.perturbed_accuracy(net, TASK, 10, W_rec=np.zeros((32, 31)))
    with pytest.raises(ValueError, match="n_trials"):
        R.perturbed_accuracy(net, TASK, 0)
    with pytest.raises(ValueError, match="fractions"):
        R.random_ablation_curve(net, TASK, [0.5, 1.5], 10)
    with pytest.raises(ValueError, match="n_draws"):
        R.weight_perturbation_curve(net, TASK, [0.1], 10, n_draws=0)
    with pytest.raises(ValueError, match="mask"):
        R.population_ablation(net, TASK, {"G+": np.ones(3, dtype=bool)}, 10)


# ---------------------------------------------------------------------- curves
def test_curves_on_a_stored_network(ppo):
    net, task = ppo
    n, seed = 200, 0
    clean = evaluate(net, task, n, seed)["accuracy"]
    slack = 2.0 / n  # the batched path may round differently from RNN.forward

    nc = R.noise_curve(net, task, [0.0, 0.3, 3.0], n, seed, n_draws=2)
    assert list(nc.columns) == ["level", "draw", "accuracy"] and len(nc) == 6
    assert list(nc.level) == [0.0, 0.0, 0.3, 0.3, 3.0, 3.0] and list(nc.draw) == [0, 1] * 3
    assert nc.accuracy[nc.level == 0].tolist() == pytest.approx([clean, clean], abs=slack)
    assert nc.accuracy[nc.level == 3.0].max() <= clean + 0.05
    assert nc.accuracy[nc.level == 3.0].mean() < clean - 0.1

    wc = R.weight_perturbation_curve(net, task, [0.0, 2.0], n, seed, n_draws=2)
    assert len(wc) == 4
    assert wc.accuracy[wc.level == 0].tolist() == pytest.approx([clean, clean], abs=slack)
    assert wc.accuracy[wc.level == 2.0].max() <= clean + 0.05

    rc = R.random_ablation_curve(net, task, [0.0, 0.5, 1.0], n, seed, n_draws=2)
    assert list(rc.columns) == ["level", "draw", "n_ablated", "accuracy"]
    assert rc.n_ablated.tolist() == [0, 0, 125, 125, 250, 250]
    assert rc.accuracy[rc.level == 0].tolist() == pytest.approx([clean, clean], abs=slack)
    a = int(np.argmax(net.b_out.detach().numpy()))
    correct = evaluate(net, task, n, seed)["correct"]
    bias_only = 0.0 if a == 0 else float(np.mean(correct == a))
    assert rc.accuracy[rc.level == 1.0].tolist() == [bias_only, bias_only]

    masks = {"first": np.arange(net.hidden) < 10, "all": np.ones(net.hidden, dtype=bool)}
    pa = R.population_ablation(net, task, masks, n, seed, n_control_draws=2)
    assert list(pa.columns) == ["level", "kind", "draw", "n_ablated", "accuracy"]
    assert pa.kind.tolist() == ["intact"] + ["population", "random", "random"] * 2
    assert pa.n_ablated.tolist() == [0, 10, 10, 10, 250, 250, 250]
    assert pa.accuracy.iloc[0] == pytest.approx(clean, abs=slack)
    assert (pa.accuracy[pa.level == "all"] == bias_only).all()


# ------------------------------------------------------------------------ summary
def test_robustness_summary_known_areas():
    df = pd.DataFrame({"level": [0, 1, 2], "accuracy": [1.0, 0.5, 0.5]})
    assert R.robustness_summary(df) == pytest.approx((0.75 + 0.5) / 2)
    # draws are averaged per level first; order does not matter
    df2 = pd.DataFrame(
        {
            "level": [2, 0, 1, 0, 1, 2],
            "draw": [0, 0, 0, 1, 1, 1],
            "accuracy": [0.4, 1, 0.6, 1, 0.4, 0.6],
        }
    )
    assert R.robustness_summary(df2) == pytest.approx(0.625)
    flat = pd.DataFrame({"level": [0.0, 0.1, 0.5], "accuracy": [0.9] * 3})
    assert R.robustness_summary(flat) == pytest.approx(0.9)
    assert R.robustness_summary(pd.DataFrame({"level": [0.3], "accuracy": [0.7]})) == 0.7


def test_robustness_summary_validation():
    with pytest.raises(ValueError, match="column"):
        R.robustness_summary(pd.DataFrame({"x": [0], "accuracy": [1.0]}))
    with pytest.raises(ValueError, match="empty"):
        R.robustness_summary(pd.DataFrame({"level": [], "accuracy": []}))
    with pytest.raises(ValueError, match="numeric"):
        R.robustness_summary(pd.DataFrame({"level": ["intact", "G+"], "accuracy": [1.0, 0.5]}))
