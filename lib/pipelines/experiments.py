"""From a notebook's parameters to stored runs, and tidy tables of what they did.

Every chapter notebook has the same ``parameters`` cell conventions:

``mode``
    ``"book"`` (default): use the runs stored in ``data/``; a missing run is an error that
    says how to train it. ``"smoke"``: tiny networks and budgets (seconds), stored in a
    scratch store, never in ``data/``. ``"full"``: paper scale; trains what is missing.
``delta``, ``hidden``, ``seeds``, ``algorithms``, ``semantics``, ``trials``, ``store``
    select the runs (``trials``: the trial regime, ``"reset"`` or ``"continuous"``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lib.core.task import TaskConfig
from lib.pipelines import profiles
from lib.pipelines.profiles import SMOKE_HIDDEN
from lib.store.runs import Store, StoredRun
from lib.train.evaluation import evaluate
from lib.train.spec import ALGORITHMS, RunSpec

log = logging.getLogger(__name__)

__all__ = [
    "MODES",
    "REPO",
    "as_list",
    "chapter_paths",
    "SMOKE_HIDDEN",
    "specs_for",
    "resolve_runs",
    "runs_table",
    "learning_curves",
    "behaviour",
    "output_probabilities",
]

MODES = ("book", "smoke", "full")
#: The repository root: the default store is its ``data/`` folder, whatever the working
#: directory of the notebook (papermill from the root, Jupyter Book from ``notebooks/``).
REPO = Path(__file__).resolve().parents[2]


def as_list(value: object, name: str, item_type: type = int) -> list:
    """A list parameter, given as a list or as its text (papermill's ``-p seeds "[0,1,2]"``
    passes a string), validated.

    Raises
    ------
    ValueError
        Naming the parameter, when ``value`` is not a list of ``item_type`` (a bare item is
        accepted as a one-element list).
    """
    import yaml

    v = value
    if isinstance(v, str):
        try:
            v = yaml.safe_load(v)
        except yaml.YAMLError as e:
            raise ValueError(f"parameter {name!r}: cannot read {value!r} as a list ({e})") from e
    if isinstance(v, item_type) and not isinstance(v, bool):
        v = [v]
    if isinstance(v, tuple):
        v = list(v)
    if not isinstance(v, list) or not all(
        isinstance(x, item_type) and not isinstance(x, bool) for x in v
    ):
        raise ValueError(
            f"parameter {name!r} must be a list of {item_type.__name__}, e.g. "
            f'-y "{name}: [0, 1, 2]" or -p {name} "[0,1,2]"; got {value!r}'
        )
    return v


def chapter_paths(
    chapter: str,
    mode: str,
    store: str | Path | None = None,
    out_dir: str | Path | None = None,
) -> tuple[Path, Path]:
    """Where a chapter reads its runs and writes its figures, independent of the caller's
    working directory.

    ``store=None`` is the repository's ``data/`` (smoke mode: the scratch store
    ``.cache/smoke-store``, so tiny networks never enter ``data/``); ``out_dir=None`` is
    ``notebooks/figures/<chapter>``, where the book links the CSVs from. Paths given
    explicitly are taken as they are (relative ones against the working directory). The
    figure folder is created.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
    if store is None:
        st = REPO / (".cache/smoke-store" if mode == "smoke" else "data")
    else:
        st = Path(store).expanduser().resolve()
    out = (
        REPO / "notebooks" / "figures" / chapter
        if out_dir is None
        else Path(out_dir).expanduser().resolve()
    )
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"out_dir {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return st, out


