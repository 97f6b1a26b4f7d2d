"""Census of coherence space on hand-built networks with known attractors; caching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import lib.analysis.census as cz
from lib.analysis.dynamics import OrbitConfig
from lib.analysis.stats import bootstrap_ci, compare_groups
from lib.core.network import RNN, NetworkConfig
from lib.core.task import CHANNELS, TaskConfig, sample_trials
from lib.store.runs import Store
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig
from lib.train.training import TrainResult

FAST = OrbitConfig(n_transient=200, n_record=400, max_period=16)


def stored_network(tmp_path, W_rec: np.ndarray, seed: int = 0, task: TaskConfig | None = None):
    """Store a hand-built network as a run (W_in random, b = 0)."""
    n = W_rec.shape[0]
    spec = RunSpec(
        "sl",
        seed,
        task=task or TaskConfig(),
        network=NetworkConfig(hidden=n),
        trainer=SLConfig(max_trials=64),
    )
    net = RNN(spec.network, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        net.W_rec.copy_(torch.as_tensor(W_rec, dtype=torch.float32))
    res = TrainResult(net, False, 0.9, None, None, 0, 0, 0.0, 0.5, [])
    st = Store(tmp_path)
    st.save(spec, res)
    return st, st.load(spec)


def test_contracting_diagonal_network_has_one_known_fixed_point_everywhere(tmp_path):
    n = 12
    st, run = stored_network(tmp_path, 0.5 * np.eye(n))
    cfg = cz.CensusConfig(grid=3, n_trial_states=2, orbit=FAST)
    res = cz.compute_census(run, cfg)
    g, a = res["grid"], res["attractors"]
    assert len(g) == 2 * 3 * 3
    assert (g.kinds == "fixed_point").all() and (g.n_attractors == 1).all()
    assert not g.has_qp.any()
    A = cz.network_arrays(run)
    # h* = ReLU(c) / (1 - 0.5): every active unit contracts at 0.5 -> lambda = log 0.5
    for _, row in a.iterrows():
        c = (cz.stimulus_inputs(int(row.context) - 1, [row.c1], [row.c2]) @ A["W_in"].T + A["b"])[0]
        assert row.residual < 1e-12
        assert row.lambda1 == pytest.approx(np.log(0.5), abs=1e-9)
        assert row.n_active == int((c > 0).sum())
        assert row.mean_rate == pytest.approx(float(np.maximum(c, 0).mean() / 0.5), rel=1e-6)


def test_expanding_network_is_divergent_everywhere(tmp_path):
    """W_rec = 1.5 I: every unit with positive drive grows as 1.5^t, so every orbit diverges."""
    st, run = stored_network(tmp_path, 1.5 * np.eye(8))
    cfg = cz.CensusConfig(grid=3, n_trial_states=1, orbit=FAST)
    g = cz.compute_census(run, cfg)["grid"]
    A = cz.network_arrays(run)
    drives = cz.stimulus_inputs(0, [50.0], [0.0]) @ A["W_in"].T + A["b"]
    assert (drives > 0).any()
    assert (g.kinds == "divergent").all()


def test_census_is_cached_and_recomputed_when_corrupt(tmp_path, monkeypatch):
    st, run = stored_network(tmp_path, 0.3 * np.eye(6))
    cfg = cz.CensusConfig(grid=3, n_trial_states=1, orbit=FAST)
    first = cz.census(run, cfg, st)
    calls = []
    real = cz.compute_census
    monkeypatch.setattr(cz, "compute_census", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = cz.census(run, cfg, st)
    assert calls == []
    pd.testing.assert_frame_equal(first["grid"], again["grid"])
    d = st.analysis_dir(run, "census", {"census": cfg.to_dict(), "version": cz.CENSUS_VERSION})
    (d / "grid.csv").write_text("garbage")
    fixed = cz.census(run, cfg, st)
    assert calls == [1]
    pd.testing.assert_frame_equal(first["grid"], fixed["grid"])
    # another config is another cache entry; book mode (compute=False) refuses to compute
    with pytest.raises(FileNotFoundError):
        cz.census(run, cz.CensusConfig(grid=5, orbit=FAST), st, compute=False)


def test_stimulus_inputs_channels():
    x = cz.stimulus_inputs(1, [20.0], [-50.0])
    np.testing.assert_allclose(x[0], [1, 0.6, 0.4, 0.25, 0.75, 0, 1])
    np.testing.assert_allclose(cz.stimulus_inputs(0, [0], [0], "delay")[0], [1, 0, 0, 0, 0, 1, 0])
    np.testing.assert_allclose(
        cz.stimulus_inputs(0, [0], [0], "decision")[0], [0, 0, 0, 0, 0, 1, 0]
    )
    with pytest.raises(ValueError):
        cz.stimulus_inputs(0, [0], [0], "nap")


def test_grid_category_precedence():
    assert cz.grid_category("fixed_point+quasi_periodic", 1) == "quasi-periodic"
    assert cz.grid_category("chaotic+quasi_periodic", 0) == "chaotic"
    assert cz.grid_category("divergent+fixed_point", 1) == "fixed point + divergent"
    assert cz.grid_category("fixed_point", 2) == "2+ fixed points"
    assert cz.grid_category("fixed_point", 1) == "1 fixed point"


@pytest.mark.parametrize(
    "kwargs", [{"grid": 0}, {"coh_max": 0}, {"coh_max": 150}, {"n_trial_states": -1}]
)
def test_bad_census_config(kwargs):
    with pytest.raises(ValueError):
        cz.CensusConfig(**kwargs)


def test_compare_groups_known_answers():
    r = compare_groups([1, 2, 3], [4, 5, 6], ("x", "y"))
    assert r["rank_biserial"] == -1.0 and r["U"] == 0.0
    assert r["p"] == pytest.approx(
        0.1, abs=1e-9
    )  # exact two-sided p for complete separation, n=3+3
    assert r["mean_x"] == 2 and r["median_y"] == 5
    r = compare_groups([1, 1], [1, 1])
    assert r["rank_biserial"] == 0.0 and np.isnan(r["p"])
    lo, hi = bootstrap_ci(np.random.default_rng(0).normal(10, 1, 400))
    assert lo < 10 < hi and hi - lo == pytest.approx(2 * 1.96 / 20, rel=0.2)


@pytest.mark.parametrize("semantics", ["neurogym1", "neurogym2"])
def test_census_input_is_the_tasks_noise_free_stimulus_input(semantics):
    """stimulus_inputs (the census's map) equals task.observe's stimulus-period input without
    noise, in both semantics, at every stimulus step."""
    cfg = TaskConfig(semantics=semantics)
    g = torch.Generator().manual_seed(0)
    for context in (0, 1):
        tr = sample_trials(
            cfg,
            2,
            g,
            noise=False,
            context=torch.tensor([context, context]),
            coh1=torch.tensor([50.0, -12.5]),
            coh2=torch.tensor([-25.0, 0.0]),
        )
        want = cz.stimulus_inputs(context, [50.0, -12.5], [-25.0, 0.0], semantics=semantics)
        for t in range(cfg.n_fixation, cfg.n_fixation + cfg.n_stimulus):
            np.testing.assert_array_equal(tr.inputs[t].double().numpy(), want)


def test_census_of_a_neurogym2_network_analyses_the_map_it_saw(tmp_path):
    """W_rec = 0.5 I: the fixed point is 2 ReLU(W_in x + b) for the input x of the network's
    own semantics. In NeuroGym 2 the delay input has no fixation, so it differs from 1.0's."""
    n = 10
    task = TaskConfig(semantics="neurogym2")
    st, run = stored_network(tmp_path, 0.5 * np.eye(n), seed=3, task=task)
    A = cz.network_arrays(run)
    cfg = cz.CensusConfig(grid=3, n_trial_states=1, orbit=FAST)
    res = cz.compute_census(run, cfg)
    dec = res["decision"]
    for ctx in (0, 1):
        x2 = cz.stimulus_inputs(ctx, [0.0], [0.0], "delay", semantics="neurogym2")[0]
        x1 = cz.stimulus_inputs(ctx, [0.0], [0.0], "delay")[0]
        assert x2[CHANNELS["fixation"]] == 0.0 and x1[CHANNELS["fixation"]] == 1.0
        row = dec[(dec.context == ctx + 1) & (dec.input == "delay")].iloc[0]
        h2 = 2 * np.maximum(x2 @ A["W_in"].T + A["b"], 0.0)
        h1 = 2 * np.maximum(x1 @ A["W_in"].T + A["b"], 0.0)
        assert not np.isclose(h1.mean(), h2.mean())
        assert row.kind == "fixed_point"
        assert row.mean_rate == pytest.approx(h2.mean(), rel=1e-9)
        # trace_orbit follows the same map: it settles on the same fixed point
        X = cz.trace_orbit(run, ctx, 0.0, 0.0, np.zeros(n), 200, 3, period="delay")
        np.testing.assert_allclose(X[-1], h2, atol=1e-12)
    # the stimulus-period grid too: one fixed point per grid point at 2 ReLU(c) of NeuroGym 2
    att = res["attractors"]
    for _, r in att.iterrows():
        x = cz.stimulus_inputs(int(r.context) - 1, [r.c1], [r.c2], semantics="neurogym2")[0]
        assert r.mean_rate == pytest.approx(2 * np.maximum(x @ A["W_in"].T + A["b"], 0).mean())


def test_orbit_views_of_a_rigid_rotation_known_answer():
    """h -> ReLU(R(h - h*) + h*) with R a rotation by 2πρ keeps a circle around h* = (3, 3)
    inside the positive orthant: an invariant circle with rotation number ρ, exponents 0, 0,
    and a spectrum peaked at ρ."""
    from lib.analysis.census import orbit_views

    rho = (np.sqrt(5) - 1) / 8  # irrational, ≈ 0.1545
    a = 2 * np.pi * rho
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    hstar = np.array([3.0, 3.0])
    W, c = R, hstar - R @ hstar
    v = orbit_views(
        W, c, hstar + np.array([1.0, 0.0]), n_transient=10, n_record=2048, lyap_steps=(200, 800)
    )
    assert v.pcs.shape == (2048, 2)
    assert abs(v.rotation - rho) < 1e-6 and v.rotation_digits > 5
    assert np.allclose(v.angle_increments, rho, atol=1e-3)  # around the sample centroid
    assert np.abs(v.lyapunov[["lambda1", "lambda2"]].to_numpy()).max() < 1e-9
    peak = v.frequencies[np.argmax(v.power[1:]) + 1]
    assert abs(peak - rho) < 2 / 2048


def test_a_leaky_network_is_followed_under_its_own_map():
    """h -> ReLU(-1.5 h + c) has the 2-cycle {0, c} (its fixed point c / 2.5 is unstable,
    slope -1.5); with the leak alpha = 0.5, h -> 0.5 h + 0.5 ReLU(-1.5 h + c), the same fixed
    point is stable (slope 0.5 - 0.75 = -0.25, the leaky Jacobian's eigenvalue)."""
    n, c = 3, 1.0
    W = -1.5 * np.eye(n)
    C = np.full((1, n), c)
    H0 = np.array([[0.3, 0.1, 0.7]])
    cfg = cz.CensusConfig(grid=1, orbit=FAST)
    (vanilla,) = cz._classify_inputs(W, C, H0, cfg)
    assert [r.kind for r in vanilla] == ["periodic"] and vanilla[0].period == 2
    (leaky,) = cz._classify_inputs(W, C, H0, cfg, alpha=0.5)
    assert [r.kind for r in leaky] == ["fixed_point"]
    np.testing.assert_allclose(leaky[0].points[0], c / 2.5, rtol=1e-12)
    np.testing.assert_allclose(leaky[0].lyapunov[0], np.log(0.25), rtol=1e-9)


def test_a_leaky_networks_census_has_a_key_of_its_own(tmp_path):
    """Every non-leaky census keeps CENSUS_VERSION; a leaky one is keyed CENSUS_VERSION-leak."""
    from lib.store.runs import _KeyFound, _KeyRecorder

    keys = {}
    for alpha in (1.0, 0.5):
        spec = RunSpec("sl", 0, network=NetworkConfig(hidden=8, alpha=alpha), trainer=SLConfig())
        net = RNN(spec.network, generator=torch.Generator().manual_seed(0))
        st = Store(tmp_path)
        st.save(spec, TrainResult(net, False, 0.9, None, None, 0, 0, 0.0, 0.5, []))
        try:
            cz.census(st.load(spec), store=_KeyRecorder(tmp_path))
        except _KeyFound as k:
            keys[alpha] = k.params["version"]
    assert keys == {1.0: cz.CENSUS_VERSION, 0.5: cz.CENSUS_VERSION + "-leak"}
