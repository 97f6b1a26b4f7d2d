"""The run store: hashing, reuse, atomicity and corruption detection; the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import lib.train.spec as spec_mod
from lib.core.network import NetworkConfig, load_weights_npz, simulate_numpy
from lib.core.task import TaskConfig, sample_trials
from lib.store.runs import CorruptRunError, Store
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig


def test_run_id_is_a_hash_of_the_full_config(tiny_spec):
    a, b = tiny_spec(), tiny_spec()
    assert a.run_id == b.run_id and len(a.run_id) == 16
    assert tiny_spec(seed=1).run_id != a.run_id
    assert tiny_spec(delta=0.2).run_id != a.run_id
    assert (
        RunSpec("sl", 0, TaskConfig(sigma=0.5), a.network, tiny_spec().trainer).run_id != a.run_id
    )
    assert RunSpec("sl", 0, a.task, a.network, SLConfig(batch=9, max_trials=32)).run_id != a.run_id
    assert RunSpec.from_dict(json.loads(json.dumps(a.to_dict()))) == a
    assert a.to_dict()["trainer_version"] == spec_mod.TRAINER_VERSION


def test_bad_specs_rejected_before_compute():
    with pytest.raises(ValueError, match="unknown algorithm"):
        RunSpec("a2c", 0)
    with pytest.raises(ValueError):
        RunSpec("sl", -1)
    with pytest.raises(TypeError):
        RunSpec("ppo", 0, trainer=SLConfig())


def test_store_reuses_complete_runs(tmp_path, monkeypatch, tiny_spec):
    st = Store(tmp_path)
    spec = tiny_spec()
    assert st.status(spec) == "missing"
    run = st.get_or_train(spec, progress=False)
    assert st.status(spec) == "complete"
    assert sorted(p.name for p in run.path.iterdir()) == [
        "checksums.json",
        "config.json",
        "metrics.json",
        "model.pt",
        "weights.npz",
    ]
    cfg = json.loads((run.path / "config.json").read_text())
    for key in ("torch", "numpy", "python", "code_version", "cpu"):
        assert key in cfg["provenance"]
    for key in (
        "final_accuracy",
        "converged",
        "trials_to_criterion",
        "wall_seconds",
        "learning_curve",
    ):
        assert key in run.metrics

    def boom(*a, **k):
        raise AssertionError("a complete run must not be retrained")

    monkeypatch.setattr(RunSpec, "train", boom)
    again = st.get_or_train(spec, progress=False)
    assert again.path == run.path
    net = again.network()
    # the stored weights.npz runs the same network without the package
    w = load_weights_npz(run.path / "weights.npz")
    tr = sample_trials(spec.task, 3, torch.Generator().manual_seed(0))
    _, logits_np = simulate_numpy(w, tr.inputs.numpy())
    np.testing.assert_allclose(logits_np, net(tr.inputs)[1].detach().numpy(), rtol=1e-5, atol=1e-6)
    assert not [p for p in st.runs.glob(".tmp-*") if not p.name.endswith(".lock")]


@pytest.mark.parametrize(
    "damage", ["flip_model", "drop_checksums", "truncate_metrics", "garbage_checksums"]
)
def test_corrupt_run_detected_and_recomputed(tmp_path, damage, tiny_spec):
    st = Store(tmp_path)
    spec = tiny_spec()
    run = st.get_or_train(spec, progress=False)
    good = (run.path / "model.pt").read_bytes()
    if damage == "flip_model":
        b = bytearray(good)
        b[len(b) // 2] ^= 0xFF
        (run.path / "model.pt").write_bytes(bytes(b))
    elif damage == "drop_checksums":
        (run.path / "checksums.json").unlink()
    elif damage == "truncate_metrics":
        (run.path / "metrics.json").write_text("{")
    else:
        (run.path / "checksums.json").write_text("not json")
    assert st.status(spec) == "corrupt"
    with pytest.raises(CorruptRunError):
        st.load(spec)
    with pytest.raises(CorruptRunError):
        st.get_or_train(spec, train=False)
    fixed = st.get_or_train(spec, progress=False)
    assert st.status(spec) == "complete"
    assert (fixed.path / "model.pt").read_bytes() == good  # same seed, same network


def test_missing_run_without_training_gives_clear_error(tmp_path, tiny_spec):
    # settings the command line does not expose: a Python hint, not a wrong command
    with pytest.raises(FileNotFoundError, match="get_or_train") as e:
        Store(tmp_path).get_or_train(tiny_spec(), train=False)
    assert "python -m lib train" not in str(e.value)


def test_cli_train_prints_run_dir_and_rejects_bad_input(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "lib",
        "train",
        "--algorithm",
        "sl",
        "--seed",
        "0",
        "--hidden",
        "8",
    ]
    cmd += ["--max-trials", "64", "--store", str(tmp_path), "--no-progress"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    path = out.stdout.strip().splitlines()[-1]
    assert (tmp_path / "runs").exists() and path.startswith(str(tmp_path / "runs"))
    for bad in (["--algorithm", "a2c"], ["--delta", "-1"], ["--delta", "0"]):
        args = ["--algorithm", "sl", "--seed", "0", "--store", str(tmp_path)]
        i = args.index(bad[0]) if bad[0] in args else None
        if i is not None:
            args[i + 1] = bad[1]
        else:
            args += bad
        r = subprocess.run(
            [sys.executable, "-m", "lib", "train", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode != 0 and "error" in r.stderr.lower()
    assert len([p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]) == 1


def test_checkpoints_are_stored_and_reused(tmp_path):
    st = Store(tmp_path)
    spec = RunSpec(
        "sl",
        0,
        TaskConfig(),
        NetworkConfig(hidden=8),
        SLConfig(batch=8, eval_every=2, eval_trials=50, max_trials=160),
    )
    plain = st.get_or_train(spec, progress=False)
    assert not plain.has_checkpoints and plain.checkpoints() == {}
    run = st.get_or_train(spec, progress=False, keep_checkpoints=True)  # retrained to add them
    assert run.has_checkpoints and st.status(spec) == "complete"
    ck = run.checkpoints()
    assert {"frac_0", "frac_0.5", "frac_1"} <= set(ck)
    t0, _, net0 = ck["frac_0"]
    assert t0 == 0
    # the initial checkpoint is the untrained network of this seed
    from lib.core.network import RNN
    from lib.train.training import seeded_generators

    fresh = RNN(spec.network, generator=seeded_generators(0)[0])
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, net0.state_dict()[k])
        assert torch.equal(v, run.initial_network().state_dict()[k])
    t1, _, net1 = ck["frac_1"]
    assert t1 == 160
    for k, v in run.network().state_dict().items():
        assert torch.equal(v, net1.state_dict()[k])
    # the checkpoint file is covered by the checksums
    p = run.path / "checkpoints.pt"
    b = bytearray(p.read_bytes())
    b[-10] ^= 0xFF
    p.write_bytes(bytes(b))
    assert st.status(spec) == "corrupt"
