"""Refresh the reference outputs that nbval checks (``# NBVAL_CHECK_OUTPUT`` cells) from one
execution of each notebook in book mode, on purpose, after a change of the stored results.

    .venv/bin/python tests/book/refresh_nbval.py notebooks/08_open_choices.ipynb ...
    .venv/bin/python tests/book/refresh_nbval.py --from-build _build/jupyter_execute/notebooks \
        notebooks/08_open_choices.ipynb ...

``--from-build`` takes the outputs of a book build (``make book``) instead of executing again.

Only the checked cells change (their outputs and execution count: nbval treats a reference cell
with outputs but no execution count as unrun); every other cell of the committed notebook stays
as it is, outputs cleared. Prints the old and new outputs of each checked cell, so that the
change can be read and quoted in the commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"


def _text(outputs: list) -> str:
    return "".join(
        o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )


def refresh(path: Path, build: Path | None = None) -> None:
    """Execute ``path`` (in its own folder), or read its execution by a book build from the
    folder ``build``, and copy its checked cells' outputs back."""
    nb = nbformat.read(path, as_version=4)
    if build is not None:
        run = nbformat.read(build / path.name, as_version=4)
    else:
        run = nbformat.read(path, as_version=4)
        NotebookClient(
            run,
            timeout=1800,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    for cell, done in zip(nb.cells, run.cells, strict=True):
        if cell.cell_type == "code" and MARK in cell.source:
            old = _text(cell.outputs)
            cell.outputs, cell.execution_count = done.outputs, done.execution_count
            new = _text(cell.outputs)
            print(f"== {path.name}: {'unchanged' if old == new else 'changed'}")
            if old != new:
                print("-- old\n" + old + "-- new\n" + new)
    nbformat.write(nb, path)


if __name__ == "__main__":
    args = sys.argv[1:]
    build = None
    if args[:1] == ["--from-build"]:
        build, args = Path(args[1]).resolve(), args[2:]
    for p in args:
        refresh(Path(p).resolve(), build)
