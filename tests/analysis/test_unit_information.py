"""The per-network information analysis: structure, caching, sanity of the numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.analysis.unit_information import VARIABLES, InfoConfig, unit_information
from lib.core.network import NetworkConfig
from lib.store.runs import Store
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    st = Store(tmp_path_factory.mktemp("store"))
    spec = RunSpec(
        "sl",
        0,
        network=NetworkConfig(hidden=12),
        trainer=SLConfig(batch=32, eval_every=20, eval_trials=100, max_trials=6400),
    )
    return st, st.get_or_train(spec, progress=False)


def test_unit_information_tables_and_cache(tiny_run, monkeypatch):
    st, run = tiny_run
    cfg = InfoConfig(n_trials=60, n_shuffles=20, n_fc_shuffles=3)
    res = unit_information(run, cfg, st)
    u, fc = res["units"], res["fc"]
    assert set(u.variable) == set(VARIABLES)
    ok = u.p.notna()
    # NaN only for degenerate units (constant within a class: the Gaussian model's MI is undefined)
    assert u.mi_bits[~ok].isna().all() or u.null_mean_bits[~ok].isna().all()
    assert u.p[ok].between(0, 1).all() and (u.p_holm[ok] >= u.p[ok] - 1e-12).all()
    assert (u.p_permutation[ok] >= 1 / 21 - 1e-12).all()  # resolution of 20 shifts
    assert 0 <= float(fc.density.iloc[0]) <= 1
    assert int(fc.n_active_units.iloc[0]) == len(res["degrees"])
    # the period is decodable from any active unit of a trained network far above its null
    per = u[u.variable == "period"]
    assert (per.mi_bits > per.null_mean_bits).mean() > 0.5
    # cached: a second call does not recompute
    import lib.analysis.unit_information as ui

    monkeypatch.setattr(
        ui,
        "compute_unit_information",
        lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")),
    )
    again = unit_information(run, cfg, st)
    np.testing.assert_allclose(again["units"].mi_bits, u.mi_bits)


def test_bad_info_config():
    with pytest.raises(ValueError):
        InfoConfig(n_shuffles=0)
    with pytest.raises(ValueError):
        InfoConfig(alpha=1.5)


def test_rl_sl_comparisons_on_known_networks():
    """Three RL networks whose units are all significant with 0.3 bits, three SL networks with
    none and 0.1 bits: every unit-level comparison has RL above SL with r = +1; the graph
    statistics come from each network's fc row."""
    from lib.analysis.unit_information import FC_MEASURES, VARIABLES, rl_sl_comparisons

    info = {}
    for alg, mi, sig, dens in (("ppo", 0.3, True, 0.7), ("sl", 0.1, False, 0.5)):
        for seed in range(3):
            units = pd.DataFrame(
                [
                    {"unit": u, "variable": v, "mi_bits": mi + 0.01 * seed, "significant": sig}
                    for u in range(4)
                    for v in VARIABLES
                ]
            )
            fc = pd.DataFrame(
                [
                    {
                        "density": dens,
                        "mean_degree": 10.0 * dens,
                        "modularity": 0.1,
                        "mean_mi_bits": mi,
                    }
                ]
            )
            info[(alg, seed)] = {"units": units, "fc": fc}
    t = rl_sl_comparisons(info)
    assert len(t) == 2 * len(VARIABLES) + len(FC_MEASURES)
    unit_rows = t[t.variable != "graph"]
    assert (unit_rows.rank_biserial == 1.0).all() and (unit_rows.n_RL == 3).all()
    sig = unit_rows[unit_rows.measure == "frac_sig"]
    assert (sig.mean_RL == 1.0).all() and (sig.mean_SL == 0.0).all()
    g = t[t.variable == "graph"].set_index("measure")
    assert g.loc["density", "mean_RL"] == pytest.approx(0.7)
    assert g.loc["modularity", "rank_biserial"] == 0.0  # equal: ties
    assert rl_sl_comparisons({k: v for k, v in info.items() if k[0] == "ppo"}).empty
