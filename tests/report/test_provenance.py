"""The methods chapter's settings table: every setting has a source, every companion choice a
reason, and every open choice that chapter 8 varies is listed."""

from __future__ import annotations

from lib.report.provenance import provenance_table


def test_every_setting_has_a_source_and_every_companion_choice_a_reason():
    t = provenance_table()
    assert t.setting.is_unique
    assert set(t.source) <= {"paper", "NeuroGym", "companion"}
    own = t[t.source == "companion"]
    assert (own.reason.str.len() > 0).all(), list(own.setting[own.reason.str.len() == 0])


def test_the_open_choices_of_chapter_8_are_listed():
    t = provenance_table().set_index("setting")
    for s in (
        "task.trials",
        "sl.window",
        "ppo.bootstrap_across_trials",
        "task.stream_trials",
        "variants.trials",
        "variants.leaky.alpha",
        "variants.old_noise.sigma",
        "variants.plain_ce.decision_weight",
        "variants.long_horizon.census",
        "stability.ns_candidate",
        "stability.n_starts",
    ):
        assert s in t.index, s
    assert t.loc["task.trials", "value"] == "reset"
    assert t.loc["variants.trials", "value"] == "continuous"
    assert "20000 recorded" in t.loc["variants.long_horizon.census", "value"]
    assert "window" in t.loc["sl.window", "reason"] and "zero" in t.loc["sl.window", "reason"]


def test_every_ablation_of_chapter_9_has_its_value_and_reason():
    from lib.pipelines.profiles import ABLATIONS

    t = provenance_table().set_index("setting")
    for name in ABLATIONS:
        assert f"why.{name}" in t.index, name
    assert "fixation_weight=0.0" in t.loc["why.sl_decision_only", "value"]
    assert "ent_coef=0.0" in t.loc["why.ppo_no_entropy", "value"]
    assert "tests whether" in t.loc["why.a2c", "reason"]
