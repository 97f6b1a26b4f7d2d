"""Every chapter notebook that computes: a papermill run in smoke mode with injected parameters
and one with another parameter set. The book mode of every chapter is executed once, by the
strict build of ``test_book.py``, which also holds the nbval check of its outputs.

Chapters that only read the store (their smoke mode *is* the book mode: the claims, 8, 8b, 9,
9b) are not executed here again: a papermill run of them would repeat the build's execution."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def reads_only(nb: Path) -> bool:
    """Whether the chapter's smoke mode is its book mode (it reads the store, computes nothing)."""
    return '\\"book\\" if mode == \\"smoke\\" else mode' in nb.read_text()


COMPUTING = [nb for nb in NOTEBOOKS if not reads_only(nb)]


#: Seeds of the smoke runs of the chapters that take ``seeds``: three networks per algorithm
#: are as few as still test every panel and statistic (the book's ten are the strict build's).
SMOKE_SEEDS = [0, 1, 2]


def smoke_parameters(nb: Path, store: Path, out_dir: Path) -> dict:
    """Smoke mode, the session's smoke store, a scratch figure folder and, where the chapter
    takes them, :data:`SMOKE_SEEDS`."""
    params = {"mode": "smoke", "store": str(store), "out_dir": str(out_dir)}
    if '"seeds = [' in nb.read_text():
        params["seeds"] = SMOKE_SEEDS
    return params


@pytest.mark.slow
@pytest.mark.parametrize("nb", COMPUTING, ids=lambda p: p.stem)
def test_notebook_runs_in_smoke_mode_with_injected_parameters(nb, tmp_path, smoke_store):
    import papermill

    out_dir = tmp_path / "figs"
    params = smoke_parameters(nb, smoke_store, out_dir)
    papermill.execute_notebook(
        str(nb),
        str(tmp_path / nb.name),
        parameters=params,
        cwd=str(nb.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    csvs = list(out_dir.glob("*.csv"))
    assert csvs, "every panel writes its source data as CSV"
    if "seeds" in params:  # the injected list reached the chapter (not its default ten)
        executed = (tmp_path / nb.name).read_text()
        assert "seeds = [0, 1, 2]" in executed
    if nb.stem != "00_claims":  # the claims chapter is a table, not a figure
        assert list(out_dir.glob("*.png")), "figures are saved beside their CSV"


#: One non-default parameter set per chapter: one algorithm only, other seeds and δ, an
#: example seed that is not selected, lists given as papermill's ``-p`` gives them (text).
OTHER_PARAMETERS = {
    "01_training": {
        "algorithms": ["sl"],
        "seeds": "[3]",
        "delta": 0.05,
        "n_behaviour_trials": 200,
        "trials": "continuous",
    },
    "02_attractor_taxonomy": {
        "algorithms": ["ppo"],
        "seeds": [2],
        "grid": 5,
        "example_seed": 7,
        "trials": "continuous",
    },
    "03_balance": {"algorithms": ["sl"], "seeds": "[1]", "workers": 1},
    "04_initialization": {"workers": 1, "trials": "continuous"},
    "05_task_complexity": {"workers": 1},
    "06_sculpting": {"algorithms": ["ppo"], "seeds": [1], "example_seed": 5, "level": 0.8},
    "07_information": {"algorithms": "[sl]", "seeds": [2], "delta": 0.15},
}


@pytest.mark.slow
@pytest.mark.parametrize("nb", COMPUTING, ids=lambda p: p.stem)
def test_notebook_survives_other_parameters(nb, tmp_path, smoke_store):
    """Every chapter runs with a parameter set other than its default; where the selected
    networks lack what a panel shows, the page says so instead of failing."""
    import papermill

    assert set(OTHER_PARAMETERS) == {p.stem for p in COMPUTING}
    out_dir = tmp_path / "figs"
    papermill.execute_notebook(
        str(nb),
        str(tmp_path / nb.name),
        parameters={
            "mode": "smoke",
            "store": str(smoke_store),
            "out_dir": str(out_dir),
            **OTHER_PARAMETERS[nb.stem],
        },
        cwd=str(tmp_path),  # not the notebooks' folder: paths must not depend on it
        kernel_name="python3",
        progress_bar=False,
    )
    assert list(out_dir.glob("*.csv"))


def test_list_parameters_are_read_or_rejected_by_name():
    from lib.pipelines.experiments import as_list

    assert as_list("[0,1,2]", "seeds") == [0, 1, 2]
    assert as_list([4], "seeds") == [4] and as_list(3, "seeds") == [3]
    assert as_list("[ppo, sl]", "algorithms", str) == ["ppo", "sl"]
    for bad in ("[0,", "zero", "[0.5]", [True]):
        with pytest.raises(ValueError, match="seeds"):
            as_list(bad, "seeds")


def test_chapter_paths_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    from lib.pipelines.experiments import REPO, chapter_paths

    monkeypatch.chdir(tmp_path)
    store, out = chapter_paths("01_training", "book")
    assert store == REPO / "data" and out == REPO / "notebooks" / "figures" / "01_training"
    assert chapter_paths("01_training", "smoke")[0] == REPO / ".cache" / "smoke-store"
    store, out = chapter_paths("01_training", "full", "mystore", "figs")
    assert store == tmp_path / "mystore" and out == tmp_path / "figs" and out.is_dir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(NotADirectoryError):
        chapter_paths("01_training", "full", None, tmp_path / "afile")
    with pytest.raises(ValueError, match="mode"):
        chapter_paths("01_training", "fast")


def test_the_read_only_chapters_are_the_expected_ones():
    """A chapter that computes must not be mistaken for one that only reads."""
    assert {nb.stem for nb in NOTEBOOKS if reads_only(nb)} == {
        "00_claims",
        "08_open_choices",
        "08b_census_choices",
        "09_why",
        "09b_predictors",
    }
