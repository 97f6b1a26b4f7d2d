"""Linear-stability census on hand-built 2-D ReLU networks with known fixed points; agreement
and Cohen's kappa on hand-made grids; caching through the store."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pandas as pd
import pytest
import torch

import lib.analysis.stability as sb
from lib.analysis.census import CensusConfig
from lib.analysis.dynamics import relu_fixed_points
from lib.core.network import RNN, NetworkConfig
from lib.store.runs import Store
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig
from lib.train.training import TrainResult

#: Small, fast settings: a 3 × 3 grid, few starts.
FAST = sb.StabilityConfig(grid=3, n_starts=4, n_iter=100, adam_iters=100)
H_STAR = np.array([1.0, 1.0])


def rotation_scale(r: float, theta: float) -> np.ndarray:
    """``r`` times the rotation by ``theta``: eigenvalues r·exp(±iθ) (a focus)."""
    c, s = np.cos(theta), np.sin(theta)
    return r * np.array([[c, -s], [s, c]])


def arrays(W: np.ndarray, h_star: np.ndarray = H_STAR) -> dict[str, np.ndarray]:
    """A network whose input is ignored (W_in = 0) and whose bias puts a fixed point of the
    fully active region at ``h_star`` (in the positive orthant): b = (I − W) h*."""
    n = len(W)
    return {"W_rec": W, "W_in": np.zeros((n, 7)), "b": (np.eye(n) - W) @ h_star}


def brute_force(W: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    """Every fixed point of ReLU(W h + c), by solving every activation pattern."""
    n = len(W)
    out = []
    for bits in itertools.product((0, 1), repeat=n):
        D = np.diag(bits).astype(float)
        h = np.linalg.solve(np.eye(n) - D @ W, D @ c)
        if np.allclose(np.maximum(W @ h + c, 0.0), h, atol=1e-12):
            out.append(h)
    return out


def tables(W: np.ndarray) -> dict[str, pd.DataFrame]:
    n = len(W)
    return sb.stability_tables(arrays(W), {0: np.zeros((1, n)), 1: np.zeros((1, n))}, FAST)


def test_contracting_focus_is_a_stable_fixed_point_not_ns():
    W = rotation_scale(0.8, 0.7)
    t = tables(W)
    g, f = t["grid"], t["fixed_points"]
    assert len(g) == 2 * 3 * 3
    assert (g.n_fixed == 1).all() and g.has_stable_fp.all()
    assert not g.ns_candidate.any() and not g.ns_strict.any() and not g.has_unstable_focus.any()
    assert f.spectral_radius.to_numpy() == pytest.approx(0.8, abs=1e-12)
    assert f.leading_arg.to_numpy() == pytest.approx(0.7, abs=1e-12)
    assert f.leading_complex.all() and not f.leading_unstable_complex.any()
    assert (f.n_unstable == 0).all() and (f.n_active == 2).all()


def test_expanding_focus_with_bounded_orbits_is_an_ns_candidate():
    """r = 1.1, θ = 1: the focus at h* = (1, 1) is unstable, no other pattern has a fixed
    point (brute force), and the single-unit regions contract (W_ii < 1): orbits stay
    bounded, as on an invariant cycle born in a Neimark–Sacker bifurcation."""
    W = rotation_scale(1.1, 1.0)
    c = arrays(W)["b"]
    assert len(brute_force(W, c)) == 1 and np.all(np.diag(W) < 1)
    h = np.array([1.05, 1.0])
    for _ in range(5000):
        h = np.maximum(W @ h + c, 0.0)
        assert np.abs(h).max() < 100
    assert np.linalg.norm(h - H_STAR) > 0.1  # it left the focus
    t = tables(W)
    g, f = t["grid"], t["fixed_points"]
    assert g.ns_candidate.all() and g.ns_strict.all() and not g.has_stable_fp.any()
    assert (g.n_fixed == 1).all() and (g.n_unstable_focus == 1).all()
    assert f.spectral_radius.to_numpy() == pytest.approx(1.1, abs=1e-12)
    assert f.leading_arg.to_numpy() == pytest.approx(1.0, abs=1e-12)
    assert f.unstable_focus.all() and f.leading_unstable_complex.all() and f.pure_focus.all()
    assert (f.n_unstable == 2).all() and (f.n_unstable_complex == 2).all()


def test_saddle_with_real_unstable_eigenvalue_is_not_ns():
    """Eigenvalues 0.5 and 2.5 (real), the only fixed point: neither stable nor NS."""
    W = np.array([[1.5, -1.0], [-1.0, 1.5]])
    c = arrays(W)["b"]
    assert len(brute_force(W, c)) == 1
    t = tables(W)
    g, f = t["grid"], t["fixed_points"]
    assert (g.n_fixed == 1).all()
    assert not g.has_stable_fp.any() and not g.ns_candidate.any() and not g.ns_strict.any()
    assert f.spectral_radius.to_numpy() == pytest.approx(2.5, abs=1e-12)
    assert not f.leading_complex.any() and (f.n_unstable == 1).all()
    assert (f.n_unstable_complex == 0).all() and not f.unstable_focus.any()


def test_stable_fixed_point_beside_an_unstable_focus_is_not_ns():
    """The grid-point rule on the rows of real fixed points: an unstable focus alone is an
    NS candidate; add a stable fixed point and it is not; no fixed point at all is not."""
    W = rotation_scale(1.1, 1.0)
    rows = sb.fixed_point_rows(relu_fixed_points(W, arrays(W)["b"], n_starts=8), 1e-9)
    assert sb._grid_row({}, rows)["ns_candidate"]
    stable = dict(rows[0], stable=True, unstable_focus=False, pure_focus=False)
    g = sb._grid_row({}, [*rows, stable])
    assert g["has_stable_fp"] and g["has_unstable_focus"] and not g["ns_candidate"]
    assert not g["ns_strict"] and g["n_fixed"] == 2 and g["n_stable"] == 1
    assert not sb._grid_row({}, [])["ns_candidate"]


def test_exact_fixed_point_solves_the_map():
    for W in (rotation_scale(0.8, 0.7), rotation_scale(1.1, 1.0), np.array([[1.5, -1], [-1, 1.5]])):
        c = arrays(W)["b"]
        fps = relu_fixed_points(W, c, np.zeros((1, 2)), n_starts=8, n_iter=100, adam_iters=100)
        assert len(fps) == 1
        h = fps.points[0]
        assert np.abs(np.maximum(W @ h + c, 0.0) - h).max() < 1e-12
        assert h == pytest.approx(H_STAR, abs=1e-12)
    assert (tables(rotation_scale(1.1, 1.0))["fixed_points"].residual < 1e-12).all()


def grid(values: list[bool], col: str) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame(
        {"context": [1] * n, "c1": np.arange(n) * 10.0 - 50, "c2": 0.0, col: values}
    )


def test_agreement_and_kappa_known_answer():
    ns = [True, True, False, False, False, False, False, False, True, False]
    qp = [True, False, False, False, False, False, False, False, True, True]
    a = sb.agreement(grid(ns, "ns_candidate"), grid(qp, "has_qp").iloc[::-1])  # order-free
    assert (a["both"], a["ns_only"], a["qp_only"], a["neither"], a["n"]) == (2, 1, 1, 6, 10)
    assert a["accuracy"] == pytest.approx(0.8)
    # p_e = 0.3·0.3 + 0.7·0.7 = 0.58; κ = (0.8 − 0.58) / 0.42
    assert a["kappa"] == pytest.approx(0.22 / 0.42)
    perfect = sb.agreement(grid(ns, "ns_candidate"), grid(ns, "has_qp"))
    assert perfect["accuracy"] == 1.0 and perfect["kappa"] == pytest.approx(1.0)
    opposite = sb.agreement(
        grid([True, False] * 2, "ns_candidate"), grid([False, True] * 2, "has_qp")
    )
    assert opposite["accuracy"] == 0.0 and opposite["kappa"] == pytest.approx(-1.0)
    const = sb.agreement(grid([False] * 4, "ns_candidate"), grid([False] * 4, "has_qp"))
    assert const["accuracy"] == 1.0 and np.isnan(const["kappa"])
    with pytest.raises(ValueError, match="grids differ"):
        sb.agreement(grid(ns, "ns_candidate"), grid(qp[:5], "has_qp"))


def test_config_validation_and_provenance():
    with pytest.raises(ValueError):
        sb.StabilityConfig(n_starts=-1)
    with pytest.raises(ValueError):
        sb.StabilityConfig(grid=0)
    for f in sb.StabilityConfig.__dataclass_fields__.values():
        assert set(f.metadata) == {"source", "why"} and f.metadata["why"]
    assert np.array_equal(sb.StabilityConfig().coherences, CensusConfig().coherences)


def test_cached_wrapper_stores_like_the_census(tmp_path):
    n = 8
    spec = RunSpec("sl", 0, network=NetworkConfig(hidden=n), trainer=SLConfig(max_trials=64))
    net = RNN(spec.network, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        net.W_rec.copy_(torch.as_tensor(0.5 * np.eye(n), dtype=torch.float32))
    st = Store(tmp_path)
    st.save(spec, TrainResult(net, False, 0.9, None, None, 0, 0, 0.0, 0.5, []))
    run = st.load(spec)
    with pytest.raises(FileNotFoundError):
        sb.stability_census(run, FAST, st, compute=False)
    res = sb.stability_census(run, FAST, st)
    g = res["grid"]
    assert len(g) == 18 and g.has_stable_fp.all() and (g.n_fixed == 1).all()
    assert not g.ns_candidate.any()
    (d,) = (tmp_path / "analyses" / run.path.name).glob("stability-*")
    meta = json.loads((d / "meta.json").read_text())
    assert meta["weights_sha256"] == run.weights_sha256 and meta["name"] == "stability"
    assert meta["params"] == {"stability": FAST.to_dict(), "version": sb.STABILITY_VERSION}
    assert {"checksums.json", "grid.csv", "fixed_points.csv"} <= {p.name for p in d.iterdir()}
    again = sb.stability_census(run, FAST, st, compute=False)
    pd.testing.assert_frame_equal(again["grid"], g)


def test_leading_eigenvalue_of_a_leaky_fixed_point_counts_the_inactive_units():
    """W = diag(-0.5, 0.5), c = (1, -1), alpha = 0.2: fixed point (2/3, 0); the active unit's
    leaky eigenvalue is 0.7, the inactive one's 1 - alpha = 0.8, which leads (real)."""
    fps = relu_fixed_points(np.diag([-0.5, 0.5]), np.array([1.0, -1.0]), alpha=0.2)
    (row,) = sb.fixed_point_rows(fps, 1e-9)
    assert row["spectral_radius"] == pytest.approx(0.8)
    assert row["leading_arg"] == 0.0 and not row["leading_complex"] and row["stable"]


