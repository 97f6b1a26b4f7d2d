"""The sweep engine: local and Dask execution, resume after SIGKILL, corruption, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lib.pipelines.sweep as sw
from lib.store.runs import Store

ROOT = Path(__file__).resolve().parents[2]


def test_bad_sweeps_rejected_before_compute(tmp_path):
    with pytest.raises(ValueError, match="unknown sweep"):
        sw.get_sweep("nope")
    with pytest.raises(ValueError, match="unknown profile"):
        sw.get_sweep("complexity", "huge")
    with pytest.raises(ValueError):
        sw.run_sweep("complexity", "smoke", tmp_path, workers=0)
    r = subprocess.run(
        [sys.executable, "-m", "lib", "sweep", "nope", "--store", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "unknown sweep" in r.stderr
    assert not (tmp_path / "runs").exists()


def test_failure_table_reads_records_without_compute(tmp_path):
    tasks = sw.get_sweep("initialization", "smoke", "continuous")
    assert sw.failure_table("initialization", "smoke", tmp_path, "continuous").empty
    fail = tmp_path / "sweeps" / "failures"
    fail.mkdir(parents=True)
    a, b = tasks[0].spec, tasks[-1].spec
    rec = {"run_id": a.run_id, "error": "TrainingDivergedError('non-finite loss')"}
    (fail / f"{a.run_id}.json").write_text(json.dumps(rec))
    (fail / f"{b.run_id}.json").write_text("{not json")
    tab = sw.failure_table("initialization", "smoke", tmp_path, "continuous").set_index("run_id")
    assert list(tab.index) == [a.run_id, b.run_id]
    assert tab.loc[a.run_id, "error"] == "TrainingDivergedError('non-finite loss')"
    assert tab.loc[a.run_id, "seed"] == a.seed and tab.loc[a.run_id, "delta"] == a.network.delta
    assert tab.loc[b.run_id, "error"] == "unreadable failure record"
    assert sw.failed_runs("initialization", "smoke", tmp_path, "continuous") == list(tab.index)
    r = subprocess.run(
        [sys.executable, "-m", "lib", "sweep", "initialization", "--profile", "smoke"]
        + ["--trials", "continuous", "--status", "--store", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "2 failed" in r.stdout
    assert f"failed: {a.run_id} {a.algorithm} seed={a.seed}" in r.stdout
    assert "non-finite loss" in r.stdout and "unreadable failure record" in r.stdout
    assert not (tmp_path / "runs").exists()


def test_sweep_definitions():
    init = sw.get_sweep("initialization", "paper")
    assert len(init) == 2 * len(sw.PAPER_DELTAS) * len(sw.PAPER_SEEDS) >= 100
    radii = sorted({t.spec.network.expected_spectral_radius for t in init})
    assert radii[0] == pytest.approx(0.5, abs=0.05) and radii[-1] == pytest.approx(1.5, abs=0.05)
    comp = sw.get_sweep("complexity", "paper")
    assert {sw.level_of(t.spec.task) for t in comp} == {"easy", "standard", "hard"}
    # the standard level at the default delta is the same run as in the initialization sweep
    assert {t.spec.run_id for t in comp} & {t.spec.run_id for t in init}


def test_local_sweep_computes_once_and_resumes(tmp_path):
    st = sw.run_sweep("complexity", "smoke", tmp_path, workers=1, progress=False)
    assert (st.state == "done").all() and len(st) == 4
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").iterdir()}
    again = sw.run_sweep("complexity", "smoke", tmp_path, workers=1, progress=False)
    assert (again.state == "done").all()
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").iterdir()} == stamps
    tab = sw.summary_table("complexity", "smoke", tmp_path)
    assert len(tab) == 4 and {"qp_fraction", "converged", "spectral_radius_after"} <= set(
        tab.columns
    )
    # the spectral radius is that of the stored W_rec, and spectra=False only drops it
    run = Store(tmp_path).load(sw.get_sweep("complexity", "smoke")[0].spec)
    W = run.network().W_rec.detach().double().numpy()
    assert tab.spectral_radius_after[0] == pytest.approx(np.abs(np.linalg.eigvals(W)).max())
    fast = sw.summary_table("complexity", "smoke", tmp_path, spectra=False)
    spectra = ["spectral_radius_before", "spectral_radius_after"]
    pd.testing.assert_frame_equal(fast, tab.drop(columns=spectra))


def test_corrupt_file_is_detected_and_recomputed(tmp_path):
    sw.run_sweep("complexity", "smoke", tmp_path, workers=1, progress=False)
    task = sw.get_sweep("complexity", "smoke")[0]
    model = Store(tmp_path).path(task.spec) / "model.pt"
    good = model.read_bytes()
    model.write_bytes(good[:-7] + b"garbage")
    st = sw.sweep_status("complexity", "smoke", tmp_path)
    assert (st.state == "corrupt").sum() == 1
    st = sw.run_sweep("complexity", "smoke", tmp_path, workers=1, progress=False)
    assert (st.state == "done").all()
    assert model.read_bytes() == good  # same seed, same network


def test_dask_cluster_and_failing_run_isolated(tmp_path, monkeypatch):
    from dask.distributed import LocalCluster

    tasks = sw.get_sweep("complexity", "smoke")
    bad = tasks[1].spec.run_id
    import lib.analysis.census as census_mod

    real = census_mod.compute_census

    def flaky(run, *a, **k):  # the computation fails, the cache lookup is untouched
        if run.path.name == bad:
            raise RuntimeError("injected failure")
        return real(run, *a, **k)

    monkeypatch.setattr(census_mod, "compute_census", flaky)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        st = sw.run_sweep(
            "complexity", "smoke", tmp_path, scheduler=cluster.scheduler_address, progress=False
        )
    states = dict(zip(st.run_id, st.state, strict=True))
    assert states.pop(bad) == "failed"
    assert set(states.values()) == {"done"}
    rec = (tmp_path / "sweeps" / "failures" / f"{bad}.json").read_text()
    assert "injected failure" in rec and "Traceback" in rec
    assert sw.failed_runs("complexity", "smoke", tmp_path) == [bad]
    assert "injected failure" in sw.failure_table("complexity", "smoke", tmp_path).error.item()
    monkeypatch.setattr(census_mod, "compute_census", real)
    st = sw.run_sweep("complexity", "smoke", tmp_path, workers=1, progress=False, retry_failed=True)
    assert (st.state == "done").all()
    assert not (tmp_path / "sweeps" / "failures" / f"{bad}.json").exists()
    assert sw.failed_runs("complexity", "smoke", tmp_path) == []


@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes_without_loss(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "lib",
        "sweep",
        "initialization",
        "--profile",
        "smoke",
        "--workers",
        "1",
        "--store",
        str(tmp_path),
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 240
    runs = tmp_path / "runs"
    while time.time() < deadline:
        if runs.exists() and sum(1 for p in runs.iterdir() if (p / "checksums.json").exists()) >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI, the scheduler and the workers
    proc.wait(timeout=30)
    st = sw.sweep_status("initialization", "smoke", tmp_path)
    assert "corrupt" not in set(st.state)
    assert (st.state == "done").sum() < len(st)  # it was really interrupted
    st = sw.run_sweep("initialization", "smoke", tmp_path, workers=1, progress=False)
    assert (st.state == "done").all()
    store = Store(tmp_path)
    for t in sw.get_sweep("initialization", "smoke"):
        store.verify(t.spec)


def test_all_sweep_is_the_union_without_duplicates():
    for profile in ("smoke", "paper"):
        both = sw.get_sweep("initialization", profile) + sw.get_sweep("complexity", profile)
        union = sw.get_sweep("all", profile)
        ids = [t.spec.run_id for t in union]
        assert len(ids) == len(set(ids)) == len({t.spec.run_id for t in both})
        keep = {t.spec.run_id for t in both if t.keep_checkpoints}
        assert {t.spec.run_id for t in union if t.keep_checkpoints} == keep
    assert len(sw.get_sweep("all", "paper")) == 140  # 100 + 60 − the 20 shared default runs


def test_summary_csv_is_derived_from_the_store(tmp_path):
    sw.run_sweep("complexity", "smoke", tmp_path, workers=1, progress=False)
    path = sw.write_summary("complexity", "smoke", tmp_path)
    assert path == tmp_path / "sweeps" / "complexity-smoke.csv"
    csv = pd.read_csv(path)
    tab = sw.summary_table("complexity", "smoke", tmp_path)
    assert list(csv.run_id) == list(tab.run_id) and len(csv) == len(
        sw.get_sweep("complexity", "smoke")
    )
    assert {"qp_fraction", "census_seconds", "populations_seconds", "balance_ds"} <= set(
        csv.columns
    )
    cost = sw.cost_table(tab)
    total = cost.iloc[-1]
    assert total.algorithm == "all" and total.runs == len(tab) == cost.runs.iloc[:-1].sum()
    assert total["census worker-h"] == pytest.approx(tab.census_seconds.sum() / 3600)
    assert (cost["populations median s"] > 0).all()


def test_cost_table_medians_and_totals():
    tab = pd.DataFrame(
        {
            "variant": [None, None, None, "leaky"],
            "level": ["standard"] * 3 + [None],  # a variant's task is no named level
            "delta": [0.1] * 4,
            "algorithm": ["ppo", "ppo", "ppo", "sl"],
            "wall_seconds": [10.0, 20.0, 60.0, 7.0],
            "census_seconds": [1.0, 2.0, float("nan"), 4.0],  # one census not stored yet
        }
    )
    c = sw.cost_table(tab).set_index(["variant", "algorithm"])
    assert c.loc[("-", "ppo"), "runs"] == 3 and c.loc[("-", "ppo"), "training median s"] == 20.0
    assert c.loc[("-", "ppo"), "census median s"] == 1.5  # the missing census is not a zero
    assert c.loc[("leaky", "sl"), "runs"] == 1 and c.loc[("leaky", "sl"), "level"] == "-"
    assert c.loc[("all", "all"), "training worker-h"] == pytest.approx(97 / 3600)
    assert c.loc[("all", "all"), "census worker-h"] == pytest.approx(7 / 3600)
    assert c["populations median s"].isna().all()  # a stage never stored stays missing
    assert sw.cost_table(tab.iloc[0:0]).empty
