"""The trial regime (``TaskConfig.trials``): streams of trials, the state carried across them,
the one switch every trainer, evaluation and analysis reads; stored run ids unchanged."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lib.analysis.robustness import perturbed_accuracy
from lib.core.network import RNN, NetworkConfig, context_trials, run_trials
from lib.core.task import (
    PERIOD_DECISION,
    STREAM_TRIALS,
    TaskConfig,
    TrialStreamer,
    sample_trials,
    stream_trials,
)
from lib.pipelines.experiments import REPO
from lib.pipelines.profiles import VARIANTS, trainers, variant_of, variant_spec
from lib.pipelines.sweep import get_sweep, sweep_label
from lib.store.runs import train_command
from lib.train.evaluation import evaluate
from lib.train.spec import RunSpec, spec_from_options

CONT = TaskConfig(trials="continuous")


# ---- the setting -------------------------------------------------------------------------


def test_trials_enters_the_hash_only_when_continuous():
    assert "trials" not in TaskConfig().to_dict()
    assert CONT.to_dict()["trials"] == "continuous"
    assert TaskConfig.from_dict(CONT.to_dict()) == CONT
    assert TaskConfig.from_dict(TaskConfig().to_dict()).trials == "reset"
    a, b = RunSpec("sl", 0), RunSpec("sl", 0, CONT)
    assert a.run_id != b.run_id
    assert RunSpec("sl", 0, TaskConfig(trials="reset")).run_id == a.run_id


def test_bad_regime_is_a_clear_error(random_net):
    with pytest.raises(ValueError, match="TaskConfig.trials must be one of"):
        TaskConfig(trials="episodic")
    with pytest.raises(ValueError, match="trial regime"):
        run_trials(random_net(), sample_trials(TaskConfig(), 4, torch.Generator()), "episodic")
    with pytest.raises(ValueError, match="unknown trial regime"):
        get_sweep("variants", "smoke", "nope")


def test_every_stored_paper_run_keeps_its_id():
    """The reset regime's sweep ids are the folders of the stored runs (nothing re-hashed)."""
    runs = REPO / "data" / "runs"
    if not runs.is_dir():
        pytest.skip("no stored runs in this checkout")
    ids = {t.spec.run_id for t in get_sweep("all", "paper")}
    assert len(ids) == 140
    assert ids <= {p.name for p in runs.iterdir()}


def test_train_command_spells_out_the_regime():
    spec = spec_from_options("ppo", 3, trials="continuous")
    assert spec.task.trials == "continuous"
    cmd = train_command(spec, "/tmp/s")
    assert cmd is not None and "--trials continuous" in cmd


# ---- streams -----------------------------------------------------------------------------


def test_stream_layout_puts_trials_back_to_back():
    tr = sample_trials(TaskConfig(), 7, torch.Generator().manual_seed(1))
    st = stream_trials(tr, n_streams=3)  # stream 0: trials 0, 3, 6; 1: 1, 4; 2: 2, 5
    lengths = tr.length.tolist()
    start = 0
    for i in (0, 3, 6):
        n = lengths[i]
        assert torch.equal(st.inputs[start : start + n, 0], tr.inputs[:n, i])
        start += n
    assert int(st.mask[:, 0].sum()) == start
    assert int(st.mask[:, 1].sum()) == lengths[1] + lengths[4]
    # unstream is the inverse on every valid step, and 0 on padding
    back = st.unstream(st.inputs)
    assert torch.equal(back[tr.mask], tr.inputs[tr.mask])
    assert not back[~tr.mask].any()
    with pytest.raises(ValueError, match="n_streams"):
        stream_trials(tr, n_streams=8)


