"""Variants of the open choices: the robustness rule on known inputs, and the NeuroGym-stream
table read in long form."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.report import variants as va


def test_robustness_rule():
    keys = [v.key for v in va.VARIANTS]
    none = dict.fromkeys(keys)
    assert va.robustness_verdict("HOLDS", none).startswith("not yet tested against any variant")
    all_hold = dict.fromkeys(keys, "HOLDS")
    assert va.robustness_verdict("HOLDS", all_hold).startswith("holds in every variant")
    assert f"{len(keys)} of {len(keys)}" in va.robustness_verdict("HOLDS", all_hold)
    some = {**none, "continuous": "HOLDS", "leaky": "DOES NOT HOLD"}
    out = va.robustness_verdict("HOLDS", some)
    assert out.startswith("depends on the choice: differs under leaky network") and "2 of" in out
    two = {**none, "leaky": "DOES NOT HOLD", "plain_ce": "DOES NOT HOLD"}
    assert va.robustness_verdict("HOLDS", two).startswith(
        "depends on the choice: differs under leaky network; SL with plain cross-entropy (2 of"
    )
    never = {**none, "continuous": "DOES NOT HOLD"}
    assert va.robustness_verdict("DOES NOT HOLD", never).startswith("does not hold in any")
    # a verdict on part of its networks counts with its verdict, named and counted "in part"
    partial = {**none, "leaky": "INCOMPLETE (8/20 networks): HOLDS (4 RL + 4 SL; ...)"}
    out = va.robustness_verdict("PARTLY (10 RL + 10 SL)", partial)
    assert (
        out
        == f"depends on the choice: differs under leaky network, in part (1 of {len(keys)} variants computed, 1 of them in part)"
    )
    same = {**none, "continuous": "INCOMPLETE (27/100 runs): DOES NOT HOLD (14 RL)"}
    assert va.robustness_verdict("DOES NOT HOLD", same).startswith(
        "does not hold in any variant computed (1 of"
    )


def test_claims_by_variant_marks_what_is_missing():
    main = pd.DataFrame([{"claim": "2. hybrid", "verdict": "PARTLY", "n": "10 RL + 10 SL"}])
    t = va.claims_by_variant(main, {"2": {"linear_stability": "DOES NOT HOLD"}})
    assert t.loc[0, "linear-stability census"] == "DOES NOT HOLD"
    assert t.loc[0, "continuous trial regime"] == "not computed yet"
    assert t.loc[0, "robustness"].startswith(
        "depends on the choice: differs under linear-stability census"
    )
    assert "leaky network" in t.loc[0, "variants not computed yet"]
    assert "leaky network" not in t.columns


def test_claims_by_variant_counts_only_the_variants_that_can_test_a_claim():
    main = pd.DataFrame(
        [
            {"claim": "1. similar performance", "verdict": "HOLDS", "n": "10 RL + 10 SL"},
            {"claim": "5a. wider δ", "verdict": "DOES NOT HOLD", "n": "50 RL"},
        ]
    )
    by = {"1": {"continuous": "HOLDS", "leaky": "HOLDS"}, "2": {"linear_stability": "PARTLY"}}
    t = va.claims_by_variant(main, by).set_index("claim")
    one, five = t.loc["1. similar performance"], t.loc["5a. wider δ"]
    # a census variant cannot test performance; a training variant at one δ cannot test 5a
    assert one["linear-stability census"] == "outside its scope"
    assert five["leaky network"] == "outside its scope"
    assert five["continuous trial regime"] == "not computed yet"
    # claim 1 can be tested by the 4 training variants, claim 5a by the continuous regime only
    assert one.robustness == "holds in every variant computed (2 of 4 variants computed)"
    assert five.robustness.endswith("(0 of 1 variant computed)")
    assert (
        one["variants not computed yet"]
        == "older NeuroGym input noise, SL with plain cross-entropy"
    )
    assert five["variants not computed yet"] == "continuous trial regime"
    assert {v.key for v in va.VARIANTS if "2" in v.claims} == {v.key for v in va.VARIANTS}


def test_neurogym_stream_long_form(tmp_path):
    assert va.neurogym_stream(tmp_path / "absent.csv").empty
    s = va.neurogym_stream()
    if len(s):  # the stored check: three regimes per network, accuracies in [0, 1]
        assert set(s.regime) == {"metrics", "reset", "continuous"}
        assert s.groupby("run_id").size().eq(3).all()
        assert s.accuracy.between(0, 1).all() and (s.ci_low <= s.accuracy).all()
        summ = va.stream_summary(s)
        assert set(summ.evaluated) == {"metrics", "reset", "continuous"}
        assert set(summ["trained in"]) == set(s.trained) <= {"reset", "continuous"}
        # one row per (training regime, algorithm, evaluation), each over its own networks
        assert not summ.duplicated(["trained in", "algorithm", "evaluated"]).any()


def test_stability_claims_use_the_chapter_2_rules():
    per = pd.DataFrame(
        [
            {"algorithm": a, "seed": s, "ns_fraction": f, "ns_fraction_low_coh": f}
            | {"ns_fraction_high_coh": f}
            for a, s, f in [("ppo", 0, 0.0), ("ppo", 1, 0.0), ("sl", 0, 0.3), ("sl", 1, 0.5)]
        ]
    )
    out = va.stability_claims(per)
    part = "INCOMPLETE (4/20 networks): DOES NOT HOLD (2 RL + 2 SL;"
    assert out["2"].startswith(part) and out["3"].startswith(part)
    assert va.stability_claims(per[per.algorithm == "sl"]) == {}
    assert va.stability_claims(per.drop(index=3)) == {}  # one SL network: no CI
    assert va.robustness_verdict("DOES NOT HOLD", {"linear_stability": out["3"]}).startswith(
        "does not hold in any"
    )


def _nets(variant: str, rl_qp: float, sl_qp: float, n: int = 4) -> pd.DataFrame:
    rows = []
    for alg, qp in (("ppo", rl_qp), ("sl", sl_qp)):
        for s in range(n):
            rows.append(
                {
                    "variant": variant,
                    "algorithm": alg,
                    "seed": s,
                    "converged": True,
                    "final_accuracy": 0.90 + 0.001 * s,
                    "qp_fraction": qp + 0.01 * s,
                    "qp_fraction_low_coh": qp + 0.02 * s,
                    "divergent_fraction": 0.0,
                }
            )
    return pd.DataFrame(rows)


def test_variant_claims_apply_the_chapter_rules_per_variant():
    """Known answers: RL with more QP than SL (every RL network has some) makes claim 2 HOLD;
    SL above RL makes it PARTLY and claim 3 DOES NOT HOLD; a one-algorithm variant is left
    out; every verdict carries its n."""
    nets = pd.concat(
        [
            _nets("main", 0.01, 0.3),
            _nets("continuous", 0.4, 0.05),
            _nets("leaky", 0.2, 0.0).query("algorithm == 'ppo'"),
        ]
    )
    out = va.variant_claims(nets)
    part = "INCOMPLETE (8/20 networks): "  # 4 of the 10 paper seeds per algorithm
    assert out["2"]["main"].startswith(part + "PARTLY (4 RL + 4 SL; QP fraction RL − SL = -0.290")
    assert out["3"]["main"].startswith(part + "DOES NOT HOLD (4 RL + 4 SL;")
    assert out["2"]["continuous"].startswith(part + "HOLDS (4 RL + 4 SL;")
    assert "95 % CI RL [" in out["2"]["continuous"]
    assert out["3"]["continuous"].startswith(part + "PARTLY")  # below RL but not below 0.02
    assert out["1"]["continuous"].startswith(part + "HOLDS (4 RL + 4 SL;")
    full = va.variant_claims(_nets("continuous", 0.4, 0.05, n=10))
    assert full["2"]["continuous"].startswith("HOLDS (10 RL + 10 SL;")
    assert "leaky" not in out["1"]
    assert "4a" not in out  # no balance columns: claim 4a is not tested


def test_variant_claim_4a_from_the_summary_balance():
    """Known answers for claim 4a per variant: RL's balance above SL's under both population
    definitions for every network (p = 0.029 with 4 + 4, Mann-Whitney) HOLDS; SL above RL
    under both DOES NOT HOLD; a variant without populations (NaN balance) is left out."""
    up = _nets("continuous", 0.4, 0.05).assign(
        balance_ds=lambda d: (d.algorithm == "ppo") * 0.5 + 0.4 + 0.01 * d.seed,
        balance_sel=lambda d: (d.algorithm == "ppo") * 0.3 + 0.5 + 0.01 * d.seed,
    )
    down = _nets("old_noise", 0.4, 0.05).assign(
        balance_ds=lambda d: (d.algorithm == "sl") * 0.5 + 0.4,
        balance_sel=lambda d: (d.algorithm == "sl") * 0.5 + 0.4 + 0.01 * d.seed,
    )
    none = _nets("leaky", 0.4, 0.05).assign(balance_ds=float("nan"), balance_sel=float("nan"))
    out = va.variant_claims(pd.concat([up, down, none]))
    part = "INCOMPLETE (8/20 networks): "
    assert out["4a"]["continuous"].startswith(part + "HOLDS (4 RL + 4 SL; balance RL − SL: decis")
    assert "decision states +0.500" in out["4a"]["continuous"]
    assert out["4a"]["old_noise"].startswith(part + "DOES NOT HOLD (4 RL + 4 SL;")
    assert "leaky" not in out["4a"]


def test_variant_summary_means_and_bootstrap_cis():
    s = va.variant_summary(_nets("continuous", 0.4, 0.05, n=5))
    rl = s[s.algorithm == "ppo"].iloc[0]
    assert rl["networks"] == 5 and rl["converged"] == 5
    assert rl["qp_fraction mean"] == pytest.approx(0.42)
    assert rl["qp_fraction ci_low"] <= 0.42 <= rl["qp_fraction ci_high"]
    assert rl["divergent_fraction ci_low"] == rl["divergent_fraction ci_high"] == 0.0


def test_empty_store_has_no_variant_networks(tmp_path):
    nets = va.variant_networks(tmp_path)
    assert nets.empty
    assert va.variant_claims(nets) == {}


def test_variant_balance_claims_read_only_what_is_stored(tmp_path):
    assert va.variant_balance_claims(tmp_path) == {}  # an empty store: no verdict, no compute
    for v, cell in va.variant_balance_claims().items():  # the stored analyses, if any
        assert v in va.TRAINED_VARIANTS[2:]
        verdict, _ = va.verdict_of(cell)
        assert verdict in {"HOLDS", "PARTLY", "DOES NOT HOLD"}
        assert "networks; ablation: ρ = " in cell and "noise: ρ = " in cell


def test_stored_sentences_count_networks_per_variant_and_regime():
    nets = pd.DataFrame(
        {
            "variant": ["main", "main", "leaky", "leaky", "leaky"],
            "algorithm": ["ppo", "sl", "ppo", "sl", "sl"],
            "qp_fraction": [0.0, 0.3, 0.1, float("nan"), 0.4],
        }
    )
    per = pd.DataFrame(
        {
            "trials": ["reset"] * 4 + ["continuous"],
            "algorithm": ["ppo", "ppo", "sl", "sl", "ppo"],
            "seed": [0, 1, 0, 1, 3],
        }
    )
    out = va.stored_sentences(nets, per.iloc[:0], per)
    # the main networks are not a variant; an analysis variant with nothing stored is absent
    assert set(out) == {"leaky", "long_horizon"}
    assert out["leaky"] == "1 RL + 2 SL networks at δ = 0.1 trained (1 + 1 with their census)"
    assert out["long_horizon"] == (
        "2 RL + 2 SL reset-regime networks (seeds 0–1); "
        "1 RL + 0 SL continuous-regime networks (seed 3) at δ = 0.1"
    )
    status = va.variants_status(out)
    assert (status.stored == "not computed yet").sum() == len(va.VARIANTS) - 2


def _cross():
    main = pd.DataFrame(
        [
            {
                "claim": "2. RL finds hybrid landscapes",
                "verdict": "PARTLY",
                "n": "10 RL + 10 SL",
                "effect": "QP fraction RL − SL = -0.303",
                "ci": "RL [0.005, 0.024], SL [0.198, 0.439]",
            }
        ]
    )
    by = {
        "2": {
            "continuous": "INCOMPLETE (12/20 networks): PARTLY (6 RL + 6 SL; QP RL − SL = "
            "-0.27; r = -0.90; 95 % CI RL [0.05, 0.16], SL [0.27, 0.48])",
            "leaky": "HOLDS (10 RL + 10 SL; QP RL − SL = +0.015; 95 % CI RL [0.1, 0.2])",
        }
    }
    return main, va.claims_by_variant(main, by)


def test_short_cell_keeps_verdict_and_networks():
    assert va.short_cell("PARTLY (10 RL + 10 SL; effect; 95 % CI x)") == "PARTLY (10 RL + 10 SL)"
    assert (
        va.short_cell("INCOMPLETE (12/20 networks): HOLDS (6 RL + 6 SL; e; 95 % CI c)")
        == "INCOMPLETE (12/20 networks): HOLDS (6 RL + 6 SL)"
    )
    assert va.short_cell("HOLDS (20 networks)") == "HOLDS (20 networks)"
    assert va.short_cell("not computed yet") == "not computed yet"


def test_verdict_grid_and_details_carry_the_same_verdicts():
    main, cross = _cross()
    grid = va.verdict_grid(cross)
    r = grid.iloc[0]
    assert r[va.MAIN_COLUMN] == "PARTLY"
    assert r["continuous trial regime"] == "PARTLY (in part: 12/20 networks)"
    assert r["leaky network"] == "HOLDS"
    assert va.verdict_word("outside its scope") == "outside its scope"
    assert "robustness" not in grid  # robustness_lines says it in words
    # not every variant is computed, so the column that lists them stays
    assert "older NeuroGym input noise" in r["variants not computed yet"]
    det = va.verdict_details(cross, main)
    assert list(det.variant) == [va.MAIN_COLUMN, "continuous trial regime", "leaky network"]
    # the main row gains its effect and interval; the variants' rows are their whole cells
    assert det.verdict[0] == (
        "PARTLY (10 RL + 10 SL; QP fraction RL − SL = -0.303; "
        "95 % CI RL [0.005, 0.024], SL [0.198, 0.439])"
    )
    assert det.verdict[2] == cross.iloc[0]["leaky network"]
    # without the main table the main cell is kept as it is
    assert va.verdict_details(cross).verdict[0] == "PARTLY (10 RL + 10 SL)"
    # every verdict cell once in the details, and once (its verdict) in the grid
    for _, d in det.iterrows():
        assert va.verdict_word(d.verdict) == grid.iloc[0][d.variant]


def test_verdict_grid_drops_an_empty_missing_column():
    _, cross = _cross()
    cross["variants not computed yet"] = "none"
    assert "variants not computed yet" not in va.verdict_grid(cross)


def test_robustness_lines_name_claim_verdict_and_robustness():
    _, cross = _cross()
    (line,) = va.robustness_lines(cross)
    assert line.startswith("Claim 2, *RL finds hybrid landscapes*: PARTLY in the main networks; ")
    assert line.endswith(cross.iloc[0]["robustness"] + ".")
    assert "differs under leaky network" in line


def _comparisons(rows):
    return pd.DataFrame(
        [
            {"variable": v, "measure": m, "n_RL": 10, "n_SL": 10, "rank_biserial": r, "p": p}
            for v, m, r, p in rows
        ]
    )


def test_regime_agreement_counts_kept_lost_and_new_differences():
    here = _comparisons(
        [
            ("context", "frac_sig", 0.9, 0.001),  # kept: same sign, significant there
            ("choice", "frac_sig", 0.8, 0.01),  # lost: not significant there
            ("period", "mean_mi", 1.0, 0.001),  # lost: significant there, opposite sign
            ("graph", "modularity", 0.1, 0.7),  # new: significant there only
        ]
    )
    there = _comparisons(
        [
            ("context", "frac_sig", 0.7, 0.01),
            ("choice", "frac_sig", 0.2, 0.5),
            ("period", "mean_mi", -0.9, 0.001),
            ("graph", "modularity", -1.0, 0.0002),
        ]
    )
    text = va.regime_agreement_sentence(here, there, "reset", "continuous")
    assert text.startswith(
        "In the continuous regime (10 RL + 10 SL networks): of the 3 RL − SL differences with "
        "p < 0.05 in the reset regime, 1 has the same sign and p < 0.05 there and 2 do not "
        "(choice: fraction of units significant: r = +0.20, p = 0.5; period: mean MI: "
        "r = -0.90, p = 0.001)."
    )
    assert text.endswith("Significant there only: modularity (r = -1.00, p = 0.0002).")
    assert "no stored information" in va.regime_agreement_sentence(
        here, there.iloc[0:0], "reset", "continuous"
    )


def test_regime_agreement_sets_apart_what_cannot_be_tested_there():
    here = _comparisons([("context", "frac_sig", 0.9, 0.001), ("choice", "mean_mi", 0.8, 0.01)])
    there = _comparisons(
        [("context", "frac_sig", 0.8, 0.002), ("choice", "mean_mi", float("nan"), float("nan"))]
    )
    text = va.regime_agreement_sentence(here, there, "reset", "continuous")
    assert ", 1 has the same sign and p < 0.05 there." in text
    assert "do not" not in text and "does not" not in text and "nan" not in text
    assert text.endswith("Not testable there (no p value): choice: mean MI.")


def test_partial_main_verdict_stays_partial_in_grid_and_lines():
    main = pd.DataFrame(
        [{"claim": "5a. wider δ", "verdict": "INCOMPLETE (73/100 runs): HOLDS", "n": "35 RL"}]
    )
    cross = va.claims_by_variant(main, {"5a": {"continuous": "HOLDS (44 RL; e; 95 % CI c)"}})
    (line,) = va.robustness_lines(cross)
    assert line.startswith("Claim 5a, *wider δ*: HOLDS (in part: 73/100 runs) in the main")
    assert va.verdict_grid(cross).loc[0, va.MAIN_COLUMN] == "HOLDS (in part: 73/100 runs)"
    assert va.short_cell("HOLDS (10 RL (2 failed); e; 95 % CI c)") == "HOLDS (10 RL (2 failed))"


def test_key_number_keeps_the_numbers_and_drops_the_parentheses():
    assert (
        va.key_number("SL QP fraction 0.374 (rule: < 0.02 and below RL)") == "SL QP fraction 0.374"
    )
    assert (
        va.key_number(
            "balance RL − SL: decision states +0.029 (r = +0.24), selectivity +0.033 (r = +0.34)"
        )
        == "balance RL − SL: decision states +0.029, selectivity +0.033"
    )
    long = "QP fraction RL − SL = -0.270; rank-biserial r = -0.90; " + "x" * 40
    assert va.key_number(long) == "QP fraction RL − SL = -0.270"
    assert va.key_number("nan") == "–"


def test_verdict_overview_puts_main_reset_and_robustness_side_by_side():
    import pandas as pd

    main = pd.DataFrame(
        [
            {
                "claim": "2. RL finds hybrid landscapes",
                "verdict": "PARTLY",
                "n": "10 RL + 10 SL",
                "effect": "QP fraction RL − SL = -0.270; rank-biserial r = -0.90",
            }
        ]
    )
    by = {"2": {"reset": "PARTLY (10 RL + 10 SL; e; 95 % CI c)", "leaky": "HOLDS (20)"}}
    cross = va.claims_by_variant(main, by, regime="continuous")
    assert va.main_column("continuous") in cross and va.RESET_NAME in cross
    # the reset regime is a regime, not a variant: only the leaky network counts
    assert cross.robustness[0].startswith("depends on the choice: differs under leaky network")
    (row,) = va.verdict_overview(main, cross).to_dict("records")
    assert row == {
        "claim": "2. hybrid landscapes under RL",
        "main verdict": "PARTLY",
        va.RESET_NAME: "PARTLY",
        "across chapter 8's variants": "differs under leak",
        "key number (main)": "QP fraction RL − SL = -0.270",
    }
