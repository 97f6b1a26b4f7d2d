"""Populations and balance: known answers on constructed states, synthetic activity and
hand-built networks whose decision states are known exactly; a smoke test on stored runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import mannwhitneyu

import lib.analysis.populations as P
from lib.analysis.information import holm
from lib.core.network import RNN, NetworkConfig


# --------------------------------------------------------------------------- balance
@pytest.mark.parametrize(
    ("a", "b", "expected"), [(5, 5, 1.0), (3, 1, 0.5), (4, 0, 0.0), (0, 7, 0.0), (2, 1, 2 / 3)]
)
def test_balance_index_known_sizes(a, b, expected):
    assert P.balance_index(a, b) == pytest.approx(expected, abs=1e-15)


def test_balance_index_is_nan_when_both_populations_are_empty():
    assert math.isnan(P.balance_index(0, 0))


def test_balance_index_rejects_negative_sizes():
    with pytest.raises(ValueError, match="sizes"):
        P.balance_index(-1, 3)


# ----------------------------------------------------------------------- populations
def test_populations_from_constructed_states():
    """Unit 0 and 4 only at h+, unit 1 only at h-, unit 2 at both, 3 and 5 at neither
    (unit 5 is below the threshold at h+)."""
    hp = np.array([2.0, 0.0, 1.0, 0.0, 1.5, 5e-7])
    hm = np.array([0.0, 2.0, 1.0, 0.0, 0.0, 0.0])
    pops = P.populations(hp, hm, threshold=1e-6)
    np.testing.assert_array_equal(pops.g_plus, [1, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(pops.g_minus, [0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(pops.g_a, [0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(pops.g_s, [0, 0, 0, 1, 0, 1])
    assert (pops.n_plus, pops.n_minus, pops.n_a, pops.n_s) == (2, 1, 1, 2)
    assert pops.balance == pytest.approx(2 / 3)
    assert list(pops.labels()) == ["G+", "G-", "Ga", "Gs", "G+", "Gs"]
    assert pops.sizes() == {
        "n_units": 6,
        "n_plus": 2,
        "n_minus": 1,
        "n_a": 1,
        "n_s": 2,
        "balance": pytest.approx(2 / 3),
    }
    # a lower threshold moves unit 5 into G+
    assert P.populations(hp, hm, threshold=1e-7).n_plus == 3


def test_populations_with_identical_states_have_nan_balance():
    h = np.array([1.0, 0.0, 3.0])
    pops = P.populations(h, h)
    assert pops.n_plus == pops.n_minus == 0
    assert (pops.n_a, pops.n_s) == (2, 1)
    assert math.isnan(pops.balance)


@pytest.mark.parametrize(
    ("hp", "hm", "thr", "msg"),
    [
        (np.ones(3), np.ones(4), 1e-6, "same length"),
        (np.ones((2, 2)), np.ones((2, 2)), 1e-6, "1-D"),
        (np.array([1.0, np.nan]), np.ones(2), 1e-6, "finite"),
        (np.ones(2), np.ones(2), -1.0, "threshold"),
    ],
)
def test_populations_validation(hp, hm, thr, msg):
    with pytest.raises(ValueError, match=msg):
        P.populations(hp, hm, thr)


def test_populations_container_checks_the_partition():
    t, f = np.array([True, False]), np.array([False, False])
    with pytest.raises(ValueError, match="partition"):
        P.Populations(t, t, f, ~t, threshold=0.0)  # unit 0 in two populations
    with pytest.raises(ValueError, match="partition"):
        P.Populations(t, f, f, f, threshold=0.0)  # unit 1 in none


# ------------------------------------------------------------------ choice selectivity
def synthetic_activity(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Units: 0 higher for choice 1, 1 higher for choice 2, 2 active and unselective,
    3 silent, 4 constant (active, p = 1), 5 active only in choice 1 (ReLU-like)."""
    rng = np.random.default_rng(seed)
    choice = np.where(np.arange(n) % 2 == 0, 1, 2)
    c1 = (choice == 1).astype(float)
    X = np.empty((n, 6))
    X[:, 0] = 1.0 + c1 + 0.3 * rng.standard_normal(n)
    X[:, 1] = 2.0 - c1 + 0.3 * rng.standard_normal(n)
    X[:, 2] = 1.0 + 0.3 * rng.standard_normal(n)
    X[:, 3] = 0.0
    X[:, 4] = 1.0
    X[:, 5] = c1 * (2.0 + 0.1 * rng.standard_normal(n))
    return X, choice


