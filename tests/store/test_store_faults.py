"""The store's guarantees under injected faults (issue 9, section 3): each test injects the
fault and asserts a clear error before compute, or a safe recovery."""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

import lib.analysis.census as census_mod
import lib.pipelines.sweep as sw
import lib.store.runs as store_mod
from lib.__main__ import build_parser, main, train_spec
from lib.core.network import NetworkConfig
from lib.core.task import TaskConfig
from lib.store.runs import CorruptRunError, Store, StoreError, train_command
from lib.train.ppo import PPOConfig
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig
from lib.train.training import MAX_SEED, TrainingDivergedError

ROOT = Path(__file__).resolve().parents[2]


def _no_training(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("must not train")

    monkeypatch.setattr(RunSpec, "train", boom)


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.glob(".tmp-*") if not p.name.endswith(".lock"))


def _rewrite_sums(d: Path) -> None:
    """Make checksums.json agree with the folder's files (as a consistent copy would)."""
    sums = json.loads((d / "checksums.json").read_text())
    (d / "checksums.json").write_text(
        json.dumps({f: store_mod._sha256(d / f) for f in sums}, indent=1, sort_keys=True)
    )


# ---- 1. a diverged network is never stored -------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sl", "ppo"])
def test_diverged_training_raises_and_stores_nothing(tmp_path, algorithm):
    trainer = (
        SLConfig(batch=16, eval_every=5, eval_trials=50, max_trials=200)
        if algorithm == "sl"
        else PPOConfig(n_envs=8, n_steps=16, n_minibatches=2, n_epochs=1, max_trials=200)
    )
    spec = RunSpec(algorithm, 0, TaskConfig(), NetworkConfig(hidden=16, delta=1e6), trainer)
    st = Store(tmp_path)
    with pytest.raises(TrainingDivergedError, match="diverged.*non-finite"):
        st.get_or_train(spec, progress=False)
    assert st.status(spec) == "missing"
    assert not [p for p in st.runs.iterdir() if not p.name.endswith(".lock")]


def test_diverged_training_cli_exit_code(tmp_path, capsys):
    rc = main(
        ["train", "--algorithm", "sl", "--seed", "0", "--hidden", "16", "--delta", "1e6"]
        + ["--max-trials", "200", "--store", str(tmp_path), "--no-progress"]
    )
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: training diverged") and "Traceback" not in err
    assert not list((tmp_path / "runs").glob("[0-9a-f]*"))


def test_save_refuses_non_finite_weights(tmp_path, tiny_spec):
    spec = tiny_spec()
    res = spec.train(progress=False)
    with torch.no_grad():
        res.net.W_rec[0, 0] = float("nan")
    with pytest.raises(TrainingDivergedError, match="non-finite weights"):
        Store(tmp_path).save(spec, res)
    assert Store(tmp_path).status(spec) == "missing"


# ---- 2. a corrupt (or stale) cached analysis is reported and recomputed ---------------------


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("smoke")
    st = sw.run_sweep("complexity", "smoke", root, workers=1, progress=False)
    assert (st.state == "done").all()
    return root


def _census_dir(root: Path, task: sw.SweepTask) -> Path:
    st = Store(root)
    return st.analysis_entry(lambda s: census_mod.census(st.load(task.spec), task.census, s)).path


@pytest.mark.parametrize("fault", ["corrupt_grid", "stale_weights"])
def test_corrupt_cached_analysis_reported_and_recomputed(smoke_store, tmp_path, fault):
    root = tmp_path / "store"
    shutil.copytree(smoke_store, root)
    task = sw.get_sweep("complexity", "smoke")[0]
    d = _census_dir(root, task)
    grid = d / "grid.csv"
    good = grid.read_bytes()
    if fault == "corrupt_grid":
        grid.write_bytes(good[:-20] + b"garbage")
    else:  # an analysis of other weights, internally consistent
        meta = json.loads((d / "meta.json").read_text())
        meta["weights_sha256"] = "0" * 64
        (d / "meta.json").write_text(json.dumps(meta))
        _rewrite_sums(d)
    st = sw.sweep_status("complexity", "smoke", root)
    assert dict(zip(st.run_id, st.state, strict=True))[task.spec.run_id] == "corrupt"
    assert (st.state == "done").sum() == len(st) - 1
    with pytest.raises(CorruptRunError, match="corrupt|stale"):
        census_mod.census(Store(root).load(task.spec), task.census, Store(root), compute=False)
    runs_before = {p: p.stat().st_mtime_ns for p in (root / "runs").iterdir()}
    st = sw.run_sweep("complexity", "smoke", root, workers=1, progress=False)
    assert (st.state == "done").all()
    assert grid.read_bytes() == good  # recomputed, same result
    assert {p: p.stat().st_mtime_ns for p in (root / "runs").iterdir()} == runs_before
    sw.write_summary("complexity", "smoke", root)  # no longer raises
    assert not _leftovers(d.parent)


