"""The landscape over training: checkpoint views, per-checkpoint caching, crystallisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.analysis.census import CensusConfig
from lib.analysis.dynamics import OrbitConfig
from lib.analysis.sculpting import (
    SculptConfig,
    checkpoint_analysis,
    checkpoint_table,
    crystallisation_point,
    sculpting_table,
)
from lib.core.network import NetworkConfig
from lib.core.task import TaskConfig
from lib.store.runs import Store
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig

TINY_CFG = SculptConfig(
    census=CensusConfig(
        grid=3, n_trial_states=1, orbit=OrbitConfig(n_transient=50, n_record=200, max_period=8)
    ),
    n_trials=40,
    eval_trials=100,
)


@pytest.fixture(scope="module")
def run_with_checkpoints(tmp_path_factory):
    st = Store(tmp_path_factory.mktemp("store"))
    spec = RunSpec(
        "sl",
        0,
        TaskConfig(),
        NetworkConfig(hidden=12),
        SLConfig(batch=16, eval_every=2, eval_trials=50, max_trials=320),
    )
    return st, st.get_or_train(spec, progress=False, keep_checkpoints=True)


def test_crystallisation_point_known_answers():
    p = [0.0, 0.25, 0.5, 0.75, 1.0]
    assert crystallisation_point(p, [0.1, 0.95, 0.5, 0.92, 1.0]) == 0.75  # dips at 0.5
    assert crystallisation_point(p, [0.9, 0.9, 0.95, 0.99, 1.0]) == 0.0  # stable throughout
    assert crystallisation_point(p, [0.1, 0.2, 0.3, 0.4, 0.5]) != crystallisation_point(
        p, [0.1, 0.2, 0.3, 0.4, 0.5]
    )  # NaN: the end is below the level
    assert crystallisation_point(p[::-1], [1.0, 0.92, 0.5, 0.95, 0.1]) == 0.75  # order-free
    assert crystallisation_point(p, [0.1, np.nan, 0.95, 0.99, 1.0], level=0.95) == 0.5
    assert np.isnan(crystallisation_point([], []))
    with pytest.raises(ValueError):
        crystallisation_point(p, p, level=0.0)
    with pytest.raises(ValueError):
        crystallisation_point(p, p[:3])


def test_checkpoint_view_returns_that_network(run_with_checkpoints):
    _, run = run_with_checkpoints
    cks = run.checkpoints()
    for label, (_, _, net) in cks.items():
        view = run.at_checkpoint(label)
        assert view.checkpoint == label and run.checkpoint is None
        for k, v in view.network().state_dict().items():
            assert torch.equal(v, net.state_dict()[k])
    with pytest.raises(KeyError, match="no checkpoint"):
        run.at_checkpoint("frac_0.33")
    # the initial checkpoint is the untrained network of the seed
    init = run.initial_network().state_dict()
    assert all(
        torch.equal(v, init[k])
        for k, v in run.at_checkpoint("frac_0").network().state_dict().items()
    )


def test_checkpoint_table_merges_labels_of_the_same_network(run_with_checkpoints):
    _, run = run_with_checkpoints
    tab = checkpoint_table(run)
    raw = run.checkpoints()
    assert tab.trials.is_monotonic_increasing and tab.trials.is_unique
    assert set(tab.trials) == {t for t, _, _ in raw.values()}
    assert sum(len(s.split("/")) for s in tab.labels) == len(raw)
    assert tab.progress.iloc[0] == 0.0 and tab.progress.iloc[-1] == 1.0
    assert tab.is_final.sum() == 1 and tab.is_final.iloc[-1]


def test_analyses_are_cached_per_checkpoint(run_with_checkpoints):
    st, run = run_with_checkpoints
    first, last = "frac_0", checkpoint_table(run).label.iloc[-1]
    a = checkpoint_analysis(run, first, TINY_CFG, st)
    b = checkpoint_analysis(run, last, TINY_CFG, st)
    p = {"x": 1}
    assert st.analysis_dir(run.at_checkpoint(first), "census", p) != st.analysis_dir(
        run.at_checkpoint(last), "census", p
    )
    assert st.analysis_dir(run, "census", p) != st.analysis_dir(
        run.at_checkpoint(first), "census", p
    )  # the trained network's analyses keep their own key
    assert set(a) == {"grid", "decision", "populations", "labels", "summary"}
    assert len(a["grid"]) == 2 * 3 * 3 and len(b["grid"]) == 2 * 3 * 3
    # read back from the cache without computing
    again = checkpoint_analysis(run, last, TINY_CFG, st, compute=False)
    assert again["summary"].accuracy.iloc[0] == b["summary"].accuracy.iloc[0]


def test_sculpting_table_final_row_agrees_with_itself(run_with_checkpoints):
    st, run = run_with_checkpoints
    tab = sculpting_table(run, TINY_CFG, st)
    assert len(tab) == len(checkpoint_table(run))
    fin = tab[tab.is_final].iloc[0]
    assert fin.attractor_agreement == 1.0
    assert fin.label_agreement_ds in (1.0,) or np.isnan(fin.label_agreement_ds)
    assert tab.attractor_agreement.between(0, 1).all()
    assert tab.qp_fraction.between(0, 1).all() and tab.accuracy.between(0, 1).all()


def test_run_without_checkpoints_gets_a_clear_error(tmp_path):
    st = Store(tmp_path)
    spec = RunSpec("sl", 1, TaskConfig(), NetworkConfig(hidden=8), SLConfig(batch=8, max_trials=32))
    run = st.get_or_train(spec, progress=False)
    with pytest.raises(ValueError, match="kept no checkpoints"):
        sculpting_table(run, TINY_CFG, st)


def test_bad_config_rejected():
    with pytest.raises(ValueError):
        SculptConfig(n_trials=1)
    with pytest.raises(ValueError):
        SculptConfig(alpha=1.5)


def test_populations_of_the_trained_network_equal_those_of_its_last_checkpoint(
    run_with_checkpoints,
):
    from lib.analysis.sculpting import populations_analysis

    st, run = run_with_checkpoints
    fin = run.at_checkpoint("frac_1")
    a = populations_analysis(run, TINY_CFG, st)
    b = populations_analysis(fin, TINY_CFG, st)
    assert a["summary"].accuracy.iloc[0] == b["summary"].accuracy.iloc[0]
    assert a["labels"].equals(b["labels"])


def test_chance_agreement_is_the_product_of_label_frequencies():
    import pandas as pd

    from lib.analysis.sculpting import _chance_agreement, _label_agreement

    def tab(labels):
        return pd.DataFrame(
            {
                "context": 1,
                "definition": "decision_states",
                "unit": range(len(labels)),
                "label": labels,
            }
        )

    a = tab(["G+", "G+", "Ga", "Gs"])
    b = tab(["G+", "Ga", "Ga", "Ga"])
    # p = (G+ .5, Ga .25, Gs .25), q = (G+ .25, Ga .75): .5*.25 + .25*.75 = .3125
    assert _chance_agreement(a, b, "decision_states") == pytest.approx(0.3125)
    assert _label_agreement(a, b, "decision_states") == pytest.approx(0.5)  # units 0 and 2
    assert np.isnan(_chance_agreement(a, b, "selectivity"))


def test_leaky_populations_have_a_key_of_their_own(tmp_path, tiny_spec, stored_default):
    """A leaky network's populations are cached under LEAKY_SCULPT_VERSION (its old entries,
    which recorded the leak as undefined, are computed again) and no longer fail on the leak;
    a non-leaky stored network's entry is still found under the old key."""
    import json

    from lib.analysis.sculpting import (
        LEAKY_SCULPT_VERSION,
        SCULPT_VERSION,
        populations_analysis,
    )

    st = Store(tmp_path)
    run = st.get_or_train(tiny_spec(alpha=0.5), progress=False)
    out = populations_analysis(run, TINY_CFG, st)
    assert "non-leaky" not in str(out["summary"].populations_reason.iloc[0])
    (entry,) = (tmp_path / "analyses" / run.path.name).glob("sculpt-*")
    assert (
        json.loads((entry / "meta.json").read_text())["params"]["version"] == LEAKY_SCULPT_VERSION
    )
    assert LEAKY_SCULPT_VERSION != SCULPT_VERSION
    ppo = stored_default("ppo", 0)
    stored = populations_analysis(ppo, compute=False)  # the stored key: no compute
    assert len(stored["populations"]) > 0