def test_choice_selectivity_recovers_known_units():
    X, choice = synthetic_activity()
    sp = P.choice_selectivity(X, choice, threshold=1e-6, alpha=0.01)
    assert sp.definition == "selectivity"
    assert list(sp.labels()) == ["G+", "G-", "Ga", "Gs", "Ga", "G+"]
    assert sp.balance == pytest.approx(1 - 1 / 3)
    assert np.isnan(sp.pvalue[3]) and np.isnan(sp.pvalue_holm[3])  # silent: not tested
    assert sp.pvalue[4] == 1.0
    assert sp.effect[0] > 0.9 and sp.effect[1] < -0.9 and sp.effect[5] == 1.0
    # the p-values are scipy's, unit by unit, and the adjustment is Holm over tested units
    for j in (0, 1, 2, 5):
        ref = mannwhitneyu(X[choice == 1, j], X[choice == 2, j], alternative="two-sided")
        assert sp.pvalue[j] == pytest.approx(ref.pvalue, rel=1e-12)
    np.testing.assert_allclose(sp.pvalue_holm, holm(sp.pvalue), equal_nan=True)


def test_choice_selectivity_applies_the_holm_correction():
    """Five identical weakly selective units: raw p = 0.0033 < 0.01 but Holm gives 5p = 0.017,
    so none is selective at alpha = 0.01; all are at alpha = 0.05."""
    base = np.arange(20.0)
    col = np.concatenate([base + 6.5, base])
    choice = np.repeat([1, 2], 20)
    X = np.repeat(col[:, None], 5, axis=1)
    p_raw = mannwhitneyu(base + 6.5, base).pvalue
    assert 0.002 < p_raw < 0.01  # precondition of the test
    strict = P.choice_selectivity(X, choice, alpha=0.01)
    np.testing.assert_allclose(strict.pvalue_holm, 5 * p_raw, rtol=1e-12)
    assert strict.n_plus == 0 and strict.n_a == 5
    loose = P.choice_selectivity(X, choice, alpha=0.05)
    assert loose.n_plus == 5 and loose.balance == 0.0


@pytest.mark.parametrize(
    ("X", "c", "kw", "msg"),
    [
        (np.ones(6), np.array([1, 2] * 3), {}, "n_trials, N"),
        (np.ones((6, 2)), np.array([1, 2, 3, 1, 2, 1]), {}, "only 1 and 2"),
        (np.ones((6, 2)), np.array([1, 1, 1, 1, 1, 2]), {}, "at least 2"),
        (np.ones((6, 2)), np.array([1, 2] * 3), {"alpha": 1.5}, "alpha"),
        (np.ones((6, 2)), np.array([1, 2] * 2), {}, "shape"),
    ],
)
def test_choice_selectivity_validation(X, c, kw, msg):
    with pytest.raises(ValueError, match=msg):
        P.choice_selectivity(X, c, **kw)


