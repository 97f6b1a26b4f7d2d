"""The decision rules of the claims table, on hand-made tables whose verdict is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.report import claims as cl


def _runs(acc_rl, acc_sl, converged=True):
    rows = [{"algorithm": "ppo", "final_accuracy": a, "converged": converged} for a in acc_rl]
    rows += [{"algorithm": "sl", "final_accuracy": a, "converged": True} for a in acc_sl]
    return pd.DataFrame(rows)


def test_claim_performance_rules():
    assert cl.claim_performance(_runs([0.90, 0.91, 0.90], [0.91, 0.90, 0.905])).verdict == "HOLDS"
    assert cl.claim_performance(_runs([0.80, 0.81, 0.80], [0.91, 0.90, 0.90])).verdict == "PARTLY"
    not_conv = _runs([0.90, 0.91, 0.90], [0.91, 0.90, 0.905], converged=False)
    assert cl.claim_performance(not_conv).verdict == "PARTLY"
    assert cl.claim_performance(_runs([0.9], [])).verdict == "NOT TESTED"


def _qp(rl, sl):
    rows = [
        {"algorithm": a, "qp_fraction": v, "qp_fraction_low_coh": v}
        for a, vals in (("ppo", rl), ("sl", sl))
        for v in vals
    ]
    return pd.DataFrame(rows)


def test_claims_2_3_rules():
    c2, c3 = cl.claims_2_3(_qp([0.2, 0.3, 0.25], [0.0, 0.01, 0.0]))
    assert (c2.verdict, c3.verdict) == ("HOLDS", "HOLDS")
    c2, c3 = cl.claims_2_3(_qp([0.01, 0.02, 0.015], [0.3, 0.4, 0.35]))  # what we found
    assert (c2.verdict, c3.verdict) == ("PARTLY", "DOES NOT HOLD")
    c2, _ = cl.claims_2_3(_qp([0.0, 0.0, 0.0], [0.3, 0.4, 0.35]))
    assert c2.verdict == "DOES NOT HOLD"
    _, c3 = cl.claims_2_3(_qp([0.5, 0.6, 0.55], [0.1, 0.2, 0.15]))
    assert c3.verdict == "PARTLY"  # below RL but not "almost only fixed points"


def _pops(bal_rl, bal_sl):
    rows = []
    for alg, vals in (("ppo", bal_rl), ("sl", bal_sl)):
        for s, v in enumerate(vals):
            for d in ("decision_states", "selectivity"):
                rows.append({"algorithm": alg, "seed": s, "definition": d, "balance": v})
    return pd.DataFrame(rows)


def _rob(pops, slope):
    b = pops[pops.definition == "decision_states"][["algorithm", "seed", "balance"]]
    return pd.concat(
        [
            b.assign(perturbation=p, robustness=slope * b.balance).drop(columns="balance")
            for p in ("noise", "weights", "ablation")
        ],
        ignore_index=True,
    )


def test_claim_balance_rules():
    rl, sl = [0.90, 0.92, 0.95, 0.93, 0.91], [0.50, 0.55, 0.60, 0.52, 0.58]
    pops = _pops(rl, sl)
    a, b = cl.claim_balance(pops, _rob(pops, +1.0))
    assert (a.verdict, b.verdict) == ("HOLDS", "HOLDS")
    pops = _pops(sl, rl)
    a, b = cl.claim_balance(pops, _rob(pops, -1.0))
    assert (a.verdict, b.verdict) == ("DOES NOT HOLD", "DOES NOT HOLD")


def _ensemble(deltas, n, rl_minus_sl):
    """Summary-table rows: n seeds per algorithm and δ, RL's balance shifted by the given amount."""
    rows = []
    for d in deltas:
        for s in range(n):
            for alg, shift in (("ppo", rl_minus_sl), ("sl", 0.0)):
                v = 0.5 + shift + 0.01 * s
                rows.append(dict(algorithm=alg, seed=s, delta=d, balance_ds=v, balance_sel=v))
    return pd.DataFrame(rows)


