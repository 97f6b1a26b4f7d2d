"""One figure and table style for every chapter: colours, labels, sizes, and how a figure,
its source data and a table reach the rendered page.

Every chapter notebook calls :func:`setup` once and shows each figure with
:func:`show_figure`, which saves the PNG, embeds exactly that file in the notebook (so it
appears in the book whatever matplotlib backend the caller selected, ``MPLBACKEND=Agg``
included) and puts a download link to each CSV the figure plots beside it. Tables go through
:func:`table`: words for headers, no index column, p-values with two significant digits,
no ``nan``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "folded",
    "COLORS",
    "LABELS",
    "SHORT",
    "CHOICE_COLORS",
    "CATEGORY_COLORS",
    "FIG_WIDTH",
    "DPI",
    "NOTEBOOKS",
    "setup",
    "show_figure",
    "source_links",
    "fmt_p",
    "fmt_ci",
    "header",
    "table",
    "tests_table",
]

#: One colour per algorithm, in every chapter.
COLORS: dict[str, str] = {"ppo": "#c0392b", "sl": "#2471a3"}
#: Legend labels per algorithm.
LABELS: dict[str, str] = {"ppo": "RL (PPO)", "sl": "SL (Adam + CE)"}
#: Short labels (tables, axis ticks).
SHORT: dict[str, str] = {"ppo": "RL", "sl": "SL"}
#: Colour of a trial or fixed point by its (correct) choice, in every chapter.
CHOICE_COLORS: dict[int, str] = {1: "#1b9e77", 2: "#d95f02"}
#: Colours of the census categories, in the order of :data:`lib.analysis.census.CATEGORIES`.
CATEGORY_COLORS: tuple[str, ...] = (
    "#000000",
    "#e67e22",
    "#f1c40f",
    "#95a5a6",
    "#8e44ad",
    "#d2b4de",
    "#1abc9c",
    "#d6eaf8",
)
#: Width of the book's text column in inches at :data:`DPI` (780 px): figures no wider than
#: this are shown at their natural size, so their fonts keep the sizes set in :func:`setup`.
FIG_WIDTH = 7.8
#: Resolution of the saved and shown PNGs.
DPI = 100
#: The chapter notebooks' folder; CSV links are written relative to it.
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

_HEADER_WORDS = {
    "ci": "CI",
    "ci_low": "CI low",
    "ci_high": "CI high",
    "rl": "RL",
    "sl": "SL",
    "qp": "QP",
    "fp": "FP",
    "mi": "MI",
    "sd": "sd",
    "n": "n",
    "p": "p",
    "ppo": "RL",
    "ds": "decision states",
    "sel": "selectivity",
    "coh": "coherence",
    "rbc": "rank-biserial r",
    "frac_sig": "fraction significant",
    "mean_mi": "mean MI",
    "relevant_coh": "relevant coherence",
    "irrelevant_coh": "irrelevant coherence",
    "spearman_rho": "Spearman ρ",
    "pearson_r": "Pearson r",
    "rho_p": "p (Spearman)",
    "U": "U",
    "rank_biserial": "rank-biserial r",
    "mean_rl": "mean RL",
    "mean_sl": "mean SL",
    "n_rl": "n RL",
    "n_sl": "n SL",
}


def setup() -> None:
    """Figure style for a chapter: seaborn ``ticks``, readable font sizes for the 780-px
    column, and the inline backend when running in a notebook kernel (figures are shown by
    :func:`show_figure` in any case)."""
    import matplotlib as mpl
    import seaborn as sns

    try:  # a notebook kernel: draw inline whatever MPLBACKEND says
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None and getattr(ip, "kernel", None) is not None:
            ip.run_line_magic("matplotlib", "inline")
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks only
        pass
    sns.set_theme(context="notebook", style="ticks")
    mpl.rcParams.update(
        {
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "font.size": 10,
            "axes.titlesize": 10.5,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "legend.title_fontsize": 9,
            "figure.titlesize": 11,
            "figure.constrained_layout.use": True,
        }
    )


def source_links(paths: Iterable[str | Path], base: Path = NOTEBOOKS) -> str:
    """Markdown that links each CSV for download from the built book.

    Paths inside ``base`` (the notebooks' folder, where the book finds them) become MyST
    ``{download}`` roles, which copy the file into the site; paths elsewhere (a scratch folder
    of a rerun) are printed as plain paths.
    """
    items = []
    for p in paths:
        p = Path(p).resolve()
        try:
            rel = p.relative_to(base.resolve()).as_posix()
        except ValueError:
            items.append(f"`{p}`")
            continue
        items.append(f"{{download}}`{p.name} <{rel}>`")
    return ("Source data (CSV): " + " · ".join(items)) if items else ""


def show_figure(fig, path: str | Path, sources: Sequence[str | Path] = ()) -> None:
    """Save ``fig`` as PNG at ``path``, show that PNG, and link its source data.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it is closed afterwards (so the inline backend does not draw it twice).
    path : str or Path
        Where the PNG is written (its folder must exist).
    sources : sequence of paths
        The CSV files the figure plots (written before the call); each must exist.

    Nothing is returned, so that a call ending a cell adds no output of its own.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, Markdown, display

    path = Path(path)
    missing = [str(s) for s in sources if not Path(s).is_file()]
    if missing:
        raise FileNotFoundError(f"source data of {path.name} not written: {missing}")
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png")
    os.replace(tmp, path)
    plt.close(fig)
    display(Image(filename=str(path)))
    links = source_links(sources)
    if links:
        display(Markdown(links))


def trajectories(
    ax,
    paths: Sequence[np.ndarray],
    colors: Sequence,
    *,
    lw: float = 0.5,
    alpha: float = 0.4,
    end_ms: float = 0.0,
) -> None:
    """Draw many 2-D trajectories on ``ax`` as one ``LineCollection`` (one artist, not one
    line per trajectory: 400 trajectories draw in a fraction of the time), each in its
    colour, with an optional dot at its end.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    paths : sequence of ndarray (T_i, 2)
        The trajectories (lengths may differ).
    colors : sequence
        One matplotlib colour per trajectory.
    lw, alpha : float
        Line width and opacity of the lines.
    end_ms : float
        Size of the dot at each trajectory's last point (0: none), at full opacity of its
        colour.
    """
    from matplotlib.collections import LineCollection

    paths = [np.asarray(q, dtype=float)[:, :2] for q in paths]
    if len(paths) != len(colors):
        raise ValueError(f"{len(paths)} trajectories but {len(colors)} colours")
    if not paths:
        return
    ax.add_collection(LineCollection(paths, colors=list(colors), linewidths=lw, alpha=alpha))
    if end_ms > 0:
        ends = np.array([q[-1] for q in paths])
        ax.scatter(ends[:, 0], ends[:, 1], s=end_ms**2, c=list(colors), marker="o", lw=0)
    ax.autoscale_view()


def fmt_p(p: float) -> str:
    """A p-value with two significant digits, ``< 0.001`` below that, or why it is missing."""
    if p is None or not np.isfinite(p):
        return "not defined (n too small)"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.2g}"