# ------------------------------------------------------------ hand-built networks
def two_choice_network(inhibition: float = 2.0, alpha: float = 1.0) -> RNN:
    r"""Five units, context 0. Units 0 and 1 excite themselves (0.5) and inhibit each other
    (``inhibition``); during the stimulus unit 0 is driven by +5 (ch1 - ch2) of modality 1,
    unit 1 by -5 (ch1 - ch2); the fixation input drives both by 1. Unit 2 is on at rate 1
    (bias), unit 3 off (bias -1), unit 4 copies unit 0 minus 0.5. The readout is choice 1 =
    unit 0, choice 2 = unit 1.

    With inhibition 2 the delay map (input 1 to units 0 and 1) has exactly two stable fixed
    points, h+ = (2, 0, 1, 0, 1.5) and h- = (0, 2, 1, 0, 0) (active blocks with eigenvalues
    0.5 and 0), and the symmetric one (0.4, 0.4, 1, 0, 0) is unstable (eigenvalue 2.5).
    Without inhibition the only fixed point is (2, 2, 1, 0, 1.5): both choices flow there.
    A leak ``alpha`` keeps the fixed points and maps each eigenvalue to 1 - alpha + alpha lambda.
    """
    net = RNN(NetworkConfig(hidden=5, alpha=alpha))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        W = torch.zeros(5, 5)
        W[0, 0] = W[1, 1] = 0.5
        W[0, 1] = W[1, 0] = -inhibition
        W[4, 0] = 1.0
        net.W_rec.copy_(W)
        Win = torch.zeros(5, 7)
        Win[0, 0] = Win[1, 0] = 1.0
        Win[0, 1], Win[0, 2], Win[1, 1], Win[1, 2] = 5.0, -5.0, -5.0, 5.0
        net.W_in.copy_(Win)
        net.b.copy_(torch.tensor([0.0, 0.0, 1.0, -1.0, -0.5]))
        Wo = torch.zeros(3, 5)
        Wo[1, 0] = Wo[2, 1] = 1.0
        net.W_out.copy_(Wo)
    return net


def test_decision_states_of_a_winner_take_all_network_are_its_two_fixed_points():
    ds = P.decision_states(two_choice_network(), 0, n_trials=120, seed=0)
    assert ds.method == "fixed_points" and ds.reason == ""
    np.testing.assert_allclose(ds.h_plus, [2.0, 0.0, 1.0, 0.0, 1.5], atol=1e-12)
    np.testing.assert_allclose(ds.h_minus, [0.0, 2.0, 1.0, 0.0, 0.0], atol=1e-12)
    assert ds.n_stable == 2 and ds.attractor_plus != ds.attractor_minus
    assert ds.support_plus > 0.9 and ds.support_minus > 0.9
    assert ds.n_plus_trials + ds.n_minus_trials > 90
    pops = P.populations(ds.h_plus, ds.h_minus)
    assert list(pops.labels()) == ["G+", "G-", "Ga", "Gs", "G+"]
    assert pops.balance == pytest.approx(2 / 3)


def test_decision_states_of_a_leaky_network_are_the_same_fixed_points():
    """alpha = 0.5: h+ and h- are unchanged; their leaky Jacobians have spectral radius
    0.5 + 0.5 * 0.5 = 0.75 (the self-excitation), the symmetric point 0.5 + 0.5 * 2.5 > 1."""
    ds = P.decision_states(two_choice_network(alpha=0.5), 0, n_trials=120, seed=0)
    assert ds.method == "fixed_points" and ds.reason == ""
    np.testing.assert_allclose(ds.h_plus, [2.0, 0.0, 1.0, 0.0, 1.5], atol=1e-12)
    np.testing.assert_allclose(ds.h_minus, [0.0, 2.0, 1.0, 0.0, 0.0], atol=1e-12)
    fps = ds.fixed_points
    np.testing.assert_allclose(np.sort(fps.spectral_radius[fps.stable]), [0.75, 0.75])
    sym = np.flatnonzero(np.all(np.abs(fps.points[:, :2] - 0.4) < 1e-9, axis=1))
    if len(sym):  # the unstable point is found only when a trial settles near it
        assert fps.spectral_radius[sym[0]] == pytest.approx(1.75)
    assert ds.support_plus > 0.9 and ds.support_minus > 0.9


def test_decision_states_fall_back_to_mean_go_states_when_the_decision_is_transient():
    net = two_choice_network(inhibition=0.0)
    ds = P.decision_states(net, 0, n_trials=120, seed=1)
    assert ds.method == "mean_states"
    assert "same stable fixed point" in ds.reason
    assert ds.n_stable == 1 and ds.attractor_plus == ds.attractor_minus == 0
    np.testing.assert_allclose(ds.fixed_points.points[ds.stable_index[0]], [2, 2, 1, 0, 1.5])
    act = P.trial_activity(net, 0, 120, 1)
    ok = act.choice == act.correct
    np.testing.assert_allclose(ds.h_plus, act.go[ok & (act.correct == 1)].mean(0))
    np.testing.assert_allclose(ds.h_minus, act.go[ok & (act.correct == 2)].mean(0))
    # the choice is still readable at the go cue: unit 0 leads for choice 1
    assert ds.h_plus[0] > ds.h_plus[1] and ds.h_minus[1] > ds.h_minus[0]


