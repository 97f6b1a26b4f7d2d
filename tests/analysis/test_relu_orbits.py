"""Census version 3's orbit classifier (lib.analysis.relu_orbits) on maps with known orbits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lib.analysis.census as cz
from lib.analysis.dynamics import OrbitConfig
from lib.analysis.relu_orbits import classify_relu_grid

FAST = OrbitConfig(n_transient=300, n_record=400, max_period=16)


def test_contracting_map_stops_at_its_exact_fixed_point_with_exact_exponents():
    """h -> ReLU(0.5 h + c): h* = 2 ReLU(c), every active unit contracts at 0.5."""
    n = 6
    W = 0.5 * np.eye(n)
    C = np.array([[1.0, -1.0, 2.0, 0.5, -0.2, 3.0], [0.3, 0.3, -1.0, 1.0, 1.0, 1.0]])
    H0 = np.array([np.zeros(n), np.full(n, 5.0)])
    recs = classify_relu_grid(W, C, H0, FAST)
    assert [r.kind for r in recs] == ["fixed_point"] * 4
    for i, r in enumerate(recs):
        np.testing.assert_allclose(r.points[0], 2 * np.maximum(C[i // 2], 0), rtol=0, atol=1e-13)
        assert r.lyapunov[0] == pytest.approx(np.log(0.5), abs=1e-12)


def test_expanding_map_is_divergent():
    recs = classify_relu_grid(1.5 * np.eye(4), np.ones((1, 4)), np.zeros((2, 4)), FAST)
    assert {r.kind for r in recs} == {"divergent"}


def test_a_rotation_by_a_fifth_of_a_turn_is_an_exact_5_cycle():
    """h -> ReLU(R (h - h*) + h*) with R a rotation by 2π/5 and the circle inside the orthant:
    every orbit is a 5-cycle, found exactly (the cycle solved from its patterns)."""
    a = 2 * np.pi / 5
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    hs = np.array([3.0, 3.0])
    c = hs - R @ hs
    h0 = hs + np.array([1.0, 0.0])
    (r,) = classify_relu_grid(R, c[None], h0[None], FAST)
    assert r.kind == "periodic" and r.period == 5
    ring = [h0]
    for _ in range(4):
        ring.append(R @ (ring[-1] - hs) + hs)
    d = [np.linalg.norm(np.array(ring) - p, axis=1).min() for p in r.points]
    assert max(d) < 1e-12
    np.testing.assert_allclose(r.lyapunov[:2], 0.0, atol=1e-12)  # |eig(R^5)| = 1


def test_orbits_on_one_trajectory_share_a_record_and_others_do_not():
    """A rigid irrational rotation: two starts on the circle of radius 1 around h* lie on one
    trajectory (one record), a start on the circle of radius 0.5 does not."""
    rho = (np.sqrt(5) - 1) / 8
    a = 2 * np.pi * rho
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    hs = np.array([3.0, 3.0])
    c = hs - R @ hs
    H0 = hs + np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.0]])
    recs = classify_relu_grid(R, c[None], H0, FAST)
    assert recs[0] is recs[1] and recs[2] is not recs[0]
    assert recs[0].rotation_number == pytest.approx(rho, abs=1e-6)
    assert recs[0].kind == "unclassified"  # neutral (λ2 = 0): not an attracting circle


@pytest.mark.parametrize("version", ["2", "3"])
def test_leaky_map_versions_agree_on_a_cycle_and_a_fixed_point(version):
    """h -> ReLU(-1.5 h + c): the 2-cycle {0, c}; with the leak 0.5 the fixed point c / 2.5 is
    stable (leaky eigenvalue 0.5 - 0.75 = -0.25)."""
    n, c = 3, 1.0
    W, C, H0 = -1.5 * np.eye(n), np.full((1, n), c), np.array([[0.3, 0.1, 0.7]])
    cfg = cz.CensusConfig(grid=1, orbit=FAST)
    (vanilla,) = cz._classify_inputs(W, C, H0, cfg, version=version)
    assert [r.kind for r in vanilla] == ["periodic"] and vanilla[0].period == 2
    assert sorted(np.round(vanilla[0].points[:, 0], 12)) == [0.0, 1.0]
    (leaky,) = cz._classify_inputs(W, C, H0, cfg, alpha=0.5, version=version)
    assert [r.kind for r in leaky] == ["fixed_point"]
    np.testing.assert_allclose(leaky[0].points[0], c / 2.5, rtol=1e-12)
    np.testing.assert_allclose(leaky[0].lyapunov[0], np.log(0.25), rtol=1e-9)


def test_an_unstable_fixed_point_does_not_stop_an_orbit():
    """h -> ReLU(W h + c) with W a rotation scaled by 1.02 around h* = (3, 3) (an unstable
    focus: the orbit spirals out of its region however close it passes): never called a
    fixed point, though the exact fixed point of its region is consistent."""
    a = 0.3
    W = 1.02 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    hs = np.array([3.0, 3.0])
    c = hs - W @ hs
    (r,) = classify_relu_grid(W, c[None], (hs + 1e-3)[None], FAST)
    assert r.kind != "fixed_point"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="square"):
        classify_relu_grid(np.ones((2, 3)), np.ones((1, 2)), np.ones((1, 2)), FAST)
    with pytest.raises(ValueError, match="alpha"):
        classify_relu_grid(np.eye(2), np.ones((1, 2)), np.ones((1, 2)), FAST, alpha=0.0)
    with pytest.raises(ValueError, match="unknown census version"):
        cz.compute_census(None, cz.CensusConfig(), "9")


def test_each_census_version_has_keys_of_its_own(tmp_path):
    """Version 3 is keyed "3" ("3-leak" for a leaky network), beside version 2's keys, and an
    unknown version is refused before anything is computed."""
    import torch

    from lib.core.network import RNN, NetworkConfig
    from lib.store.runs import Store, _KeyFound, _KeyRecorder
    from lib.train.spec import RunSpec
    from lib.train.supervised import SLConfig
    from lib.train.training import TrainResult

    keys = {}
    for alpha in (1.0, 0.5):
        spec = RunSpec("sl", 0, network=NetworkConfig(hidden=8, alpha=alpha), trainer=SLConfig())
        net = RNN(spec.network, generator=torch.Generator().manual_seed(0))
        st = Store(tmp_path)
        st.save(spec, TrainResult(net, False, 0.9, None, None, 0, 0, 0.0, 0.5, []))
        for v in cz.VERSIONS:
            try:
                cz.census(st.load(spec), store=_KeyRecorder(tmp_path), version=v)
            except _KeyFound as k:
                keys[alpha, v] = k.params["version"]
        with pytest.raises(ValueError, match="unknown census version"):
            cz.census(st.load(spec), store=_KeyRecorder(tmp_path), version="9")
    assert keys == {(1.0, "2"): "2", (0.5, "2"): "2-leak", (1.0, "3"): "3", (0.5, "3"): "3-leak"}


def test_compare_censuses_and_split_verdicts_known_answers():
    """Two 2-point grids: one point changes from QP to unclassified; at that point version 2
    had one invariant circle (rotation number 0.1) as QP from one state, unclassified from
    another."""
    grid = pd.DataFrame(
        {
            "context": [1, 1],
            "c1": [0.0, 5.0],
            "c2": [0.0, 0.0],
            "n_attractors": [2, 1],
            "kinds": ["quasi_periodic+unclassified", "fixed_point"],
            "has_qp": [True, False],
            "n_fixed": [0, 1],
        }
    )
    new = grid.assign(kinds=["unclassified", "fixed_point"], has_qp=[False, False], n_attractors=1)
    r = cz.compare_censuses(grid, new.iloc[::-1])  # row order does not matter
    assert r["agree_category"] == 0.5 and r["agree_has_qp"] == 0.5 and r["n_fixed_equal"] == 1
    assert (r["qp_fraction_old"], r["qp_fraction_new"]) == (0.5, 0.0)
    assert r["frac_quasi-periodic_old"] == 0.5 and r["frac_unclassified_new"] == 0.5
    att = pd.DataFrame(
        {
            "context": [1, 1, 1],
            "c1": [0.0, 0.0, 5.0],
            "c2": [0.0, 0.0, 0.0],
            "kind": ["quasi_periodic", "unclassified", "fixed_point"],
            "rotation_number": [0.1, 0.1004, np.nan],
        }
    )
    assert cz.split_verdicts(att) == 0.5
    assert cz.split_verdicts(att.assign(rotation_number=[0.1, 0.2, np.nan])) == 0.0
    with pytest.raises(ValueError, match="different grids"):
        cz.compare_censuses(grid, new.iloc[:1])
