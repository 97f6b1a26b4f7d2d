"""Torch threads of computed results (:func:`lib.store.environment.torch_threads`).

The store trains and analyses on one thread by default because it is the fastest setting
measured here; that default is only sound because the results do not depend on the thread
count. These tests check that at the project's real shapes (250 units, PPO's 256 environments
and 64-sequence minibatches, SL's batches, the orbit census of a stored network): the
same seed on one and on two threads gives the same network and the same census, bit for bit.
"""

from __future__ import annotations

import pytest
import torch

from lib.__main__ import main
from lib.core.network import NetworkConfig
from lib.core.task import TaskConfig
from lib.store.environment import THREADS_ENV, compute_threads, torch_threads
from lib.store.runs import Store
from lib.train.ppo import PPOConfig, train_ppo
from lib.train.supervised import SLConfig, train_supervised


def _weights_on(threads: int, train) -> dict[str, torch.Tensor]:
    with torch_threads(threads):
        return {k: v.clone() for k, v in train().net.state_dict().items()}


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_default_is_one_thread_and_the_callers_setting_comes_back(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert compute_threads() == 1
    before = torch.get_num_threads()
    with torch_threads() as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    monkeypatch.setenv(THREADS_ENV, "2")
    with torch_threads() as n:
        assert n == 2 and torch.get_num_threads() == 2
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before  # restored after an error too


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
def test_a_bad_thread_count_is_refused(monkeypatch, raw, capsys):
    monkeypatch.setenv(THREADS_ENV, raw)
    with pytest.raises(ValueError, match=THREADS_ENV):
        compute_threads()
    assert main(["list"]) == 2  # before any compute
    assert THREADS_ENV in capsys.readouterr().err
    with pytest.raises(ValueError, match="positive int"):
        with torch_threads(0):
            pass


def test_ppo_is_bit_identical_on_one_and_two_threads():
    cfg = PPOConfig(max_trials=600, eval_every=10**6, eval_trials=200, criterion_fraction=1.0)

    def train():
        return train_ppo(TaskConfig(), NetworkConfig(), cfg, seed=5, progress=False)

    _assert_same(_weights_on(1, train), _weights_on(2, train))


@pytest.mark.parametrize("trials", ["reset", "continuous"])
def test_sl_is_bit_identical_on_one_and_two_threads(trials):
    cfg = SLConfig(max_trials=1500, eval_trials=200, criterion_fraction=1.0)

    def train():
        return train_supervised(TaskConfig(trials=trials), NetworkConfig(), cfg, 5, progress=False)

    _assert_same(_weights_on(1, train), _weights_on(2, train))


def test_orbit_census_is_bit_identical_on_one_and_two_threads(stored_default):
    from lib.analysis.census import CensusConfig, compute_census

    run = stored_default("sl", 0)  # quasi-periodic, fixed points and cycles on one grid
    cfg = CensusConfig(grid=5)
    grids = []
    for th in (1, 2):
        with torch_threads(th):
            grids.append(compute_census(run, cfg)["grid"])
    assert grids[0].equals(grids[1])
    assert grids[0].has_qp.any() and grids[0].n_fixed.gt(0).any()


def test_the_store_trains_on_one_thread_and_records_it(tmp_path, tiny_spec, monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    before = torch.get_num_threads()
    run = Store(tmp_path).get_or_train(tiny_spec(), progress=False)
    assert run.provenance["torch_threads"] == 1
    assert torch.get_num_threads() == before
