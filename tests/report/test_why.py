"""Chapter 9's report functions on known inputs: the effective rank, the verdict rule, the gap
and its sign, the seed split and the rank transform, the model on a synthetic table, and the
predictors of stored runs against direct computations (skipped where the store lacks them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.report import why


def test_effective_rank_of_a_rank_k_matrix_is_k():
    rng = np.random.default_rng(0)
    for k in (1, 3, 7):
        U, _ = np.linalg.qr(rng.normal(size=(40, k)))
        V, _ = np.linalg.qr(rng.normal(size=(30, k)))
        assert why.effective_rank(2.5 * U @ V.T) == pytest.approx(k)
    # unequal singular values: between 1 and k
    M = np.diag([1.0, 0.1, 0.0])
    assert 1 < why.effective_rank(M) < 2
    assert np.isnan(why.effective_rank(np.zeros((3, 3))))


def _nets(cells: dict[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    rows = []
    for (cell, alg), q in cells.items():
        for s, v in enumerate(q):
            rows.append(
                {"cell": cell, "algorithm": alg, "seed": s, "qp_fraction": v, "converged": True}
            )
    d = pd.DataFrame(rows)
    d["cell"] = pd.Categorical(d.cell, why.CELLS, ordered=True)
    return d


BASE_PPO = np.array([0.10, 0.12, 0.08, 0.11, 0.09, 0.10, 0.13, 0.07, 0.10, 0.10])
BASE_SL = BASE_PPO + 0.30  # SL above RL by 0.3: G = -0.3


def _verdict(cell: str, alg: str, q: np.ndarray) -> str:
    nets = _nets({("baseline", "ppo"): BASE_PPO, ("baseline", "sl"): BASE_SL, (cell, alg): q})
    tab = why.ablation_table(nets)
    v = why.hypothesis_verdicts(tab, why.gap_table(nets))
    return v.set_index("cell").verdict[cell]


def test_verdict_rule_towards_the_other_algorithm():
    shift = np.linspace(-0.01, 0.01, 10)
    # SL falls all the way to RL's baseline: supported
    assert _verdict("sl_distilled", "sl", BASE_PPO + shift) == "supported"
    # SL rises (away from RL), significantly: not supported
    assert _verdict("sl_distilled", "sl", BASE_SL + 0.2 + shift) == "not supported"
    # no change, tight CI far from |G|: not supported
    assert _verdict("sl_distilled", "sl", BASE_SL + shift) == "not supported"
    # no significant change but a CI wide enough to hold a move of |G|: inconclusive
    noisy = BASE_SL + np.array([-0.6, 0.5, -0.5, 0.6, -0.55, 0.45, -0.4, 0.5, -0.35, 0.3])
    assert _verdict("sl_distilled", "sl", noisy) == "inconclusive"
    # a PPO ablation is expected to move PPO up, towards SL
    assert _verdict("ppo_aux_ce", "ppo", BASE_SL + shift) == "supported"


def test_verdict_rule_either_direction_and_the_leak():
    shift = np.linspace(-0.01, 0.01, 10)
    assert _verdict("ppo_no_entropy", "ppo", BASE_PPO - 0.05 + shift) == "supported"
    assert _verdict("ppo_no_entropy", "ppo", BASE_PPO + shift) == "not supported"
    # the leak closes the gap at its smallest alpha: supported; reverses it: not supported
    closes = _nets(
        {
            ("baseline", "ppo"): BASE_PPO,
            ("baseline", "sl"): BASE_SL,
            ("leaky", "ppo"): BASE_PPO + 0.1,
            ("leaky", "sl"): BASE_SL - 0.1,
            ("leaky_0.2", "ppo"): BASE_PPO + 0.2,
            ("leaky_0.2", "sl"): BASE_PPO + 0.2 + shift,
        }
    )
    v = why.hypothesis_verdicts(why.ablation_table(closes), why.gap_table(closes))
    assert v.set_index("cell").verdict["leaky_0.2"] == "supported"
    rev = closes.copy()
    rev.loc[(rev.cell == "leaky_0.2") & (rev.algorithm == "sl"), "qp_fraction"] = 0.0
    gaps = why.gap_table(rev)
    v = why.hypothesis_verdicts(why.ablation_table(rev), gaps)
    row = v.set_index("cell").loc["leaky_0.2"]
    assert row.verdict == "not supported" and "reverses" in row.sentence
    assert why.sign_summary(gaps)["reversed"] == ["leaky_0.2"]


def test_single_algorithm_cell_gap_uses_the_other_baseline():
    nets = _nets(
        {
            ("baseline", "ppo"): BASE_PPO,
            ("baseline", "sl"): BASE_SL,
            ("sl_distilled", "sl"): BASE_PPO,
        }
    )
    g = why.gap_table(nets).set_index("cell")
    assert g.loc["sl_distilled", "rl_from"] == "baseline"
    assert g.loc["sl_distilled", "gap"] == pytest.approx(0.0)
    assert g.loc["baseline", "gap"] == pytest.approx(-0.3)
    assert g.loc["baseline", "sign"] == "RL < SL"


def test_comparison_is_paired_by_seed_when_seeds_match():
    a = pd.DataFrame({"seed": range(10), "qp_fraction": BASE_PPO + 0.1})
    b = pd.DataFrame({"seed": range(10), "qp_fraction": BASE_PPO})
    r = why.compare_to_baseline(a, b)
    assert "paired" in r["test"] and r["n_test"] == 10
    assert r["diff"] == pytest.approx(0.1) and r["p"] < 0.01
    r = why.compare_to_baseline(a.assign(seed=a.seed + 100), b)
    assert "unpaired" in r["test"]


def test_seed_split_never_puts_a_seed_on_both_sides():
    tab = pd.DataFrame({"seed": np.tile(np.arange(10), 5)})
    m = why.seed_split(tab)
    assert not set(tab.seed[m]) & set(tab.seed[~m])
    assert set(tab.seed[m]) == set(why.TRAIN_SEEDS)


def test_rank_features_uses_the_training_values_only():
    tr = np.array([[1.0], [2.0], [3.0], [4.0]])
    te = np.array([[0.0], [2.0], [10.0]])
    a, b = why.rank_features(tr, te)
    assert np.allclose(a[:, 0], [0.125, 0.375, 0.625, 0.875])
    assert np.allclose(b[:, 0], [0.0, 0.375, 1.0])


def test_model_finds_a_feature_that_determines_qp_and_an_algorithm_that_does_not():
    rng = np.random.default_rng(1)
    n = 200
    tab = pd.DataFrame(
        {
            "seed": np.tile(np.arange(10), n // 10),
            "algorithm": np.repeat(["ppo", "sl"], n // 2),
            "regime": "continuous",
            "alpha": 1.0,
            **{c: rng.normal(size=n) for c in why.PREDICTORS},
        }
    )
    # QP is a function of one predictor, which differs between the algorithms
    tab.loc[tab.algorithm == "sl", "dw_eff_rank"] += 2
    tab["qp_fraction"] = 0.1 * tab.dw_eff_rank + 0.01 * rng.normal(size=n)
    m = why.qp_model(tab).set_index("model")
    assert m.loc["predictors", "r2_test"] > 0.9
    assert m.loc["algorithm alone", "r2_test"] > 0.3  # the algorithm acts through the feature
    assert abs(m.loc["predictors + algorithm", "alg_gain"]) < 0.01
    assert m.loc["predictors", "n_train"] + m.loc["predictors", "n_test"] == n


def test_empty_store_gives_empty_tables_and_a_sentence(tmp_path):
    nets = why.ablation_networks(tmp_path)
    assert nets.empty
    tab, gaps = why.ablation_table(nets), why.gap_table(nets)
    assert tab.empty and gaps.empty and why.hypothesis_verdicts(tab, gaps).empty
    assert "No network" in why.in_short(gaps, why.hypothesis_verdicts(tab, gaps))
    pred, counts = why.predictors_table(tmp_path)
    assert pred.empty and counts["networks"] == 0
    assert why.qp_model(pred).empty


def test_predictors_of_a_stored_run_match_direct_computation(stored_default):
    from lib.store.runs import Store

    run = stored_default("ppo", 0)
    W = np.load(run.path / "weights.npz")["W_rec"].astype(float)
    W0 = why.initial_w_rec(run)
    # the reconstructed initial weights are those the stored summary measured
    summ = pd.read_csv(run.path.parents[1] / "sweeps" / "initialization-paper.csv")
    row = summ[summ.run_id == run.path.name]
    if row.empty:
        pytest.skip("the run is not in the stored initialization summary")
    rho0 = float(np.abs(np.linalg.eigvals(W0)).max())
    assert rho0 == pytest.approx(float(row.spectral_radius_before.iloc[0]), abs=1e-5)
    # and checkpoint frac_0 (the network before training), where it is stored
    cps = run.checkpoints()
    if "frac_0" in cps:
        assert np.allclose(cps["frac_0"][2].W_rec.detach().double().numpy(), W0)
    p = why.network_predictors(run, Store(run.path.parents[1]))
    assert p["dw_norm"] == pytest.approx(float(np.sqrt(((W - W0) ** 2).sum())))
    assert p["dw_eff_rank"] == pytest.approx(why.effective_rank(W - W0))
    assert p["qp_fraction_census"] == pytest.approx(float(row.qp_fraction.iloc[0]))
    assert 0 <= p["frac_active"] <= 1 and p["fixed_points_per_point"] >= 0


def test_a_side_whose_orbits_diverge_cannot_test_the_leak():
    import pandas as pd

    from lib.report import why

    row = pd.Series({"divergent_rl": 0.0, "divergent_sl": 1.0})
    assert why.divergent_side(row) == "SL"
    assert why.divergent_side(pd.Series({"divergent_rl": 0.2, "divergent_sl": 0.4})) is None
    assert why.divergent_side(pd.Series({"divergent_rl": float("nan")})) is None


def test_a_gap_closed_by_removing_qp_on_both_sides_is_named_so():
    """A leak that closes the gap because neither algorithm keeps QP is not 'the leak moves QP
    from one side to the other': the sentence gives both sides' QP with and without the leak."""
    import pandas as pd

    from lib.report import why

    def row(cell, rl, sl, lo, hi, sign):
        return {
            "cell": cell, "mean_rl": rl, "mean_sl": sl, "gap": rl - sl, "gap_ci_low": lo,
            "gap_ci_high": hi, "sign": sign, "divergent_rl": 0.0, "divergent_sl": 0.0,
            "n_rl": 10, "n_sl": 10,
        }  # fmt: skip

    gaps = pd.DataFrame(
        [
            row("baseline", 0.10, 0.37, -0.39, -0.16, "RL < SL"),
            row("leaky", 0.05, 0.03, -0.03, 0.09, "no difference"),
            row("leaky_0.2", 0.0, 0.0, 0.0, 0.0, "no difference"),
        ]
    )
    s = why.decider_sentence(gaps)
    assert "removing QP from both landscapes" in s
    assert "α = 0.5: RL 0.05, SL 0.03" in s and "without a leak RL 0.10, SL 0.37" in s
    # a leak that keeps QP on one side closes the gap the ordinary way
    gaps.loc[1, ["mean_rl", "mean_sl"]] = [0.40, 0.38]
    gaps.loc[2, ["mean_rl", "mean_sl"]] = [0.45, 0.44]
    assert "removing QP" not in why.decider_sentence(gaps)
