"""Check a built book the way a reader meets it: every page in headless Chromium, no network.

Used by ``tests/book/test_book.py`` (one strict build, then this check) and runnable by hand on
``_build/html`` after ``make book``::

    .venv/bin/python tests/book/browser.py _build/html

For each page of the table of contents it records, and returns as a :class:`PageReport`:
images and whether each loaded, ``nan`` shown in a table, whether MathJax rendered the math (no raw ``\\(`` left in the
visible text), requests to any host but the local server (each is refused, so a page that
needs the network shows it), tables wider than the column without a scrolling box of their
own, CSV links and whether each resolves; it saves a full-page screenshot (and one on a 390-px
phone viewport for the claims page) under ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_PAGE_JS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(r => { img.onload = img.onerror = r; })));
  const article = document.querySelector('.bd-article') || document.body;
  const col = article.getBoundingClientRect();
  const imgs = Array.from(article.querySelectorAll('img')).map(i => ({
    src: i.getAttribute('src'), natural: i.naturalWidth, shown: i.getBoundingClientRect().width}));
  const clipped = [];
  for (const t of article.querySelectorAll('table')) {
    const r = t.getBoundingClientRect();
    let box = t.parentElement, scrolls = false;
    while (box && box !== article) {
      const ox = getComputedStyle(box).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && box.getBoundingClientRect().right <= col.right + 2) {
        scrolls = true; break;
      }
      box = box.parentElement;
    }
    if (r.right > col.right + 2 && !scrolls) {
      clipped.push((t.innerText || '').slice(0, 80));
    }
  }
  const text = article.innerText;
  const math = article.querySelectorAll('mjx-container').length;
  const tables = Array.from(article.querySelectorAll('table')).map(t => t.innerText);
  const csv = Array.from(article.querySelectorAll('a[href$=".csv"]')).map(a => a.href);
  let first = null;
  const t0 = article.querySelector('table');
  if (t0) {
    let box = t0.parentElement;
    while (box && box !== article) {
      const st = getComputedStyle(box);
      if (['auto', 'scroll'].includes(st.overflowY) || ['auto', 'scroll'].includes(st.overflowX)) break;
      box = box.parentElement;
    }
    if (!box || box === article) { box = t0; }
    first = {scrollHeight: box.scrollHeight, clientHeight: box.clientHeight,
             scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
             top: t0.getBoundingClientRect().top + window.scrollY,
             bottom: t0.getBoundingClientRect().bottom + window.scrollY};
  }
  return {imgs, clipped, text, math, csv, tables, first,
          height: document.documentElement.scrollHeight};
}
"""


@dataclass
class PageReport:
    """What a reader's browser saw on one page."""

    page: str
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    math_rendered: int = 0
    raw_math: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    clipped_tables: list[str] = field(default_factory=list)
    nan_in_tables: list[str] = field(default_factory=list)
    csv_links: int = 0
    csv_urls: list[str] = field(default_factory=list)
    broken_csv_links: list[str] = field(default_factory=list)
    height_px: int = 0
    #: The first table's box: scrollHeight, clientHeight, scrollWidth, clientWidth, and the
    #: table's top and bottom on the page (px); None on a page without tables.
    first_table: dict[str, float] | None = None
    screenshot: Path | None = None

    def problems(self) -> dict[str, list[str]]:
        """What a reader would miss on this page, by kind (empty when the page is whole)."""
        kinds = {
            "broken images": self.broken_images,
            "raw math": self.raw_math,
            "requests to other hosts": self.external_requests,
            "clipped tables": self.clipped_tables,
            "nan in tables": self.nan_in_tables,
            "broken CSV links": self.broken_csv_links,
        }
        return {k: v for k, v in kinds.items() if v}


#: The tallest a page may be at 1,400 px. Issue 23 asks for about 6,000 px (6.7 screens of a
#: 900-px window). Every figure, its caption and the verdict stay open; tables that only support
#: a figure (per-network lists, tests, threshold sweeps, every cell in full, the settings table)
#: are folded, and chapters 8 and 9 are split in two pages each (8b: the census's own choices and
#: the claims x variants grid; 9b: the predictors of QP). Measured with that: 3,000-6,360 px, the
#: tallest chapter 2 (five figures) before its figures were made 10 % shorter. 6,200 px is
#: "about 6,000" with room for font rendering to differ by a few lines between machines.
MAX_PAGE_HEIGHT_PX = 6200
#: Pages allowed above it (a page that needs more must say why here). 8b holds three census
#: comparisons (linear stability, the 10x horizon, census versions 2 and 3, each a figure and
#: its verdict) beside the claims x variants grid that they feed; measured 6,493 px.
PAGE_HEIGHT_LIMITS: dict[str, int] = {"notebooks/08b_census_choices.html": 6700}


def height_limit(page: str) -> int:
    """The tallest ``page`` may be (px at 1,400 px wide)."""
    return PAGE_HEIGHT_LIMITS.get(page, MAX_PAGE_HEIGHT_PX)


