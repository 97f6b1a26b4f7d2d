"""One strict build of the whole book, then the book checked as a reader sees it: every figure
a notebook makes is on its page, and every page opened in headless Chromium with no network
(images loaded, math rendered, no request to another host, no clipped table, CSV links that
resolve). Screenshots of every page are saved under ``_build/screenshots/`` for a human."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Build the book once, with the caller's ``MPLBACKEND=Agg`` (the Makefile's), which must
    not keep figures off the pages."""
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).parent / "jupyter-book"
    exe = str(jb) if jb.exists() else shutil.which("jupyter-book")
    assert exe, "jupyter-book is not installed"
    start = time.time() - 1
    r = subprocess.run(
        [exe, "build", str(ROOT), "--path-output", str(out), "--warningiserror", "--keep-going"]
        + ["--all"],
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
