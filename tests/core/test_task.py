"""The CtxDM task against known answers: inputs period by period, rewards, statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.core.task import (
    CHANNELS,
    N_INPUTS,
    PERIOD_CODES,
    PERIOD_DECISION,
    PERIOD_DELAY,
    PERIOD_FIXATION,
    PERIOD_PAD,
    PERIOD_STIMULUS,
    CtxDMEnv,
    TaskConfig,
    ideal_observer_accuracy,
    ideal_observer_p_choice1,
    noisy_channels,
    period_inputs,
    sample_trials,
)

CFG = TaskConfig()


def one_trial(cfg=CFG, context=0, coh1=15.0, coh2=-50.0, delay=5, noise=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    return sample_trials(
        cfg,
        1,
        g,
        noise=noise,
        context=torch.tensor([context]),
        coh1=torch.tensor([coh1]),
        coh2=torch.tensor([coh2]),
        delay_steps=torch.tensor([delay]),
    )


def test_period_lengths_follow_neurogym_flooring():
    assert (CFG.n_fixation, CFG.n_stimulus, CFG.n_decision) == (3, 7, 1)
    assert CFG.delay_steps_range == (3, 29)
    assert CFG.max_steps == 3 + 7 + 29 + 1
    assert CFG.noise_std == pytest.approx(0.1)


@pytest.mark.parametrize("context", [0, 1])
def test_every_channel_in_every_period_neurogym1(context):
    tr = one_trial(context=context, coh1=15.0, coh2=-50.0, delay=5)
    x = tr.inputs[:, 0].numpy()
    per = tr.period[:, 0].numpy()
    assert x.shape == (3 + 7 + 5 + 1, 7)
    expected_periods = (
        [PERIOD_FIXATION] * 3 + [PERIOD_STIMULUS] * 7 + [PERIOD_DELAY] * 5 + [PERIOD_DECISION]
    )
    assert per.tolist() == expected_periods
    ctx = [1.0, 0.0] if context == 0 else [0.0, 1.0]
    for t, p in enumerate(per):
        fix = 0.0 if p == PERIOD_DECISION else 1.0
        if p == PERIOD_STIMULUS:
            stim = [(1 + 0.15) / 2, (1 - 0.15) / 2, (1 - 0.5) / 2, (1 + 0.5) / 2]
        else:
            stim = [0.0, 0.0, 0.0, 0.0]
        np.testing.assert_allclose(
            x[t], [fix, *stim, *ctx], atol=1e-7, err_msg=f"step {t} period {p}"
        )
    # targets: fixate everywhere but the decision step, where the relevant sign decides
    want = 1 if context == 0 else 2  # coh1 = +15 -> choice 1; coh2 = -50 -> choice 2
    assert tr.targets[:, 0].tolist() == [0] * 15 + [want]
    assert int(tr.correct[0]) == want
    assert float(tr.relevant_coh[0]) == (15.0 if context == 0 else -50.0)


def test_neurogym2_has_no_go_cue_and_noise_on_stimulus_channels_only():
    cfg = TaskConfig(semantics="neurogym2")
    tr = one_trial(cfg, delay=4)
    fix = tr.inputs[:, 0, 0].numpy()
    assert fix.tolist() == [1.0] * 3 + [0.0] * (7 + 4 + 1)
    noisy = one_trial(cfg, delay=4, noise=True).inputs[:, 0].numpy()
    clean = tr.inputs[:, 0].numpy()
    diff = noisy - clean
    quiet = [CHANNELS[n] for n in ("fixation", "context1", "context2")]
    assert np.all(diff[:, quiet] == 0)
    assert np.any(diff[3:10][:, noisy_channels("neurogym2")] != 0)


def test_noise_only_in_stimulus_period_with_std_sigma_over_sqrt_dt():
    g = torch.Generator().manual_seed(1)
    tr = sample_trials(CFG, 4000, g)
    clean = sample_trials(
        CFG,
        4000,
        torch.Generator().manual_seed(1),
        noise=False,
        context=tr.context,
        coh1=tr.coh1,
        coh2=tr.coh2,
        delay_steps=tr.delay_steps,
    )
    d = (tr.inputs - clean.inputs).numpy()
    stim = (tr.period == PERIOD_STIMULUS).numpy()
    assert np.all(d[~stim] == 0)
    sd = d[stim].std(0)
    np.testing.assert_allclose(sd, 0.1, rtol=0.03)  # all 7 channels, 28k samples each


def test_padding_is_masked_and_zero():
    g = torch.Generator().manual_seed(3)
    tr = sample_trials(CFG, 64, g)
    assert tr.inputs.shape[0] == int(tr.length.max())
    pad = ~tr.mask
    assert torch.equal(pad, tr.period == PERIOD_PAD)
    assert float(tr.inputs[pad].abs().sum()) == 0.0
    assert torch.equal(tr.mask.sum(0), tr.length)


def test_coherence_statistics():
    g = torch.Generator().manual_seed(0)
    n = 60000
    tr = sample_trials(CFG, n, g)
    for c in (tr.coh1, tr.coh2):
        vals, counts = np.unique(c.numpy(), return_counts=True)
        assert vals.tolist() == [-50, -15, -5, 5, 15, 50]
        np.testing.assert_allclose(counts / n, 1 / 6, atol=0.01)
    # the two modalities are independent, contexts are balanced, correct = sign of relevant
    r = np.corrcoef(tr.coh1.numpy(), tr.coh2.numpy())[0, 1]
    assert abs(r) < 0.02
    assert abs(tr.context.float().mean().item() - 0.5) < 0.01
    rel = tr.relevant_coh.numpy()
    assert np.all(np.where(rel > 0, 1, 2) == tr.correct.numpy())


def test_delay_statistics_match_truncated_exponential():
    g = torch.Generator().manual_seed(0)
    tr = sample_trials(CFG, 50000, g, noise=False)
    d = tr.delay_steps.numpy()
    assert d.min() == 3 and d.max() <= 29
    # P(floor(X/dt) = k) for X ~ Exp(600) restricted to [300, 3000)
    lam = 1 / 600.0
    z = math.exp(-lam * 300) - math.exp(-lam * 3000)
    ks = np.arange(3, 30)
    lo = np.maximum(ks * 100.0, 300.0)
    hi = np.minimum((ks + 1) * 100.0, 3000.0)
    p = (np.exp(-lam * lo) - np.exp(-lam * hi)) / z
    assert p.sum() == pytest.approx(1.0)
    emp = np.bincount(d, minlength=30)[3:30] / len(d)
    np.testing.assert_allclose(emp, p, atol=0.006)
    assert d.mean() == pytest.approx((ks * p).sum(), abs=0.05)


def run_env_trial(env, actions_by_step):
    """Step one environment through a trial with the given action per step."""
    out = []
    for a in actions_by_step:
        obs, r, done, info = env.step(torch.tensor([a]))
        out.append((obs, float(r[0]), bool(done[0]), {k: v[0].item() for k, v in info.items()}))
        if done[0]:
            break
    return out


def test_env_reward_rules():
    env = CtxDMEnv(CFG, 1, seed=0)
    env.reset()
    L = int(env.params["length"][0])
    gt = int(env.params["correct"][0])
    # fixation break: -0.1 and the trial goes on; any action during stimulus/delay: 0
    actions = [1, 2, 0] + [1] * (L - 4) + [gt]
    steps = run_env_trial(env, actions)
    rewards = [s[1] for s in steps]
    assert rewards[:3] == pytest.approx([-0.1, -0.1, 0.0])
    assert rewards[3 : L - 1] == [0.0] * (L - 4)
    assert rewards[-1] == 1.0 and steps[-1][2] and len(steps) == L
    assert steps[-1][3]["is_correct"] and steps[-1][3]["choice"] == gt
    assert all(not s[2] for s in steps[:-1])
    # the next trial started: its first observation has fixation 1 and no stimulus
    obs0 = steps[-1][0][0]
    assert obs0[0] == 1.0 and torch.all(obs0[1:5] == 0)
    assert int(env.t[0]) == 0

    # wrong choice: 0 and done
    L = int(env.params["length"][0])
    wrong = 3 - int(env.params["correct"][0])
    steps = run_env_trial(env, [0] * (L - 1) + [wrong])
    assert steps[-1][1] == 0.0 and steps[-1][2] and not steps[-1][3]["is_correct"]

    # fixating through the decision period: 0, the trial ends anyway
    L = int(env.params["length"][0])
    steps = run_env_trial(env, [0] * L)
    assert len(steps) == L and steps[-1][2] and steps[-1][1] == 0.0
    assert steps[-1][3]["choice"] == 0
    assert env.trials_completed == 3


def test_env_observations_equal_sampler_observations():
    """Both faces of the task produce the same noise-free input time course."""
    env = CtxDMEnv(TaskConfig(sigma=0.0), 8, seed=5)
    first = env.reset()
    p = {k: v.clone() for k, v in env.params.items()}
    obs = [first]
    for _ in range(int(p["length"].min()) - 1):
        o, _, _, _ = env.step(torch.zeros(8, dtype=torch.long))
        obs.append(o)
    tr = sample_trials(
        TaskConfig(sigma=0.0),
        8,
        torch.Generator(),
        noise=False,
        context=p["context"],
        coh1=p["coh1"],
        coh2=p["coh2"],
        delay_steps=p["delay_steps"],
    )
    np.testing.assert_allclose(torch.stack(obs).numpy(), tr.inputs[: len(obs)].numpy())


def test_env_vectorised_autoreset_independent():
    env = CtxDMEnv(CFG, 16, seed=2)
    env.reset()
    lengths = env.params["length"].clone()
    done_at = torch.full((16,), -1)
    for t in range(int(lengths.max())):
        _, _, done, _ = env.step(torch.zeros(16, dtype=torch.long))
        done_at = torch.where(done & (done_at < 0), t, done_at)
    assert torch.equal(done_at, lengths - 1)


def test_env_rejects_bad_actions():
    env = CtxDMEnv(CFG, 2)
    with pytest.raises(RuntimeError):
        env.step(torch.zeros(2, dtype=torch.long))
    env.reset()
    with pytest.raises(ValueError):
        env.step(torch.tensor([0, 3]))
    with pytest.raises(ValueError):
        env.step(torch.tensor([0]))


def test_ideal_observer_analytic_matches_monte_carlo():
    cfg = CFG
    assert ideal_observer_accuracy(cfg) == pytest.approx(0.941, abs=0.002)
    assert float(ideal_observer_p_choice1(cfg, 5.0)) == pytest.approx(0.825, abs=0.002)
    g = torch.Generator().manual_seed(11)
    n = 40000
    tr = sample_trials(cfg, n, g)
    stim = (tr.period == PERIOD_STIMULUS).float()
    d1 = ((tr.inputs[..., 1] - tr.inputs[..., 2]) * stim).sum(0)
    d2 = ((tr.inputs[..., 3] - tr.inputs[..., 4]) * stim).sum(0)
    evidence = torch.where(tr.context == 0, d1, d2)
    choice = torch.where(evidence > 0, 1, 2)
    acc = (choice == tr.correct).float().mean().item()
    se = math.sqrt(acc * (1 - acc) / n)
    assert abs(acc - ideal_observer_accuracy(cfg)) < 4 * se
    # per coherence level, too
    rel = tr.relevant_coh.abs()
    for c in cfg.coherences:
        sel = rel == c
        a = (choice[sel] == tr.correct[sel]).float().mean().item()
        assert a == pytest.approx(
            float(ideal_observer_p_choice1(cfg, c)), abs=4 * math.sqrt(0.25 / int(sel.sum()))
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dt": 0},
        {"stimulus_ms": 50},
        {"delay_min_ms": 500, "delay_max_ms": 400},
        {"coherences": ()},
        {"coherences": (0.0, 10.0)},
        {"sigma": -1},
        {"semantics": "neurogym3"},
    ],
)
def test_invalid_task_config_raises(kwargs):
    with pytest.raises(ValueError):
        TaskConfig(**kwargs)


def test_task_config_roundtrip_and_unknown_key():
    cfg = TaskConfig(coherences=(10, 20))
    assert TaskConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown"):
        TaskConfig.from_dict({"foo": 1})


def test_same_generator_seed_same_trials():
    a = sample_trials(CFG, 32, torch.Generator().manual_seed(4))
    b = sample_trials(CFG, 32, torch.Generator().manual_seed(4))
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)


# ---- the one input encoding, by channel name -----------------------------------------------
def test_channels_are_named_once_in_neurogym_order():
    assert list(CHANNELS) == [
        "fixation",
        "stim1_mod1",
        "stim2_mod1",
        "stim1_mod2",
        "stim2_mod2",
        "context1",
        "context2",
    ]
    assert list(CHANNELS.values()) == list(range(N_INPUTS)) and N_INPUTS == 7
    assert noisy_channels("neurogym1") == list(range(7))
    assert noisy_channels("neurogym2") == [
        CHANNELS[n] for n in ("stim1_mod1", "stim2_mod1", "stim1_mod2", "stim2_mod2")
    ]


#: Known answers per (semantics, period): the fixation input and whether the stimulus is on.
FIXATION_INPUT = {
    ("neurogym1", "fixation"): 1.0,
    ("neurogym1", "stimulus"): 1.0,
    ("neurogym1", "delay"): 1.0,
    ("neurogym1", "decision"): 0.0,
    ("neurogym2", "fixation"): 1.0,
    ("neurogym2", "stimulus"): 0.0,
    ("neurogym2", "delay"): 0.0,
    ("neurogym2", "decision"): 0.0,
}


@pytest.mark.parametrize("semantics", ["neurogym1", "neurogym2"])
@pytest.mark.parametrize("period", ["fixation", "stimulus", "delay", "decision"])
@pytest.mark.parametrize("context", [0, 1])
def test_period_inputs_per_channel_per_period(semantics, period, context):
    x = period_inputs(context, [20.0, -50.0], [-50.0, 0.0], period, semantics)
    assert x.shape == (2, 7) and x.dtype == np.float64
    on = period == "stimulus"
    for row, (c1, c2) in enumerate([(0.2, -0.5), (-0.5, 0.0)]):
        want = {
            "fixation": FIXATION_INPUT[(semantics, period)],
            "stim1_mod1": (1 + c1) / 2 if on else 0.0,
            "stim2_mod1": (1 - c1) / 2 if on else 0.0,
            "stim1_mod2": (1 + c2) / 2 if on else 0.0,
            "stim2_mod2": (1 - c2) / 2 if on else 0.0,
            "context1": 1.0 if context == 0 else 0.0,
            "context2": 1.0 if context == 1 else 0.0,
        }
        for name, value in want.items():
            assert x[row, CHANNELS[name]] == pytest.approx(value, abs=1e-15), (name, row)


@pytest.mark.parametrize("semantics", ["neurogym1", "neurogym2"])
def test_observe_without_noise_is_the_period_inputs_at_every_step(semantics):
    """The task's noise-free observation is, step by step, the encoding of that step's period
    (coherences exactly representable in float32, so the two agree exactly)."""
    cfg = TaskConfig(semantics=semantics)
    for context in (0, 1):
        tr = one_trial(cfg, context=context, coh1=50.0, coh2=-25.0, delay=4)
        x = tr.inputs[:, 0].double().numpy()
        for t, code in enumerate(tr.period[:, 0].tolist()):
            name = {v: k for k, v in PERIOD_CODES.items()}[code]
            np.testing.assert_array_equal(
                x[t], period_inputs(context, 50.0, -25.0, name, semantics)[0], err_msg=str(t)
            )


def test_period_inputs_rejects_unknown_period_semantics_and_context():
    with pytest.raises(ValueError, match="period"):
        period_inputs(0, 0.0, 0.0, "nap")
    with pytest.raises(ValueError, match="semantics"):
        period_inputs(0, 0.0, 0.0, "delay", "neurogym3")
    with pytest.raises(ValueError, match="context"):
        period_inputs(2, 0.0, 0.0, "delay")
