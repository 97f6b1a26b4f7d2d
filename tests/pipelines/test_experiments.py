"""Chapter 1's learning-curve summary (:func:`lib.pipelines.experiments.learning_curves`) on
hand-written curves: the step-function interpolation, mean, sd and n at every grid point."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np

from lib.pipelines.experiments import learning_curves


def _run(algorithm: str, seed: int, curve: list[tuple[int, float]]) -> SimpleNamespace:
    points = [{"trials": t, "accuracy": a} for t, a in curve]
    return SimpleNamespace(
        spec=SimpleNamespace(algorithm=algorithm, seed=seed),
        metrics={"learning_curve": points},
    )


def test_mean_sd_and_n_of_step_curves_without_warnings():
    runs = [
        _run("ppo", 0, [(100, 0.5), (1000, 0.9)]),
        _run("ppo", 1, [(1000, 0.7), (10000, 0.9)]),  # first evaluated at 1,000 trials
        _run("sl", 0, [(1000, 0.6)]),  # a single network: sd 0 (no band)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # n = 1 at a grid point: NaN sd, no RuntimeWarning
        raw, summary = learning_curves(runs, grid_points=5)
    assert len(raw) == 5
    ppo = summary[summary.algorithm == "ppo"].set_index("trials")
    # the grid is geometric from 100 to 10,000: 100, 316, 1000, 3162, 10000
    assert list(ppo.index) == [100, 316, 1000, 3162, 10000]
    np.testing.assert_allclose(ppo["mean"], [0.5, 0.5, 0.8, 0.8, 0.9])
    assert list(ppo["n"]) == [1, 1, 2, 2, 2]
    assert ppo.loc[[100, 316], "sd"].isna().all()
    np.testing.assert_allclose(ppo.loc[1000, "sd"], np.std([0.9, 0.7], ddof=1))
    assert ppo.loc[10000, "sd"] == 0
    sl = summary[summary.algorithm == "sl"]
    assert list(sl.trials) == [1000, 3162, 10000]  # left out before its first evaluation
    assert (sl["n"] == 1).all() and sl["mean"].eq(0.6).all() and sl["sd"].eq(0).all()
