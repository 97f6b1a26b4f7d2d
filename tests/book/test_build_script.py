"""``book/build.py`` (what ``make book`` and the test build run): its chapter list, its order
and the configuration it hands to Jupyter Book. The build itself is ``test_book.py``'s."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# importable by name (``book_build``) in the processes its pool spawns, which get this sys.path
sys.path.insert(0, str(Path(__file__).resolve().parent))
spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
build = importlib.util.module_from_spec(spec)
sys.modules["book_build"] = build
spec.loader.exec_module(build)


def test_every_notebook_of_the_toc_is_executed_and_nothing_else():
    nbs = build.chapters()
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    expected = [c["file"] for c in toc["chapters"] if (ROOT / f"{c['file']}.ipynb").exists()]
    assert [str(p.relative_to(ROOT))[: -len(".ipynb")] for p in nbs] == expected
    assert set(build.SLOWEST_FIRST) <= {p.stem for p in nbs}


def test_the_cache_config_is_the_books_with_the_cache_read(tmp_path):
    cfg_path = build.cache_config(tmp_path, tmp_path / "cache")
    cfg, own = (
        yaml.safe_load(cfg_path.read_text()),
        yaml.safe_load((ROOT / "_config.yml").read_text()),
    )
    assert cfg["execute"]["execute_notebooks"] == "cache"
    assert cfg["execute"]["cache"] == str(tmp_path / "cache")
    assert own["execute"]["execute_notebooks"] == "force"  # a plain jupyter-book build re-executes
    assert {k: v for k, v in cfg.items() if k != "execute"} == {
        k: v for k, v in own.items() if k != "execute"
    }


def test_a_missing_or_broken_earlier_cache_only_loses_the_order(tmp_path):
    assert build.previous_runtimes(tmp_path / "none") == {}
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "global.db").write_text("not a database")
    assert build.previous_runtimes(tmp_path / "broken") == {}


def test_a_failing_notebook_is_reported_and_not_cached(tmp_path):
    import nbformat

    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    for path, src in ((good, "x = 1 + 1\nprint(x)"), (bad, "raise ValueError('broken chapter')")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)])
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, path)
    times, failed = build.execute_into_cache([good, bad], tmp_path / "cache", 1)
    assert set(times) == {str(good)} and set(failed) == {str(bad)}
    assert "broken chapter" in failed[str(bad)]
    from jupyter_cache import get_cache

    cached = [r.uri for r in get_cache(tmp_path / "cache").list_cache_records()]
    assert cached == [str(good)]