# ---- 3. folder name and run id must agree -----------------------------------------------------


def test_copied_or_swapped_run_folders_are_reported_and_skipped(
    tmp_path, caplog, capsys, tiny_spec
):
    st = Store(tmp_path)
    a, b, c = (st.get_or_train(tiny_spec(seed=s), progress=False) for s in (0, 1, 2))
    shutil.copytree(a.path, a.path.with_name(a.path.name + "-backup"), symlinks=True)
    # configs swapped between b and c (checksums made consistent, as a careless copy would)
    cb, cc = (r.path / "config.json" for r in (b, c))
    tb, tc = cb.read_text(), cc.read_text()
    cb.write_text(tc)
    cc.write_text(tb)
    _rewrite_sums(b.path)
    _rewrite_sums(c.path)
    with caplog.at_level(logging.WARNING, logger="lib.store.runs"):
        runs = st.all_runs()
    assert [r.path.name for r in runs] == [a.path.name]
    msgs = " ".join(r.getMessage() for r in caplog.records)
    for p in (a.path.name + "-backup", b.path.name, c.path.name):
        assert p in msgs
    assert main(["list", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith(a.path.name)


# ---- 4. the store must be writable before training ---------------------------------------------


def test_store_path_that_is_a_file_rejected_before_training(
    tmp_path, monkeypatch, capsys, tiny_spec
):
    _no_training(monkeypatch)
    f = tmp_path / "store"
    f.write_text("not a folder")
    with pytest.raises(StoreError, match="is a file"):
        Store(f).get_or_train(tiny_spec(), progress=False)
    rc = main(["train", "--algorithm", "sl", "--seed", "0", "--store", str(f)])
    assert rc == 2 and "is a file" in capsys.readouterr().err
    with pytest.raises(StoreError):
        sw.run_sweep("complexity", "smoke", f, workers=1, progress=False)


def test_unwritable_store_rejected_before_training(tmp_path, monkeypatch, tiny_spec):
    _no_training(monkeypatch)

    def denied(d):
        raise PermissionError(13, "Permission denied", str(d))

    monkeypatch.setattr(store_mod, "_probe_write", denied)
    with pytest.raises(StoreError, match="not writable.*Permission denied"):
        Store(tmp_path).get_or_train(tiny_spec(), progress=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_store_rejected_before_training(tmp_path, monkeypatch, tiny_spec):
    _no_training(monkeypatch)
    (tmp_path / "runs").mkdir()
    os.chmod(tmp_path / "runs", 0o555)
    try:
        with pytest.raises(StoreError, match="not writable"):
            Store(tmp_path).get_or_train(tiny_spec(), progress=False)
    finally:
        os.chmod(tmp_path / "runs", 0o755)


def test_analysis_into_unwritable_store_rejected_before_compute(tmp_path, monkeypatch, tiny_spec):
    st = Store(tmp_path)
    run = st.get_or_train(tiny_spec(), progress=False)

    def denied(d):
        raise PermissionError(13, "Permission denied", str(d))

    monkeypatch.setattr(store_mod, "_probe_write", denied)
    calls: list[int] = []
    with pytest.raises(StoreError, match="not writable"):
        st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    assert calls == []


def test_sweep_failure_handler_survives_an_unusable_store(tmp_path, monkeypatch):
    task = sw.get_sweep("complexity", "smoke")[0]

    def fail(*a, **k):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(census_mod, "compute_census", fail)
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "failures").write_text("a file where the failures folder goes")
    res = sw.run_task(task.to_dict(), str(tmp_path))  # must not raise
    assert res["status"] == "failed" and "injected failure" in res["error"]


# ---- 5. replacing a run is safe under races and kills; stale temporaries go ------------------


@pytest.mark.parametrize("existing", ["none", "corrupt", "complete"])
def test_concurrent_saves_of_the_same_run(tmp_path, existing, tiny_spec):
    st = Store(tmp_path)
    spec = tiny_spec()
    res = spec.train(progress=False)
    if existing != "none":
        st.save(spec, res)
        if existing == "corrupt":
            (st.path(spec) / "metrics.json").write_text("{")
    n = 6
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            st.save(spec, res)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert st.status(spec) == "complete"
    assert not _leftovers(st.runs)


_KILL_SCRIPT = """
import os, sys
import lib.store.runs as store_mod
from lib.core.network import NetworkConfig
from lib.store.runs import Store
from lib.train.spec import RunSpec
from lib.train.supervised import SLConfig
from lib.core.task import TaskConfig

real = os.rename
def rename(src, dst):
    real(src, dst)
    if os.path.basename(dst).startswith(".tmp-old-"):
        os._exit(9)  # killed between moving the old run aside and moving the new one in
store_mod.os.rename = rename
spec = RunSpec("sl", 0, TaskConfig(), NetworkConfig(hidden=8),
               SLConfig(batch=8, eval_every=2, eval_trials=50, max_trials=32))
Store(sys.argv[1]).get_or_train(spec, progress=False, keep_checkpoints=True)
"""


def test_kill_between_the_two_renames_keeps_the_run(tmp_path, tiny_spec):
    st = Store(tmp_path)
    spec = tiny_spec()
    run = st.get_or_train(spec, progress=False)
    good = (run.path / "model.pt").read_bytes()
    r = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 9, r.stderr
    assert not run.path.exists()  # the fault really hit between the two steps
    assert any(p.name.startswith(".tmp-old-") for p in st.runs.iterdir())
    assert st.status(spec) == "complete"  # the old run is put back
    assert (run.path / "model.pt").read_bytes() == good
    assert not any(p.name.startswith(".tmp-old-") for p in st.runs.iterdir())
    # the new, complete but never installed temporary is stale: removed once old enough
    assert _leftovers(st.runs)
    st.clean_temporaries(max_age=0)
    assert not _leftovers(st.runs)
    # and the interrupted replacement can simply be done again
    again = st.get_or_train(spec, progress=False, keep_checkpoints=True)
    assert again.has_checkpoints


def test_stale_temporaries_removed_only_when_old_and_unused(tmp_path):
    st = Store(tmp_path)
    st.runs.mkdir(parents=True)
    (tmp_path / "sweeps" / "failures").mkdir(parents=True)
    an = tmp_path / "analyses" / "abcd"
    an.mkdir(parents=True)
    old = time.time() - 2 * store_mod.STALE_SECONDS
    dead_run = st.runs / ".tmp-0123456789abcdef-deadbeef"
    dead_an = an / ".tmp-census-0123-deadbeef"
    dead_file = tmp_path / "sweeps" / "failures" / ".tmp-1234abcd.json"
    young = st.runs / ".tmp-fedcba9876543210-cafecafe"
    for p in (dead_run, dead_an, young):
        p.mkdir()
        (p / "model.pt").write_bytes(b"x")
    dead_file.write_text("{}")
    for p in (dead_run, dead_an, dead_file):
        os.utime(p, (old, old))
    with store_mod._temporary_dir(st.runs / "1111111111111111") as busy:
        os.utime(busy, (old, old))
        removed = st.clean_temporaries()
        assert busy.exists()  # old but in use by a live save
    assert set(removed) == {dead_run, dead_an, dead_file}
    assert young.exists() and not any(p.exists() for p in removed)


# ---- 6. analyses follow the weights --------------------------------------------------------------


def _counting(calls):
    import pandas as pd

    def fn():
        calls.append(1)
        return {"t": pd.DataFrame({"x": [len(calls)]})}

    return fn


def test_analysis_of_other_weights_is_recomputed(tmp_path, tiny_spec):
    st = Store(tmp_path)
    spec = tiny_spec()
    run = st.get_or_train(spec, progress=False)
    calls: list[int] = []
    st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    assert len(calls) == 1
    meta = json.loads((st.analysis_dir(run, "probe", {"v": 1}) / "meta.json").read_text())
    assert meta["weights_sha256"] == run.checksums["model.pt"]
    # the run is recomputed elsewhere (other weights, same id) and copied in consistently
    state = torch.load(run.path / "model.pt", weights_only=True)
    state["W_rec"] = state["W_rec"] * 1.01
    torch.save(state, run.path / "model.pt")
    _rewrite_sums(run.path)
    run2 = st.load(spec)
    assert st.analysis_state(run2, "probe", {"v": 1}).state == "stale"
    with pytest.raises(CorruptRunError, match="stale"):
        st.cached_analysis(run2, "probe", {"v": 1}, _counting(calls), compute=False)
    out = st.cached_analysis(run2, "probe", {"v": 1}, _counting(calls))
    assert len(calls) == 2 and int(out["t"].x[0]) == 2
    assert st.analysis_dir(run2, "probe", {"v": 1}) == st.analysis_dir(run, "probe", {"v": 1})
    assert st.analysis_state(run2, "probe", {"v": 1}).state == "complete"


def _make_legacy(d: Path) -> None:
    meta = json.loads((d / "meta.json").read_text())
    del meta["weights_sha256"]
    (d / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    _rewrite_sums(d)


def test_legacy_analyses_served_then_migrated_idempotently(tmp_path, capsys):
    st = Store(tmp_path)
    spec = RunSpec(
        "sl",
        0,
        TaskConfig(),
        NetworkConfig(hidden=8),
        SLConfig(batch=8, eval_every=2, eval_trials=50, max_trials=64),
    )
    run = st.get_or_train(spec, progress=False, keep_checkpoints=True)
    ck = run.at_checkpoint("frac_0.5")
    calls: list[int] = []
    dirs = []
    for r in (run, ck):
        st.cached_analysis(r, "probe", {"v": 1}, _counting(calls))
        dirs.append(st.analysis_dir(r, "probe", {"v": 1}))
    for d in dirs:
        _make_legacy(d)
    # backward compatible: a legacy entry is served as it is, not recomputed
    for r in (run, ck):
        st.cached_analysis(r, "probe", {"v": 1}, _counting(calls))
    assert len(calls) == 2
    assert main(["migrate", "--store", str(tmp_path), "--dry-run"]) == 0
    assert "would migrate 2 analyses" in capsys.readouterr().out
    assert "weights_sha256" not in json.loads((dirs[0] / "meta.json").read_text())
    assert main(["migrate", "--store", str(tmp_path)]) == 0
    assert "migrated 2 analyses" in capsys.readouterr().out
    m0 = json.loads((dirs[0] / "meta.json").read_text())
    m1 = json.loads((dirs[1] / "meta.json").read_text())
    assert m0["weights_sha256"] == run.checksums["model.pt"]
    assert m1["weights_sha256"] == run.checksums["checkpoints.pt"]
    for r, d in zip((run, ck), dirs, strict=True):
        assert st.analysis_state(r, "probe", {"v": 1}).state == "complete"
        store_mod._verify_analysis_dir(d)  # checksums.json updated consistently
    stamps = {p: p.stat().st_mtime_ns for d in dirs for p in d.iterdir()}
    assert st.migrate_analyses() == {"migrated": 0, "current": 2, "stale": 0, "skipped": 0}
    assert {p: p.stat().st_mtime_ns for d in dirs for p in d.iterdir()} == stamps
    st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    assert len(calls) == 2
    assert not _leftovers(dirs[0].parent)


# ---- 7. small gaps ---------------------------------------------------------------------------


def test_unreachable_scheduler_is_a_short_clean_error(tmp_path, capsys):
    t0 = time.perf_counter()
    rc = main(
        ["sweep", "complexity", "--profile", "smoke", "--store", str(tmp_path)]
        + ["--scheduler", "tcp://127.0.0.1:1"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "cannot reach the Dask scheduler" in err and "Traceback" not in err
    assert time.perf_counter() - t0 < sw.SCHEDULER_TIMEOUT + 5
    assert not list((tmp_path / "runs").glob("[0-9a-f]*"))


@pytest.mark.parametrize("address", ["bogus://x:1", "tcp://host:notaport", "localhost", ""])
def test_bad_scheduler_address_is_a_clean_error(tmp_path, capsys, address):
    with pytest.raises(sw.SchedulerError, match="bad scheduler address"):
        sw.check_scheduler_address(address or "tcp://:0")
    if address:
        rc = main(["sweep", "complexity", "--profile", "smoke", "--scheduler", address])
        assert rc == 2 and "bad scheduler address" in capsys.readouterr().err


def test_huge_seed_rejected_before_compute(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--algorithm", "sl", "--seed", str(2**63)])
    assert e.value.code == 2 and "must be <=" in capsys.readouterr().err
    with pytest.raises(ValueError, match="seed must be an int in"):
        RunSpec("sl", MAX_SEED + 1)
    from lib.train.training import seeded_generators

    seeded_generators(RunSpec("sl", MAX_SEED).seed)  # the largest seed is usable


def test_list_of_no_such_store_is_an_error(tmp_path, capsys):
    assert main(["list", "--store", str(tmp_path / "typo")]) == 2
    assert "no such store" in capsys.readouterr().err
    assert main(["census", "--store", str(tmp_path / "typo")]) == 2


def test_census_grid_must_be_odd(capsys):
    with pytest.raises(SystemExit) as e:
        main(["census", "--grid", "4"])
    assert e.value.code == 2 and "must be odd" in capsys.readouterr().err


@pytest.mark.parametrize(
    "spec",
    [
        RunSpec("ppo", 3, TaskConfig(semantics="neurogym2"), NetworkConfig(delta=0.075)),
        RunSpec("sl", 0, TaskConfig(), NetworkConfig(hidden=16, alpha=0.5), SLConfig(max_trials=7)),
    ],
)
def test_missing_run_hint_reproduces_the_exact_run(tmp_path, spec):
    with pytest.raises(FileNotFoundError) as e:
        Store(tmp_path).get_or_train(spec, train=False)
    msg = str(e.value)
    cmd = msg.split("`")[1]
    assert cmd == train_command(spec, tmp_path)
    argv = shlex.split(cmd)
    assert argv[:4] == ["python", "-m", "lib", "train"]
    assert "--store" in argv and "--semantics" in argv
    args = build_parser().parse_args(argv[3:])
    assert train_spec(args).run_id == spec.run_id
    assert Path(args.store) == tmp_path


def test_missing_run_hint_for_specs_the_cli_cannot_express(tmp_path):
    spec = sw.get_sweep("complexity", "smoke")[0].spec
    assert train_command(spec, tmp_path) is None
    with pytest.raises(FileNotFoundError, match="get_or_train.*sweep"):
        Store(tmp_path).load(spec)


# ---- 7. the verified-read memo -------------------------------------------------------------------


def test_memoised_reads_check_once_and_still_catch_a_later_corruption(
    tmp_path, tiny_spec, monkeypatch
):
    """An entry read twice is verified (hashed) and parsed once; its tables are copies (a
    caller's change does not reach the next reader); a file changed afterwards (new mtime)
    is verified again and found corrupt; a fresh entry (files younger than
    ``MEMO_MIN_AGE_S``) is never memoised."""
    import lib.store.runs as runs_mod

    st = Store(tmp_path)
    run = st.get_or_train(tiny_spec(), progress=False)
    calls: list[int] = []
    st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    d = st.analysis_dir(run, "probe", {"v": 1})
    hashed: list[Path] = []
    real = runs_mod._sha256
    monkeypatch.setattr(runs_mod, "_sha256", lambda p: hashed.append(p) or real(p))
    st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    files = len(list(d.iterdir())) - 1  # checksums.json itself is not hashed
    assert len(hashed) == 2 * files, "a fresh entry must be checked on every read"
    monkeypatch.setattr(runs_mod, "MEMO_MIN_AGE_S", -1.0)  # as if the files had settled
    a = st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    n = len(hashed)
    a["t"].loc[0, "x"] = 99
    b = st.cached_analysis(run, "probe", {"v": 1}, _counting(calls))
    assert len(hashed) == n, "a settled entry was hashed again"
    assert int(b["t"].x[0]) == 1 and len(calls) == 1
    (d / "t.csv").write_text("x\n7\n")  # same size, new modification time
    with pytest.raises(CorruptRunError, match="checksum"):
        st.cached_analysis(run, "probe", {"v": 1}, _counting(calls), compute=False)
    assert st.analysis_state(run, "probe", {"v": 1}).state == "corrupt"