def first_table_fits(r: PageReport, window_height: int = 900) -> list[str]:
    """Why the first table of the page ``r`` does not fit a reader's first screen: it scrolls
    in a box of its own (its box's scroll size exceeds its client size), or it ends below the
    first ``window_height`` px of the page. Empty when it fits."""
    t = r.first_table
    if t is None:
        return ["the page has no table"]
    out = []
    if t["scrollHeight"] > t["clientHeight"] + 1:
        out.append(f"scrolls vertically ({t['scrollHeight']} > {t['clientHeight']} px)")
    if t["scrollWidth"] > t["clientWidth"] + 1:
        out.append(f"scrolls sideways ({t['scrollWidth']} > {t['clientWidth']} px)")
    if t["bottom"] > window_height:
        out.append(f"ends {t['bottom']:.0f} px down the page, below the first {window_height} px")
    return out


def toc_pages(html: Path) -> list[str]:
    """The pages of the book in reading order (from ``_toc.yml``), as paths in ``html``."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]
    pages = [f"{f}.html" for f in files]
    missing = [p for p in pages if not (html / p).is_file()]
    if missing:
        raise FileNotFoundError(f"pages missing from {html}: {missing}")
    return pages


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - silence the access log
        pass


def check_book(
    html: str | Path, screenshots: str | Path | None = None, width: int = 1400
) -> list[PageReport]:
    """Open every page of the built book ``html`` in headless Chromium and report what loaded.

    The pages are served on 127.0.0.1 (a random free port); any request to another host is
    aborted and recorded. Screenshots (full page, ``width`` px wide; the claims page also at
    390 px) go to ``screenshots`` when given.
    """
    from playwright.sync_api import sync_playwright

    html = Path(html).resolve()
    pages = toc_pages(html)
    shots = Path(screenshots) if screenshots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    reports = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": width, "height": 900})
            external: list[str] = []

            def route(r):
                host = urlparse(r.request.url).hostname
                if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                    r.continue_()
                else:
                    external.append(r.request.url)
                    r.abort()

            ctx.route("**/*", route)
            for page_path in pages:
                external.clear()
                rep = PageReport(page_path)
                pg = ctx.new_page()
                pg.goto(base + page_path, wait_until="networkidle")
                res = pg.evaluate(_PAGE_JS)
                rep.images = len(res["imgs"])
                rep.broken_images = [i["src"] for i in res["imgs"] if i["natural"] <= 0]
                rep.math_rendered = res["math"]
                rep.raw_math = re.findall(r"\\\(.{0,40}|\\\[.{0,40}|\$\$.{0,40}", res["text"])
                rep.clipped_tables = res["clipped"]
                rep.nan_in_tables = [
                    t[:80] for t in res["tables"] if re.search(r"\bnan\b", t, flags=re.I)
                ]
                rep.csv_links = len(res["csv"])
                rep.csv_urls = list(res["csv"])
                for url in res["csv"]:
                    r = ctx.request.get(url)
                    if r.status != 200 or not r.body():
                        rep.broken_csv_links.append(url)
                rep.height_px = res["height"]
                rep.first_table = res["first"]
                rep.external_requests = sorted(set(external))
                if shots:
                    name = page_path.replace("/", "__").removesuffix(".html")
                    rep.screenshot = shots / f"{name}.png"
                    pg.screenshot(path=str(rep.screenshot), full_page=True)
                    if "claims" in page_path:
                        pg.set_viewport_size({"width": 390, "height": 844})
                        pg.wait_for_timeout(300)
                        pg.screenshot(path=str(shots / f"{name}__phone.png"), full_page=False)
                        table = pg.query_selector(".bd-article table")
                        if table:
                            table.scroll_into_view_if_needed()
                            pg.screenshot(path=str(shots / f"{name}__phone_table.png"))
                pg.close()
                reports.append(rep)
            browser.close()
    finally:
        server.shutdown()
    return reports


def main(argv: list[str]) -> int:
    html = Path(argv[1] if len(argv) > 1 else "_build/html")
    shots = html.parent / "screenshots"
    bad = 0
    for r in check_book(html, shots):
        problems = r.problems()
        if r.height_px > height_limit(r.page):
            problems["taller than the limit"] = [f"{r.height_px} > {height_limit(r.page)} px"]
        if "claims" in r.page and first_table_fits(r):
            problems["first table does not fit the first screen"] = first_table_fits(r)
        bad += bool(problems)
        status = "ok" if not problems else "; ".join(f"{k}: {v[:3]}" for k, v in problems.items())
        sys.stdout.write(
            f"{r.page}: {r.images} images, {r.math_rendered} formulas, {r.csv_links} CSV links, "
            f"{r.height_px} px tall — {status}\n"
        )
    sys.stdout.write(f"screenshots in {shots}\n")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
