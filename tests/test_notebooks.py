"""Every chapter notebook: a papermill run in smoke mode with injected parameters, and an
nbval (lax) run in its default (book) mode against the stored results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_smoke_mode_with_injected_parameters(nb, tmp_path):
    import papermill

    out_dir = tmp_path / "figs"
    papermill.execute_notebook(
        str(nb),
        str(tmp_path / nb.name),
        parameters={"mode": "smoke", "store": str(tmp_path / "store"), "out_dir": str(out_dir)},
        cwd=str(nb.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    csvs = list(out_dir.glob("*.csv"))
    assert csvs, "every panel writes its source data as CSV"
    if nb.stem != "00_claims":  # the claims chapter is a table, not a figure
        assert list(out_dir.glob("*.png")), "figures are saved beside their CSV"


@pytest.mark.slow
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_passes_nbval_in_book_mode(nb):
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", str(nb)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
