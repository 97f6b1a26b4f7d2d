"""Variants of the open choices: the robustness rule on known inputs, and the NeuroGym-stream
table read in long form."""

from __future__ import annotations

import pandas as pd

from lib import variants as va


def test_robustness_rule():
    keys = [v.key for v in va.VARIANTS]
    none = dict.fromkeys(keys)
    assert va.robustness_verdict("HOLDS", none).startswith("not yet tested against any variant")
    all_hold = dict.fromkeys(keys, "HOLDS")
    assert va.robustness_verdict("HOLDS", all_hold).startswith("holds in every variant")
    assert f"{len(keys)} of {len(keys)}" in va.robustness_verdict("HOLDS", all_hold)
    some = {**none, "continuous": "HOLDS", "leaky": "DOES NOT HOLD"}
    out = va.robustness_verdict("HOLDS", some)
    assert out.startswith("depends on the leaky network") and "2 of" in out
    never = {**none, "continuous": "DOES NOT HOLD"}
    assert va.robustness_verdict("DOES NOT HOLD", never).startswith("does not hold in any")


def test_claims_by_variant_marks_what_is_missing():
    main = pd.DataFrame([{"claim": "2. hybrid", "verdict": "PARTLY", "n": "10 RL + 10 SL"}])
    t = va.claims_by_variant(main, {"2": {"linear_stability": "DOES NOT HOLD"}})
    assert t.loc[0, "linear-stability census"] == "DOES NOT HOLD"
    assert t.loc[0, "continuous trial regime"] == "not computed yet"
    assert t.loc[0, "robustness"].startswith("depends on the linear-stability census")
    assert "leaky network" in t.loc[0, "variants not computed yet"]
    assert "leaky network" not in t.columns


def test_neurogym_stream_long_form(tmp_path):
    assert va.neurogym_stream(tmp_path / "absent.csv").empty
    s = va.neurogym_stream()
    if len(s):  # the stored check: three regimes per network, accuracies in [0, 1]
        assert set(s.regime) == {"metrics", "reset", "continuous"}
        assert s.groupby("run_id").size().eq(3).all()
        assert s.accuracy.between(0, 1).all() and (s.ci_low <= s.accuracy).all()
        summ = va.stream_summary(s)
        assert set(summ.regime) == {"metrics", "reset", "continuous"}


def test_stability_claims_use_the_chapter_2_rules():
    per = pd.DataFrame(
        [
            {"algorithm": a, "seed": s, "ns_fraction": f, "ns_fraction_low_coh": f}
            | {"ns_fraction_high_coh": f}
            for a, s, f in [("ppo", 0, 0.0), ("ppo", 1, 0.0), ("sl", 0, 0.3), ("sl", 1, 0.5)]
        ]
    )
    out = va.stability_claims(per)
    assert out["2"].startswith("DOES NOT HOLD") and out["3"].startswith("DOES NOT HOLD")
    assert va.stability_claims(per[per.algorithm == "sl"]) == {}
    assert va.robustness_verdict("DOES NOT HOLD", {"linear_stability": out["3"]}).startswith(
        "does not hold in any"
    )
