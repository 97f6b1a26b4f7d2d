"""One strict build of the whole book, then the book checked as a reader sees it: every figure
a notebook makes is on its page, and every page opened in headless Chromium with no network
(images loaded, math rendered, no request to another host, no clipped table, CSV links that
resolve). Screenshots of every page are saved under ``_build/screenshots/`` for a human."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))

# Every test of this module shares the one build: ``make test`` runs pytest-xdist with
# ``--dist loadfile``, so that this file's tests run in one worker and the book is built once.
# (``loadgroup`` with an ``xdist_group`` mark did not group them: with pytest 9.2 and
# pytest-xdist 3.8 the group suffix never reached the node ids, and the book was built twice.)


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """Build the book once, as ``make book`` does (``book/build.py``: the chapters executed
    two at a time into Jupyter Book's cache, then the strict Jupyter Book build), with the caller's ``MPLBACKEND=Agg`` (the Makefile's), which must
    not keep figures off the pages. Session-scoped: a module-scoped build is torn down and
    built again whenever a test of another module (the group's test in ``test_docs.py``) runs
    between two of this module's."""
    out = tmp_path_factory.mktemp("book")
    start = time.time() - 1
    r = subprocess.run(  # as `make book` builds it (book/build.py), into its own folder
        [sys.executable, str(ROOT / "book" / "build.py"), "--path-output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3000,
        env={**os.environ, "MPLBACKEND": "Agg"},
        check=False,
    )
    return {"result": r, "build": out / "_build", "start": start}


@pytest.mark.slow
def test_book_builds_strictly(book):
    r = book["result"]
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    html = book["build"] / "html"
    assert (html / "index.html").exists()
    for ch in CHAPTERS:
        assert (html / "notebooks" / f"{ch}.html").exists(), ch


def _image_outputs(nb: Path) -> int:
    cells = json.loads(nb.read_text())["cells"]
    return sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []) if c)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_figure_reaches_its_page(book, chapter):
    """The page holds at least as many images as the figures its notebook saved during this
    build and as the image outputs of its executed notebook; chapters with figures have some."""
    assert book["result"].returncode == 0
    page = (book["build"] / "html" / "notebooks" / f"{chapter}.html").read_text()
    imgs = len(re.findall(r"<img\b", page))
    executed = book["build"] / "jupyter_execute" / "notebooks" / f"{chapter}.ipynb"
    shown = _image_outputs(executed)
    saved = [
        p
        for p in (ROOT / "notebooks" / "figures" / chapter).glob("*.png")
        if p.stat().st_mtime >= book["start"]
    ]
    assert imgs >= shown and imgs >= len(saved), (chapter, imgs, shown, len(saved))
    if chapter != "00_claims":  # the claims chapter is a table
        assert saved and imgs > 0, f"{chapter}: no figure on the page"
        assert len(re.findall(r'href="[^"]*\.csv"', page)) >= len(saved), "a figure lacks its CSV"


@pytest.mark.slow
def test_pages_in_a_browser_without_network(book):
    from browser import check_book, first_table_fits, height_limit

    assert book["result"].returncode == 0
    reports = check_book(book["build"] / "html", ROOT / "_build" / "screenshots")
    problems = {r.page: r.problems() for r in reports if r.problems()}
    assert not problems, problems
    by_page = {r.page: r for r in reports}
    assert by_page["book/methods.html"].math_rendered > 0, "MathJax did not render"
    for ch in CHAPTERS[1:]:
        r = by_page[f"notebooks/{ch}.html"]
        assert r.images > 0 and r.csv_links > 0, ch
    assert all(r.screenshot and r.screenshot.stat().st_size > 0 for r in reports)
    heights = {r.page: r.height_px for r in reports}
    print("page heights at 1400 px:", heights)
    tall = {p: (h, height_limit(p)) for p, h in heights.items() if h > height_limit(p)}
    assert not tall, f"pages taller than their limit (height, limit): {tall}"
    claims = by_page["notebooks/00_claims.html"]
    assert not first_table_fits(claims), first_table_fits(claims)
    # the forest plot: the page's first image loaded (no broken image) with its CSV beside it
    assert claims.images >= 1 and not claims.broken_images, "forest plot missing"
    assert any(u.endswith("qp_forest.csv") for u in claims.csv_urls), "forest plot's CSV missing"


#: The chapters whose key numbers nbval checks (an ``NBVAL_CHECK_OUTPUT`` cell); in the others
#: nbval's lax mode checks only that every cell runs, which the strict build already does.
CHECKED_CHAPTERS = (
    "00_claims",
    "08_open_choices",
    "08b_census_choices",
    "09_why",
    "09b_predictors",
)


class NbvalComparison:
    """nbval's own comparison of one cell's outputs (``nbval.plugin.IPyNbCell.compare_outputs``
    with nbval's default skip list and no sanitising, as ``pytest --nbval-lax`` applies it),
    run on the strict build's execution of the notebook instead of a second execution."""

    from nbval.plugin import IPyNbCell, nocolors

    colors = nocolors
    compare_outputs = IPyNbCell.compare_outputs
    format_output_compare = IPyNbCell.format_output_compare
    sanitize = IPyNbCell.sanitize

    def __init__(self) -> None:
        from types import SimpleNamespace

        # IPyNbFile.__init__'s skip list (without --nbdime: images are not compared)
        skip = ("metadata", "traceback", "prompt_number", "output_type", "name")
        skip += ("execution_count", "application/vnd.jupyter.widget-view+json")
        self.parent = SimpleNamespace(skip_compare=skip + ("image/png", "image/jpeg"))
        self.parent.sanitize_patterns = {}
        self.comparison_traceback: list[str] = []
        # no pytest item behind it: nbval's fallback report of a difference (both sides)
        self.config = None
        self.ihook = SimpleNamespace(pytest_assertrepr_compare=lambda **_: [])


def checked_cells(ref: dict, run: dict) -> list[tuple[int, list, list]]:
    """The code cells nbval checks in lax mode (``# NBVAL_CHECK_OUTPUT``), as (code cell
    number, reference outputs, executed outputs), both coalesced as nbval coalesces them.
    Raises when the reference cell is unrun but has outputs (nbval's own error)."""
    import nbformat
    from nbval.plugin import coalesce_streams, find_comment_markers

    # as nbformat reads a file (a cell's source stored as a list of lines becomes one string)
    ref_nb, run_nb = (nbformat.reads(json.dumps(nb), as_version=4) for nb in (ref, run))
    ref_code = [c for c in ref_nb.cells if c.cell_type == "code"]
    run_code = [c for c in run_nb.cells if c.cell_type == "code"]
    assert len(ref_code) == len(run_code), "the executed notebook has other cells"
    out = []
    for i, (c, r) in enumerate(zip(ref_code, run_code, strict=True)):
        if not dict(find_comment_markers(c.source)).get("check"):
            continue
        if c.execution_count is None:
            assert not c.outputs, f"cell {i}: unrun reference cell has outputs"
            continue
        out.append((i, coalesce_streams(r.outputs), coalesce_streams(c.outputs)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_checked_outputs_match_the_build(book, chapter):
    """nbval on the one strict build: every ``NBVAL_CHECK_OUTPUT`` cell's reference outputs
    equal the build's execution of it (a silent change of the stored results fails here). The
    reference outputs are refreshed on purpose with ``tests/book/refresh_nbval.py``."""
    assert book["result"].returncode == 0
    ref = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())
    run = json.loads(
        (book["build"] / "jupyter_execute" / "notebooks" / f"{chapter}.ipynb").read_text()
    )
    cells = checked_cells(ref, run)
    if chapter in CHECKED_CHAPTERS:
        assert cells, f"{chapter} has no NBVAL_CHECK_OUTPUT cell with reference outputs"
    for i, test, reference in cells:
        cmp = NbvalComparison()
        assert cmp.compare_outputs(test, reference), f"cell {i}:\n" + "\n".join(
            cmp.comparison_traceback
        )


def test_the_nbval_comparison_catches_a_changed_number():
    """The comparison above is nbval's: equal stream outputs pass, one changed digit fails,
    and an unrun reference cell with outputs is an error."""

    def nb(text: str, count: int | None = 1) -> dict:
        cell = {
            "cell_type": "code",
            "execution_count": count,
            "metadata": {},
            "source": ["# NBVAL_CHECK_OUTPUT\n", "print(x)"],  # as stored in a .ipynb
            "outputs": [{"output_type": "stream", "name": "stdout", "text": text}],
        }
        plain = {"cell_type": "code", "execution_count": 2, "metadata": {}, "source": "y = 1"}
        plain["outputs"] = []
        return {"cells": [plain, cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}

    ((i, test, ref),) = checked_cells(nb("QP 0.512\n"), nb("QP 0.512\n"))
    assert i == 1 and NbvalComparison().compare_outputs(test, ref)
    ((_, test, ref),) = checked_cells(nb("QP 0.512\n"), nb("QP 0.513\n"))
    cmp = NbvalComparison()
    assert not cmp.compare_outputs(test, ref) and cmp.comparison_traceback
    with pytest.raises(AssertionError, match="unrun"):
        checked_cells(nb("QP 0.512\n", None), nb("QP 0.512\n"))


# run as the README prints it; here, in the book's worker, because it writes the same
# notebooks/figures/ folder as the build
@pytest.mark.slow
def test_notebook_run_from_the_root_uses_the_repository_folders(tmp_path):
    """As printed in the README (papermill from the root, no --cwd): a chapter reads the
    repository's data/ and writes into notebooks/figures/, not beside the caller (chapter 8:
    one of the quickest in book mode)."""
    start = time.time() - 1
    out = ROOT / "notebooks" / "figures" / "08_open_choices" / "table_variant_networks.csv"
    r = subprocess.run(
        [
            str(ROOT / ".venv/bin/papermill"),
            "notebooks/08_open_choices.ipynb",
            str(tmp_path / "o.ipynb"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert out.stat().st_mtime >= start
    assert len(out.read_text().splitlines()) > 20, "the stored networks were not found"
    assert not (ROOT / "figures").exists()
    assert not (ROOT.parent / "data" / "runs").exists()