def test_decision_states_validation():
    net = two_choice_network()
    with pytest.raises(ValueError, match="context"):
        P.decision_states(net, 2)
    with pytest.raises(ValueError, match="n_trials"):
        P.decision_states(net, 0, n_trials=1)
    with pytest.raises(ValueError, match="n_flow"):
        P.decision_states(net, 0, n_flow=0)
    with pytest.raises(TypeError, match="StoredRun or an RNN"):
        P.decision_states("ppo", 0)


def test_selectivity_populations_on_the_winner_take_all_network():
    """At the go cue unit 0 fires only in choice-1 trials and unit 1 only in choice-2 ones
    (rate 1 or 0 after the fixation input is gone); units 2 and 4 follow."""
    sp = P.selectivity_populations(two_choice_network(), 0, n_trials=120, seed=0)
    assert sp.g_plus[0] and sp.g_minus[1] and sp.g_s[3]
    assert sp.g_plus[4]  # unit 4 copies unit 0
    assert sp.g_a[2]  # constant rate 1: active, not selective


# ---------------------------------------------------------------- stored networks
@pytest.fixture(scope="module", params=["ppo", "sl"])
def stored_run(request, stored_default):
    return stored_default(request.param, 0)


def test_population_table_on_stored_runs(stored_run):
    df = P.population_table(stored_run, contexts=(0, 1), n_trials=80, seed=0)
    assert len(df) == 4
    assert set(df.definition) == {"decision_states", "selectivity"}
    assert set(df.context) == {1, 2}
    sizes = df[["n_plus", "n_minus", "n_a", "n_s"]].sum(axis=1)
    assert (sizes == stored_run.spec.network.hidden).all()
    assert (df.n_units == stored_run.spec.network.hidden).all()
    assert df.balance.between(0, 1).all()
    ds = df[df.definition == "decision_states"]
    assert ds.method.isin(["fixed_points", "mean_states"]).all()
    assert ((ds.method == "mean_states") == (ds.reason != "")).all()
    assert (df.algorithm == stored_run.spec.algorithm).all()


@pytest.mark.parametrize("semantics", ["neurogym1", "neurogym2"])
def test_delay_input_is_the_named_encoding_of_the_networks_task(semantics):
    """The delay map of the population analysis uses the task's own delay input: the one
    encoding (lib.core.task.period_inputs), equal to what the trials show in the delay period."""
    from lib.core.task import CHANNELS, TaskConfig, period_inputs, sample_trials

    task = TaskConfig(semantics=semantics)
    net = RNN(NetworkConfig(hidden=12), generator=torch.Generator().manual_seed(0))
    for ctx in (0, 1):
        act = P.trial_activity(net, ctx, 8, 1, task=task)
        np.testing.assert_array_equal(
            act.delay_input, period_inputs(ctx, 0.0, 0.0, "delay", semantics)[0]
        )
        tr = sample_trials(
            task, 1, torch.Generator().manual_seed(0), noise=False, context=torch.tensor([ctx])
        )
        np.testing.assert_array_equal(
            act.delay_input, tr.inputs[int(tr.delay_on[0]), 0].double().numpy()
        )
        assert act.delay_input[CHANNELS["fixation"]] == (1.0 if semantics == "neurogym1" else 0.0)
        assert act.delay_input[CHANNELS[f"context{ctx + 1}"]] == 1.0


def test_every_population_analysis_uses_the_same_definitions():
    """Chapter 3 (BalanceConfig) and the sweeps (SculptConfig) define populations with the
    same settings, written once in lib.analysis.populations."""
    from lib.analysis.balance import BalanceConfig
    from lib.analysis.sculpting import SculptConfig

    b, s = BalanceConfig(), SculptConfig()
    for name, value in (
        ("n_trials", P.POPULATION_TRIALS),
        ("seed", P.POPULATION_SEED),
        ("threshold", P.ACTIVITY_THRESHOLD),
        ("alpha", P.SELECTIVITY_ALPHA),
    ):
        assert getattr(b, name) == getattr(s, name) == value
