"""Shared tiny settings of the tests (one place): a tiny SL spec, a random small network and
the stored default runs (skipped where the store does not hold them).

The tests mirror the package: ``tests/core``, ``train``, ``store``, ``analysis``,
``pipelines``, ``report`` (one folder per layer of ``lib``), ``book`` (notebooks, the documented
commands, the built book in Chromium) and ``test_layers.py`` (the import order of the layers).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from lib.core.network import RNN, NetworkConfig
from lib.core.task import TaskConfig
from lib.store.runs import Store, StoredRun
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig

#: A trainer budget that runs in well under a second (the network does not learn the task).
TINY_SL = SLConfig(batch=8, eval_every=2, eval_trials=50, max_trials=32)


@pytest.fixture
def tiny_spec() -> Callable[..., RunSpec]:
    """``tiny_spec(seed=0, **network_fields)``: an 8-unit SL run with :data:`TINY_SL`."""

    def make(seed: int = 0, **net) -> RunSpec:
        return RunSpec("sl", seed, TaskConfig(), NetworkConfig(hidden=8, **net), TINY_SL)

    return make


@pytest.fixture
def random_net() -> Callable[..., RNN]:
    """``random_net(hidden=32, seed=0, delta=0.3)``: an untrained network with small random
    biases, in eval mode."""

    def make(hidden: int = 32, seed: int = 0, delta: float = 0.3) -> RNN:
        net = RNN(NetworkConfig(hidden=hidden, delta=delta), torch.Generator().manual_seed(seed))
        with torch.no_grad():
            net.b.copy_(0.1 * torch.randn(hidden, generator=torch.Generator().manual_seed(seed)))
        net.eval()
        return net

    return make


@pytest.fixture(scope="session")
def stored_default() -> Callable[[str, int], StoredRun]:
    """``stored_default(algorithm, seed)``: the stored default run (250 units, δ = 0.1, reset
    regime) of the repository's ``data/``; the test is skipped when it is not stored."""

    def load(algorithm: str, seed: int = 0) -> StoredRun:
        try:
            return Store().load(RunSpec(algorithm, seed))
        except FileNotFoundError:
            pytest.skip(f"no stored {algorithm} seed-{seed} run")

    return load


@pytest.fixture(scope="session")
def smoke_store(tmp_path_factory) -> Path:
    """One scratch store for every smoke-mode run of this test session (the notebooks' smoke
    runs and the documented commands): a tiny network one of them trained is reused by the
    others, as a reader's rerun reuses what is stored. Under pytest-xdist the workers share it
    (the store's writes are atomic and locked); a new test session starts from an empty one."""
    base = tmp_path_factory.getbasetemp()
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    root = base.parent / f"smoke-store-{uid}" if uid else base / "smoke-store"
    root.mkdir(parents=True, exist_ok=True)
    return root
