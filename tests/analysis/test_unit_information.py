"""The per-network information analysis: structure, caching, sanity of the numbers."""

from __future__ import annotations

import numpy as np
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