def _check(mode: str, algorithms: Sequence[str], seeds: Sequence[int]) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
    bad = [a for a in algorithms if a not in ALGORITHMS]
    if bad or not algorithms:
        raise ValueError(
            f"algorithms must be a non-empty subset of {ALGORITHMS}, got {list(algorithms)}"
        )
    if len(seeds) == 0:
        raise ValueError("seeds must not be empty")
    if any((not isinstance(s, int | np.integer)) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be non-negative ints, got {list(seeds)}")


def specs_for(
    mode: str,
    algorithms: Sequence[str],
    seeds: Sequence[int],
    delta: float,
    hidden: int,
    semantics: str = "neurogym1",
    trials: str = "reset",
) -> list[RunSpec]:
    """The run specs a chapter needs, validated before any compute.

    In smoke mode the network has :data:`SMOKE_HIDDEN` units and the trainers tiny budgets,
    so the whole chapter runs in seconds (the networks do not learn the task).
    """
    _check(mode, algorithms, seeds)
    task = TaskConfig(semantics=semantics, trials=trials)
    profile = "smoke" if mode == "smoke" else "paper"
    if mode == "smoke" and int(hidden) != SMOKE_HIDDEN:
        log.warning(
            "smoke mode: hidden=%d ignored; the smoke networks have %d units",
            int(hidden),
            SMOKE_HIDDEN,
        )
    net = profiles.network(profile, delta, hidden)
    trainers = profiles.trainers(profile)
    return [RunSpec(a, int(s), task, net, trainers[a]) for a in algorithms for s in seeds]


def resolve_runs(
    specs: Sequence[RunSpec],
    store: str | Path,
    mode: str,
    progress: bool = True,
    *,
    keep_checkpoints: bool = False,
) -> list[StoredRun]:
    """Load every run; in ``smoke`` and ``full`` mode train the missing ones first (with
    checkpoints along training when ``keep_checkpoints``)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
    st = Store(store)
    return [
        st.get_or_train(
            s, train=mode != "book", progress=progress, keep_checkpoints=keep_checkpoints
        )
        for s in specs
    ]


def runs_table(runs: Sequence[StoredRun]) -> pd.DataFrame:
    """One row per run: algorithm, seed, delta, hidden, convergence and cost."""
    rows = []
    for r in runs:
        m = r.metrics
        rows.append(
            {
                "run_id": r.path.name,
                "algorithm": r.spec.algorithm,
                "seed": r.spec.seed,
                "delta": r.spec.network.delta,
                "hidden": r.spec.network.hidden,
                "converged": m["converged"],
                "trials_to_criterion": m["trials_to_criterion"],
                "steps_to_criterion": m["steps_to_criterion"],
                "trials_seen": m["trials_seen"],
                "wall_seconds": m["wall_seconds"],
                "criterion": m["criterion"],
                "final_accuracy": m["final_accuracy"],
            }
        )
    return pd.DataFrame(rows)


def learning_curves(
    runs: Sequence[StoredRun], grid_points: int = 60
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Learning curves, raw and on a common grid of trials seen.

    Returns
    -------
    raw : DataFrame
        One row per evaluation: algorithm, seed, trials, steps, wall_s, accuracy, ...
    summary : DataFrame
        Per algorithm and grid point (log-spaced trials): mean and sd of accuracy over seeds
        and the number of seeds ``n``. A run that stopped at the criterion keeps its last
        accuracy afterwards (it is not trained further); before its first evaluation it is
        left out.
    """
    rows = []
    for r in runs:
        for p in r.metrics["learning_curve"]:
            rows.append({"algorithm": r.spec.algorithm, "seed": r.spec.seed, **p})
    raw = pd.DataFrame(rows)
    if raw.empty:
        return raw, pd.DataFrame(columns=["algorithm", "trials", "mean", "sd", "n"])
    lo, hi = raw["trials"].min(), raw["trials"].max()
    grid = np.unique(np.geomspace(max(lo, 1), max(hi, lo + 1), grid_points).astype(int))
    out = []
    for alg, g in raw.groupby("algorithm"):
        vals = []
        for _, s in g.groupby("seed"):
            s = s.sort_values("trials")
            idx = np.searchsorted(s["trials"].to_numpy(), grid, side="right") - 1
            v = np.where(idx >= 0, s["accuracy"].to_numpy()[np.clip(idx, 0, None)], np.nan)
            vals.append(v)
        V = np.array(vals)
        n = np.sum(~np.isnan(V), 0)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # one network at a grid point: its sd is NaN (no band there), not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(np.where(n > 0, V, 0), 0)
            sd = (
                np.nanstd(np.where(n > 0, V, 0), 0, ddof=1)
                if V.shape[0] > 1
                else np.zeros(len(grid))
            )
        out.append(pd.DataFrame({"algorithm": alg, "trials": grid, "mean": mean, "sd": sd, "n": n}))
    summary = pd.concat(out, ignore_index=True)
    return raw, summary[summary["n"] > 0].reset_index(drop=True)


def behaviour(
    run: StoredRun, n_trials: int, seed: int = 12345, task: TaskConfig | None = None
) -> pd.DataFrame:
    """Greedy choices of a stored network on fresh trials, one row per trial.

    Columns: algorithm, seed, context (1 or 2), coh1, coh2, relevant, irrelevant (signed,
    percent), correct_choice, choice (0 none, 1, 2), is_correct.
    """
    task = task or run.spec.task
    net = run.network()
    res = evaluate(net, task, n_trials, seed)
    ctx = np.asarray(res["context"])
    c1, c2 = np.asarray(res["coh1"]), np.asarray(res["coh2"])
    return pd.DataFrame(
        {
            "algorithm": run.spec.algorithm,
            "seed": run.spec.seed,
            "context": ctx + 1,
            "coh1": c1,
            "coh2": c2,
            "relevant": np.where(ctx == 0, c1, c2),
            "irrelevant": np.where(ctx == 0, c2, c1),
            "correct_choice": res["correct"],
            "choice": res["choice"],
            "is_correct": np.asarray(res["choice"]) == np.asarray(res["correct"]),
        }
    )


@torch.no_grad()
def output_probabilities(
    run: StoredRun, n_trials: int, delay_steps: int, seed: int = 777
) -> pd.DataFrame:
    """Mean policy probabilities over time on trials with a fixed delay.

    Returns one row per (context, step) with the mean and sd over trials of
    p(fixate), p(correct choice) and p(wrong choice), and the period of the step.
    """
    from lib.core.network import run_trials
    from lib.core.task import PERIOD_NAMES, sample_trials

    task = run.spec.task
    g = torch.Generator().manual_seed(seed)
    tr = sample_trials(task, n_trials, g, delay_steps=torch.full((n_trials,), delay_steps))
    _, logits, _ = run_trials(run.network(), tr, task.trials)
    p = torch.softmax(logits, -1)  # [T, B, 3]
    corr = tr.correct.unsqueeze(0).unsqueeze(-1).expand(p.shape[0], -1, 1)
    p_corr = p.gather(2, corr).squeeze(-1)
    p_fix = p[..., 0]
    p_wrong = 1 - p_corr - p_fix
    rows = []
    for ctx in (0, 1):
        sel = tr.context == ctx
        for t in range(p.shape[0]):
            per = int(tr.period[t, sel][0]) if bool(sel.any()) else -1
            for name, q in (("fixate", p_fix), ("correct", p_corr), ("wrong", p_wrong)):
                v = q[t, sel]
                rows.append(
                    {
                        "algorithm": run.spec.algorithm,
                        "seed": run.spec.seed,
                        "context": ctx + 1,
                        "step": t,
                        "time_ms": t * task.dt,
                        "period": PERIOD_NAMES.get(per, "pad"),
                        "output": name,
                        "mean": float(v.mean()),
                        "sd": float(v.std()) if v.numel() > 1 else 0.0,
                        "n": int(v.numel()),
                    }
                )
    return pd.DataFrame(rows)