def test_claim_balance_uses_the_larger_ensemble_at_the_default_delta():
    pops = _pops([0.6, 0.7, 0.8], [0.7, 0.6, 0.8])  # 3 + 3 networks, no difference
    rob = _rob(pops, +1.0)
    assert cl.claim_balance(pops, rob)[0].verdict == "DOES NOT HOLD"
    ens = _ensemble([0.05, 0.1, 0.2], 10, +0.3)  # 10 + 10 per δ, RL far above SL
    a, b = cl.claim_balance(pops, rob, ensemble=ens, delta=0.1)
    assert a.verdict == "HOLDS" and a.n == "10 RL + 10 SL"
    assert "decision states RL > SL at 3/3 δ, RL < SL at 0/3" in a.numbers
    assert b.n == "6 networks"  # robustness stays on the networks that have it
    a, _ = cl.claim_balance(pops, rob, ensemble=_ensemble([0.1, 0.2], 10, -0.3), delta=0.1)
    assert a.verdict == "DOES NOT HOLD" and "RL < SL at 2/2" in a.numbers
    # fewer ensemble networks at that δ than in pops: the verdict stays on pops
    a, _ = cl.claim_balance(pops, rob, ensemble=_ensemble([0.1], 2, +0.3), delta=0.1)
    assert a.verdict == "DOES NOT HOLD" and a.n == "3 RL + 3 SL"


def test_claim_delta_rules():
    deltas = np.repeat([0.05, 0.1, 0.15, 0.2], 4)
    up = pd.DataFrame(
        {"algorithm": "ppo", "delta": deltas, "qp_fraction": deltas + 0.001 * np.arange(16)}
    )
    assert cl.claim_delta(up).verdict == "HOLDS"
    assert cl.claim_delta(up.assign(qp_fraction=-up.qp_fraction)).verdict == "DOES NOT HOLD"
    assert cl.claim_delta(up, n_expected=40).verdict.startswith("INCOMPLETE (16/40 runs)")
    out = cl.claim_delta(up, n_expected=40, n_failed=1).verdict
    assert out.startswith("INCOMPLETE (16/40 runs; 1 failed): HOLDS")
    assert cl.verdict_of(out) == ("HOLDS", True)
    assert cl.claim_delta(up, n_expected=16, n_failed=1).verdict == "HOLDS"  # all stored
    # every run stored or failed: nothing left to compute, the verdict stands, n says it
    done = cl.claim_delta(up, n_expected=19, n_failed=3)
    assert done.verdict == "HOLDS" and done.n == "16 RL networks over 4 δ; 3 failed runs left out"
    assert cl.claim_delta(up, n_expected=20, n_failed=3).verdict.startswith("INCOMPLETE (16/20")
    assert cl.claim_delta(up).n == "16 RL networks over 4 δ"
    assert cl.claim_delta(up[up.delta == 0.05]).verdict == "NOT TESTED YET"


def test_claim_complexity_rules():
    rng = np.random.default_rng(0)
    rows = []
    for lv, slope in (("easy", 0.0), ("standard", 0.5), ("hard", 1.0)):
        q = rng.uniform(0, 0.3, 10)
        acc = 0.8 + slope * q + (0.05 if slope == 0 else 0.001) * rng.normal(size=10)
        rows += [
            {"algorithm": "ppo", "level": lv, "qp_fraction": a, "final_accuracy": b}
            for a, b in zip(q, acc, strict=True)
        ]
    tab = pd.DataFrame(rows)
    ideal = {"easy": 1.0, "standard": 1.0, "hard": 1.0}
    assert cl.claim_complexity(tab, ideal).verdict == "HOLDS"
    against = tab.assign(final_accuracy=0.9 - tab.qp_fraction)  # r = -1 at every level
    assert cl.claim_complexity(against, ideal).verdict == "DOES NOT HOLD"
    assert cl.claim_complexity(tab[tab.level == "easy"], ideal).verdict == "NOT TESTED YET"
    # levels with fewer than 4 networks have no correlation: left out, never a nan
    few = pd.concat([tab[tab.level == "standard"], tab[tab.level != "standard"].iloc[[0, 10]]])
    c = cl.claim_complexity(few, ideal, n_expected=30)
    assert c.verdict == "NOT TESTED YET" and "easy 1" in c.numbers
    assert "nan" not in c.effect + c.ci + c.numbers
    two = tab[(tab.level != "hard") | (tab.index % 10 < 2)]  # hard: 2 networks
    c = cl.claim_complexity(two, ideal, n_expected=30)
    assert c.verdict.startswith("INCOMPLETE (22/30 runs): ")
    assert "hard" not in c.effect and "nan" not in c.effect