def fmt_ci(lo: float, hi: float, digits: int = 3) -> str:
    """``[lo, hi]``, or a statement when the interval is not defined."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "not defined (n too small)"
    return f"[{lo:.{digits}g}, {hi:.{digits}g}]"


def header(col: str) -> str:
    """A column name in words: ``qp_fraction_low_coh`` → ``QP fraction low coherence``."""
    if col in _HEADER_WORDS:
        return _HEADER_WORDS[col]
    if col.lower() in _HEADER_WORDS:
        return _HEADER_WORDS[col.lower()]
    words = [_HEADER_WORDS.get(w.lower(), w) for w in str(col).split("_")]
    return " ".join(words)


def _cell(v, digits: int, nan: str) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}" if abs(int(v)) >= 10_000 else str(int(v))
    if isinstance(v, float | np.floating):
        if not math.isfinite(float(v)):
            return nan
        if float(v).is_integer() and abs(v) < 1e9:
            return f"{int(v):,}" if abs(v) >= 10_000 else str(int(v))
        if 1e3 <= abs(float(v)) < 1e9:  # counts and times: no exponent
            return f"{float(v):,.0f}"
        return f"{float(v):.{digits}g}"
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return nan
    s = str(v)
    return nan if s in ("nan", "None", "NaN") else s.replace("|", "\\|")


def _merge_ci(d: pd.DataFrame, digits: int) -> pd.DataFrame:
    """Replace each ``<x>ci_low`` / ``<x>ci_high`` column pair by one ``<x>95 % CI`` column."""
    for c in [c for c in d.columns if str(c).endswith("ci_low")]:
        pre = str(c)[: -len("ci_low")]
        hi = f"{pre}ci_high"
        if hi not in d.columns:
            continue
        vals = [fmt_ci(a, b, digits) for a, b in zip(d[c], d[hi], strict=True)]
        pos = list(d.columns).index(c)
        d = d.drop(columns=[c, hi])
        d.insert(pos, f"{header(pre.rstrip('_')) + ' ' if pre else ''}95 % CI", vals)
    return d


def table(
    df: pd.DataFrame | str,
    *,
    rename: Mapping[str, str] | None = None,
    p_columns: Sequence[str] = ("p",),
    digits: int = 3,
    nan: str = "–",
    index: bool = False,
    algorithm_labels: bool = True,
    word_columns: Sequence[str] = ("measure", "definition", "quantity", "variable"),
):
    """A DataFrame as a Markdown table a reader can read.

    Headers are words (:func:`header`, or ``rename``), the index is dropped unless ``index``
    (a named or multi-level index becomes ordinary columns), floats get ``digits`` significant
    digits, p-value columns :func:`fmt_p`, missing values ``nan`` (a dash: not measured),
    ``ci_low`` / ``ci_high`` pairs one ``95 % CI`` column, the values of ``word_columns``
    words, and the ``algorithm`` column reads RL / SL. A string is shown as a sentence (the
    reason a table is empty).

    Returns
    -------
    IPython.display.Markdown
    """
    from IPython.display import Markdown

    if isinstance(df, str):
        return Markdown(f"*{df}*")
    d = df.copy()
    if isinstance(d.columns, pd.MultiIndex):
        d.columns = [" ".join(str(x) for x in c if str(x)) for c in d.columns]
    if index or d.index.name is not None or isinstance(d.index, pd.MultiIndex):
        d = d.reset_index()
    d = _merge_ci(d, digits)
    for c in word_columns:
        if c in d.columns:
            d[c] = d[c].map(lambda v: header(v) if isinstance(v, str) else v)
    rename = dict(rename or {})
    if algorithm_labels and "algorithm" in d.columns:
        d["algorithm"] = d["algorithm"].map(lambda a: SHORT.get(a, a))
    cols = {}
    for c in d.columns:
        c = str(c)
        cols[c] = rename.get(c, header(c)).replace("|", "\\|")
    out = pd.DataFrame(
        {
            cols[str(c)]: [
                fmt_p(v) if str(c) in p_columns else _cell(v, digits, nan) for v in d[c].tolist()
            ]
            for c in d.columns
        }
    )
    return Markdown(out.to_markdown(index=False, disable_numparse=True))


def folded(content, title: str = "The numbers behind the figure"):
    """``content`` (a :func:`table`, any ``IPython.display.Markdown`` or a Markdown string)
    folded behind a toggle: a MyST admonition of class ``dropdown``, closed until the reader
    opens it. The table stays on the page (and in the page's text), only out of the way.

    Returns
    -------
    IPython.display.Markdown
    """
    from IPython.display import Markdown

    body = content.data if hasattr(content, "data") else str(content)
    fence = "`" * 4
    return Markdown(f"{fence}{{admonition}} {title}\n:class: dropdown\n\n{body}\n{fence}")


def tests_table(
    df: pd.DataFrame | str,
    keys: Sequence[str] = ("measure",),
    names: tuple[str, str] = ("RL", "SL"),
    empty: str = "needs both algorithms for a comparison",
):
    """Rows of :func:`lib.analysis.stats.compare_groups` (with ``keys`` columns) as a compact table:
    n, mean and 95 % bootstrap CI per group, rank-biserial r (> 0: larger under the first
    group) and the two-sided Mann-Whitney p with its direction."""
    if isinstance(df, str) or len(df) == 0:
        return table(empty if isinstance(df, pd.DataFrame) else df)
    a, b = names
    rows = []
    for _, r in df.iterrows():
        row = {k: r[k] for k in keys if k in r}
        for g in names:
            if f"n_{g}" in r:
                row[f"n {g}"] = int(r[f"n_{g}"])
            m = r.get(f"mean_{g}", np.nan)
            lo, hi = r.get(f"ci_low_{g}", np.nan), r.get(f"ci_high_{g}", np.nan)
            ci = "" if not np.isfinite(lo) else f" {fmt_ci(lo, hi)}"
            row[f"{g} mean [95 % CI]"] = "–" if not np.isfinite(m) else f"{m:.3g}{ci}"
        rb = r.get("rank_biserial", np.nan)
        row["rank-biserial r"] = "–" if not np.isfinite(rb) else f"{rb:+.2f}"
        p = r.get("p", np.nan)
        way = "" if not np.isfinite(rb) or rb == 0 else (f"{a} > {b}" if rb > 0 else f"{a} < {b}")
        row["p (two-sided)"] = fmt_p(p) + (f" ({way})" if np.isfinite(p) and way else "")
        rows.append(row)
    return table(pd.DataFrame(rows), p_columns=())