def test_continuous_run_carries_the_state_into_the_next_trial(random_net):
    """Known answer: the continuous run of a stream equals running its trials one after the
    other from the previous trial's last state; a stream's first trial equals the reset run."""
    net = random_net()
    tr = sample_trials(TaskConfig(), 45, torch.Generator().manual_seed(2))
    hs, logits, values = run_trials(net, tr, "continuous")
    S = -(-45 // STREAM_TRIALS)
    for s in range(S):
        h = torch.zeros(1, net.hidden)
        for i in range(s, 45, S):
            n = int(tr.length[i])
            out, lg, _ = net(tr.inputs[:n, i : i + 1], h0=h)
            torch.testing.assert_close(out[:, 0], hs[:n, i])
            torch.testing.assert_close(lg[:, 0], logits[:n, i])
            h = out[-1]
    hr, lr, vr = run_trials(net, tr, "reset")
    n0 = int(tr.length[0])
    torch.testing.assert_close(hr[:n0, 0], hs[:n0, 0])  # batch sizes differ: not bitwise
    assert not torch.allclose(hr[: int(tr.length[S]), S], hs[: int(tr.length[S]), S])


def test_memoryless_network_is_the_same_in_both_regimes(random_net):
    """With W_rec = 0 the state holds nothing from the previous step: both regimes give the
    same choices on the same trials (evaluation and perturbed evaluation alike)."""
    net = random_net()
    with torch.no_grad():
        net.W_rec.zero_()
    a = evaluate(net, TaskConfig(), 300, seed=5)
    b = evaluate(net, CONT, 300, seed=5)
    assert np.array_equal(a["choice"], b["choice"])
    assert perturbed_accuracy(net, CONT, 300, seed=5) == b["accuracy"]


def test_perturbation_free_robustness_equals_evaluation_in_the_continuous_regime():
    net = RNN(NetworkConfig(hidden=2))
    with torch.no_grad():  # a leaky evidence integrator that never fixates
        net.W_rec.copy_(0.8 * torch.eye(2))
        net.W_in.zero_()
        net.W_in[0, 1:5] = torch.tensor([1.0, -1.0, 1.0, -1.0])
        net.W_in[1, 1:5] = -net.W_in[0, 1:5]
        net.b.zero_()
        net.W_out.copy_(torch.tensor([[0.0, 0.0], [1.0, -1.0], [-1.0, 1.0]]))
        net.b_out.copy_(torch.tensor([-1e4, 0.0, 0.0]))
    res = evaluate(net, CONT, 200, seed=3, batch=100)
    assert 0 < np.mean(res["choice"] == 1) < 1  # the choices vary
    assert perturbed_accuracy(net, CONT, 200, seed=3, batch=100) == res["accuracy"]


def test_trial_streamer_windows_continue_the_same_trials():
    """Concatenated windows of stream s are the trials drawn for s, back to back."""
    S = 3
    w = TrialStreamer(CONT, S, torch.Generator().manual_seed(4))
    wins = [w.window(17) for _ in range(6)]
    x = torch.cat([v["inputs"] for v in wins])  # [102, S, 7]
    ends = torch.cat([v["end"] for v in wins])
    g = torch.Generator().manual_seed(4)
    ref = [[] for _ in range(S)]
    while min(sum(len(a) for a in r) for r in ref) < len(x):
        tr = sample_trials(CONT, S, g)
        for s in range(S):
            ref[s].append(tr.inputs[: int(tr.length[s]), s])
    for s in range(S):
        want = torch.cat(ref[s])[: len(x)]
        assert torch.equal(x[:, s], want)
        lengths = [len(a) for a in ref[s]]
        end_at = np.cumsum(lengths) - 1
        assert ends[:, s].nonzero().squeeze(1).tolist() == [e for e in end_at if e < len(x)]
    per = torch.cat([v["period"] for v in wins])
    tgt = torch.cat([v["targets"] for v in wins])
    assert bool((tgt[per != PERIOD_DECISION] == 0).all())


def test_context_trials_follow_a_real_previous_trial(random_net):
    net = random_net()
    g = torch.Generator().manual_seed(6)
    tr, hs, logits = context_trials(net, CONT, 12, g, context=1)
    assert tr.context.tolist() == [1] * 12 and hs.shape[1] == 12
    # states at the first step are not the reset ones: the previous trial is in them
    reset = net(tr.inputs[:1])[0][0]
    assert not torch.allclose(hs[0], reset)
    # the reset branch is exactly the fixed-context sample run from zero
    g1, g2 = torch.Generator().manual_seed(6), torch.Generator().manual_seed(6)
    tr_r, hs_r, _ = context_trials(net, TaskConfig(), 5, g1, context=0)
    ref = sample_trials(TaskConfig(), 5, g2, context=torch.zeros(5, dtype=torch.long))
    assert torch.equal(tr_r.inputs, ref.inputs) and torch.equal(hs_r, net(ref.inputs)[0])


# ---- trainers ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["ppo", "sl"])
def test_both_trainers_run_in_the_continuous_regime(algorithm):
    net_cfg = NetworkConfig(hidden=16)
    spec = RunSpec(algorithm, 0, CONT, net_cfg, trainers("smoke")[algorithm])
    res = spec.train(progress=False)
    assert res.trials_seen > 0 and np.isfinite(res.final_accuracy)
    for p in res.net.parameters():
        assert bool(torch.isfinite(p).all())


def test_sl_window_and_ppo_bootstrap_are_hashed_only_when_changed():
    sl, ppo = trainers("paper")["sl"], trainers("paper")["ppo"]
    assert "window" not in sl.to_dict() and "bootstrap_across_trials" not in ppo.to_dict()
    assert dataclasses.replace(sl, window=50).to_dict()["window"] == 50
    assert dataclasses.replace(ppo, bootstrap_across_trials=True).to_dict()[
        "bootstrap_across_trials"
    ]
    with pytest.raises(ValueError, match="window"):
        dataclasses.replace(sl, window=0)


# ---- variants ----------------------------------------------------------------------------


def test_variants_change_one_thing_each():
    base = variant_spec("baseline", "sl", 0, "paper", "continuous")
    leaky = variant_spec("leaky", "sl", 0, "paper", "continuous")
    noisy = variant_spec("old_noise", "sl", 0, "paper", "continuous")
    plain = variant_spec("plain_ce", "sl", 0, "paper", "continuous")
    assert leaky.network.alpha == VARIANTS["leaky"]["network"]["alpha"] < 1
    assert dataclasses.replace(leaky, network=base.network) == base
    assert noisy.task.noise_std == pytest.approx(0.2)
    assert dataclasses.replace(noisy, task=base.task) == base
    assert plain.trainer.decision_weight == 1.0
    # plain cross-entropy does not touch PPO: its PPO run is the baseline's
    assert variant_spec("plain_ce", "ppo", 0).run_id == variant_spec("baseline", "ppo", 0).run_id
    assert variant_of(leaky) == "leaky" and variant_of(base) == "baseline"
    assert variant_of(RunSpec("sl", 0, CONT, NetworkConfig(delta=0.2))) is None
    with pytest.raises(ValueError, match="unknown variant"):
        variant_spec("huge", "sl", 0)


def test_variants_sweep_is_seed_complete_and_labelled():
    tasks = get_sweep("variants", "paper", "continuous")
    assert len(tasks) == 70  # (baseline, leaky, old_noise) x 2 algorithms + plain_ce SL, x 10
    assert {t.spec.task.trials for t in tasks} == {"continuous"}
    reset = {t.spec.run_id for t in get_sweep("variants", "paper")}
    assert {t.spec.run_id for t in get_sweep("initialization", "paper")} & reset
    assert sweep_label("all", "paper") == "all-paper"
    assert sweep_label("all", "paper", "continuous") == "all-paper-continuous"


def test_command_line_takes_the_regime(tmp_path, capsys):
    from lib.__main__ import build_parser, main, train_spec

    base = ["train", "--algorithm", "sl", "--seed", "0"]
    args = build_parser().parse_args([*base, "--trials", "continuous"])
    assert train_spec(args).task.trials == "continuous"
    assert train_spec(build_parser().parse_args(base)).run_id == RunSpec("sl", 0).run_id
    with pytest.raises(SystemExit):
        build_parser().parse_args([*base, "--trials", "episodic"])
    rc = main(
        ["sweep", "default", "--profile", "smoke", "--trials", "continuous", "--status"]
        + ["--store", str(tmp_path)]
    )
    assert rc == 0
    assert "sweep default (smoke, continuous trials): 4 tasks: 4 missing" in capsys.readouterr().out


@pytest.mark.parametrize("trials", ["reset", "continuous"])
def test_ppo_resets_the_state_only_in_the_reset_regime(trials, monkeypatch):
    """Known behaviour: the rollout's and the update's recurrence zero the state at a trial's
    start in the reset regime, and never (after the very first step) in the continuous one."""
    carries: list[torch.Tensor] = []
    step = RNN.step

    def spy(self, h, u, *a, carry=None, **k):
        if carry is not None:
            carries.append(carry.detach().clone())
        return step(self, h, u, *a, carry=carry, **k)

    monkeypatch.setattr(RNN, "step", spy)
    spec = RunSpec(
        "ppo", 0, TaskConfig(trials=trials), NetworkConfig(hidden=8), trainers("smoke")["ppo"]
    )
    spec.train(progress=False)
    later = torch.cat([c.reshape(-1) for c in carries[1:]])
    if trials == "continuous":
        assert bool(later.all())  # the state is always carried
    else:
        assert not bool(later.all())  # zeroed at every new trial
