"""The shared figure and table style: what a reader sees in a table cell, a p-value, a CSV
link; the figure helper saves, shows and links, whatever the matplotlib backend."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lib.report import style  # noqa: E402
from lib.report.claims import Claim, claims_display  # noqa: E402


def test_p_values_two_significant_digits_or_a_bound():
    assert style.fmt_p(0.012345) == "0.012"
    assert style.fmt_p(0.5) == "0.5"
    assert style.fmt_p(0.00099) == "< 0.001"
    assert style.fmt_p(float("nan")).startswith("not defined")


def test_headers_are_words():
    assert style.header("qp_fraction_low_coh") == "QP fraction low coherence"
    assert style.header("ci_low") == "CI low"
    assert style.header("spearman_rho") == "Spearman ρ"


def test_table_has_no_index_nan_or_raw_names():
    df = pd.DataFrame(
        {
            "algorithm": ["ppo", "sl"],
            "mean_mi": [0.123456, np.nan],
            "ci_low": [0.1, np.nan],
            "ci_high": [0.2, np.nan],
            "p": [0.0001, 0.2345],
            "rule": ["|x| < 1", "ok"],
        }
    )
    md = style.table(df).data
    header, rule, *rows = md.splitlines()
    assert "mean MI" in header and "95 % CI" in header and "ci_low" not in header
    assert "nan" not in md and "–" in md and "not defined" in md
    assert rows[0].split("|")[1].strip() == "RL" and "< 0.001" in rows[0]
    assert "\\|x\\|" in md  # a pipe in a cell does not break the table
    assert not md.startswith("|    |")  # no index column


def test_large_counts_without_exponent():
    md = style.table(pd.DataFrame({"trials": [44700.5, 78260.0]})).data
    assert "44,700" in md and "78,260" in md and "e+" not in md


def test_tests_table_states_the_direction():
    row = {
        "measure": "qp_fraction",
        "n_RL": 10,
        "n_SL": 10,
        "mean_RL": 0.01,
        "ci_low_RL": 0.0,
        "ci_high_RL": 0.02,
        "mean_SL": 0.3,
        "ci_low_SL": 0.2,
        "ci_high_SL": 0.4,
        "rank_biserial": -1.0,
        "p": 0.0002,
    }
    md = style.tests_table(pd.DataFrame([row])).data
    assert "< 0.001 (RL < SL)" in md and "QP fraction" in md
    assert "needs both" in style.tests_table(pd.DataFrame()).data


def test_source_links_inside_and_outside_the_notebooks(tmp_path):
    inside = style.NOTEBOOKS / "figures" / "x" / "a.csv"
    assert style.source_links([inside]) == "Source data (CSV): {download}`a.csv <figures/x/a.csv>`"
    out = style.source_links([tmp_path / "b.csv"])
    assert "{download}" not in out and str(tmp_path) in out


def test_show_figure_saves_shows_and_checks_its_sources(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    csv = tmp_path / "d.csv"
    csv.write_text("x\n1\n")
    fig, ax = plt.subplots(figsize=(style.FIG_WIDTH, 2))
    ax.plot([0, 1])
    assert style.show_figure(fig, tmp_path / "f.png", [csv]) is None
    png = (tmp_path / "f.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert shown[0].data == png  # the page shows exactly the saved file
    assert not plt.fignum_exists(fig.number)
    from PIL import Image

    assert Image.open(tmp_path / "f.png").width <= style.FIG_WIDTH * style.DPI
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        style.show_figure(plt.figure(), tmp_path / "g.png", [tmp_path / "missing.csv"])


def test_claims_display_links_chapters_and_states_directions():
    rows = [
        Claim(
            "2. hybrid",
            "2",
            "10 RL + 10 SL",
            "e",
            "c",
            "Mann-Whitney",
            2e-4,
            "PARTLY",
            "n",
            "RL < SL",
        ),
        Claim("S. crystallise", "6", "5", "e", "c", "per-network rule", math.nan, "PARTLY", "n"),
    ]
    d = claims_display(pd.DataFrame([r.as_row() for r in rows]))
    assert list(d.columns[:2]) == ["Claim", "Verdict"]
    assert d.Claim[0] == "[2. hybrid](02_attractor_taxonomy.ipynb)"
    assert d["p (direction)"][0] == "< 0.001 (RL < SL)"
    assert "nan" not in d.to_string() and d["p (direction)"][1].startswith("no test")


def test_every_cli_command_has_its_function_and_the_store_no_cycle():
    import subprocess
    import sys

    from lib.__main__ import COMMANDS, build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "cmd")
    assert set(sub.choices) == set(COMMANDS)
    # the store records versions through lib.store.environment, a leaf: importing the store pulls in
    # no analysis module (the former store -> provenance -> census -> store cycle)
    code = (
        "import sys, lib.store.runs; print(sorted(m for m in sys.modules if m.startswith('lib.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for m in (
        "lib.report.provenance",
        "lib.analysis.census",
        "lib.analysis.balance",
        "lib.analysis.sculpting",
    ):
        assert f"'{m}'" not in out.stdout, out.stdout


def test_trajectories_are_one_collection_with_one_colour_each():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots()
    paths = [np.c_[np.arange(5), np.arange(5) ** 2], np.c_[np.arange(3), -np.arange(3)]]
    style.trajectories(ax, paths, ["red", "blue"], end_ms=2)
    (lc,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lc.get_segments()) == 2 and len(lc.get_colors()) == 2
    np.testing.assert_array_equal(lc.get_segments()[0], paths[0])
    ends = [c for c in ax.collections if not isinstance(c, LineCollection)][0].get_offsets()
    np.testing.assert_array_equal(np.asarray(ends), [[4, 16], [2, -2]])
    assert ax.get_xlim()[1] >= 4 and ax.get_ylim()[1] >= 16  # autoscaled to the data
    with pytest.raises(ValueError, match="colours"):
        style.trajectories(ax, paths, ["red"])
    plt.close(fig)