def _sculpt(points_rl, points_sl):
    """A sculpting table whose label agreement reaches 1 at the given progress points."""
    rows = []
    prog = [0.0, 0.25, 0.5, 0.75, 1.0]
    for alg, pts in (("ppo", points_rl), ("sl", points_sl)):
        for s, cp in enumerate(pts):
            for p in prog:
                rows.append(
                    {
                        "algorithm": alg,
                        "seed": s,
                        "progress": p,
                        "label_agreement_ds": 1.0 if p >= cp else 0.5,
                        "label_chance_ds": 0.4,
                    }
                )
    return pd.DataFrame(rows)


def test_claim_crystallisation_rules():
    assert cl.claim_crystallisation(_sculpt([0.5, 0.5, 1.0], [1.0])).verdict == "HOLDS"
    assert cl.claim_crystallisation(_sculpt([0.75, 1.0, 1.0], [1.0])).verdict == "PARTLY"
    assert cl.claim_crystallisation(_sculpt([1.0, 1.0, 1.0], [0.5])).verdict == "DOES NOT HOLD"
    assert cl.claim_crystallisation(pd.DataFrame()).verdict == "NOT TESTED YET"


def test_balance_by_delta_compares_rl_and_sl_per_delta_and_definition():
    from lib.analysis.balance import balance_by_delta

    tab = _ensemble([0.1, 0.2], 10, +0.3)
    by = balance_by_delta(tab)
    assert sorted(set(by.definition)) == ["balance_ds", "balance_sel"] and len(by) == 4
    assert np.allclose(by.mean_RL - by.mean_SL, 0.3) and (by.rank_biserial == 1.0).all()
    assert (by.p < 0.001).all() and (by.n_RL == 10).all()
    # a δ where one algorithm has a single network is left out
    assert len(balance_by_delta(tab[~((tab.delta == 0.2) & (tab.seed > 0))])) == 2
    assert balance_by_delta(tab.iloc[0:0]).empty


def test_other_regime_lines_say_what_is_not_tested(tmp_path):
    from lib.report.claims import claim_performance, claims_table, other_regime_lines

    main = [claim_performance(_runs([0.9, 0.91], [0.9, 0.9]))]
    lines = other_regime_lines(main, "performance", tmp_path, "reset")
    assert lines == [
        "Claim 1 in NeuroGym's continuous regime: not tested yet (20 of the 20 default networks of "
        "the continuous regime are not stored yet)."
    ]
    t = claims_table(tmp_path, "continuous", {"delta"})
    assert list(t.claim) == ["5a. wider δ → more QP under RL"]
    with pytest.raises(ValueError, match="unknown claim groups"):
        claims_table(tmp_path, "reset", {"everything"})


def test_verdict_of_a_cell_and_of_a_partial_one():
    from lib.report.claims import verdict_of

    assert verdict_of("PARTLY (3 RL + 3 SL; QP fraction ...)") == ("PARTLY", False)
    assert verdict_of("DOES NOT HOLD") == ("DOES NOT HOLD", False)
    assert verdict_of("INCOMPLETE (27/100 runs): HOLDS (14 RL networks over 5 δ)") == (
        "HOLDS",
        True,
    )
    assert verdict_of("INCOMPLETE (8/20 networks): DOES NOT HOLD (4 RL + 4 SL)")[0] == (
        "DOES NOT HOLD"
    )