def test_leaky_networks_have_analysis_keys_of_their_own():
    """Non-leaky analyses keep their version (the stored keys); leaky ones get '-leak'."""
    from lib.analysis.balance import BALANCE_VERSION
    from lib.analysis.dynamics import leak_version
    from lib.analysis.sculpting import LEAKY_SCULPT_VERSION, SCULPT_VERSION

    for v in (sb.STABILITY_VERSION, BALANCE_VERSION, SCULPT_VERSION):
        assert leak_version(v, 1.0) == v
        assert leak_version(v, 0.5) == f"{v}-leak"
    assert LEAKY_SCULPT_VERSION == "1-leak"


def _moving_focus() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three units: an unstable focus (r = 1.1, θ = 1) in units 0 and 1 at (1, 1) on every
    point of a 3 × 3 grid, and a unit 2 with self-weight 0.5 whose drive falls from +1 to −1
    along the grid, so that the one fixed point, (1, 1, 2·max(c_2, 0)), leaves unit 2's
    active region half-way: the known answer at every grid point."""
    W = np.zeros((3, 3))
    W[:2, :2] = rotation_scale(1.1, 1.0)
    W[2, 2] = 0.5
    c01 = (np.eye(2) - W[:2, :2]) @ H_STAR
    c2 = 1 - np.arange(9) / 4
    C = np.c_[np.tile(c01, (9, 1)), c2]
    return W, C, np.c_[np.ones((9, 2)), 2 * np.maximum(c2, 0)]


def test_continuation_follows_a_fixed_point_across_regions_to_every_grid_point():
    """Only grid point 0 searches (Adam from near the focus; no forward iteration, no random
    starts): the continuation carries its fixed point to the 8 others, and the Newton step
    follows it out of unit 2's region (g >= 5); without it those points find nothing, and
    without continuation only point 0 does. The brute force agrees at every point."""
    W, C, known = _moving_focus()
    cfg = sb.StabilityConfig(grid=3, n_starts=0, n_iter=0, adam_iters=300, adam_stride=3)
    start = np.array([[1.05, 1.0, 2.0]])
    fps = sb.grid_fixed_points(W, C, start, cfg, (3, 3))
    for g, f in enumerate(fps):
        assert len(np.unique(np.round(brute_force(W, C[g]), 12), axis=0)) == 1
        assert len(f) == 1, g
        np.testing.assert_allclose(f.points[0], known[g], atol=1e-12)
        assert f.spectral_radius[0] == pytest.approx(1.1, abs=1e-12) and not f.stable[0]
    exact = sb.grid_fixed_points(W, C, start, dataclasses.replace(cfg, newton_steps=0), (3, 3))
    assert [len(f) for f in exact] == [1] * 5 + [0] * 4
    alone = sb.grid_fixed_points(W, C, start, dataclasses.replace(cfg, continuation=False), (3, 3))
    assert [len(f) for f in alone] == [1] + [0] * 8


def test_grid_search_rejects_a_wrong_grid_shape():
    W, C, _ = _moving_focus()
    with pytest.raises(ValueError, match="3 x 2 grid"):
        sb.grid_fixed_points(W, C, np.zeros((1, 3)), FAST, (3, 2))
    with pytest.raises(ValueError, match="adam_stride"):
        sb.StabilityConfig(adam_stride=0)
