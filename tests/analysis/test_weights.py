"""The weight statistics: the known answers of the networks' own weights, cached once, and
served without writing to a store that lacks them."""

from __future__ import annotations

import numpy as np
import pytest

from lib.analysis import weights as wt
from lib.store.runs import Store


@pytest.fixture
def tiny_run(tmp_path, tiny_spec):
    st = Store(tmp_path)
    return st, st.get_or_train(tiny_spec(), progress=False)


def test_weight_stats_are_the_weights_own_numbers(tiny_run):
    st, run = tiny_run
    row = wt.weight_stats(run, store=st)["weights"].iloc[0]
    W0 = run.initial_network().W_rec.detach().double().numpy()
    W1 = run.network().W_rec.detach().double().numpy()
    assert row.spectral_radius_before == np.abs(np.linalg.eigvals(W0)).max()
    assert row.spectral_radius_after == np.abs(np.linalg.eigvals(W1)).max()
    assert row.dw_norm == pytest.approx(np.linalg.norm(W1 - W0), rel=1e-6)
    s2 = np.linalg.svd(W1 - W0, compute_uv=False) ** 2
    assert row.dw_eff_rank == pytest.approx(s2.sum() ** 2 / (s2**2).sum(), rel=1e-6)
    assert 1 <= row.dw_eff_rank <= run.spec.network.hidden


def test_weight_stats_cached_once_and_read_back_exactly(tiny_run, monkeypatch):
    st, run = tiny_run
    first = wt.weight_stats(run, store=st)["weights"]
    monkeypatch.setattr(wt, "compute_weight_stats", lambda *a, **k: pytest.fail("recomputed"))
    again = wt.weight_stats(run, store=st, compute=False)["weights"]
    assert again.equals(first)  # the CSV round trip keeps every bit
    assert wt.weight_stats_or_compute(run, st) == {
        c: float(first[c][0]) for c in wt.WEIGHTS_COLUMNS
    }


def test_a_store_without_them_is_served_and_left_as_it_is(tiny_run):
    st, run = tiny_run
    before = (
        sorted(p.name for p in (st.root / "analyses").glob("*/*"))
        if (st.root / "analyses").exists()
        else []
    )
    got = wt.weight_stats_or_compute(run, st)
    assert set(got) == set(wt.WEIGHTS_COLUMNS) and all(np.isfinite(list(got.values())))
    after = (
        sorted(p.name for p in (st.root / "analyses").glob("*/*"))
        if (st.root / "analyses").exists()
        else []
    )
    assert after == before, "a reader wrote into the store"
    with pytest.raises(FileNotFoundError):
        wt.weight_stats(run, store=st, compute=False)
