"""Every command line the README and the introduction show runs as printed (in smoke mode,
into a scratch store), so the documentation cannot drift from the code; and the notebooks
resolve their folders against the repository, whatever the working directory."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "book" / "intro.md"]


def documented_commands() -> list[tuple[str, str]]:
    """(document, command) for every ``.venv/bin/…`` line of a ``bash`` block."""
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
            for line in block.splitlines():
                cmd = line.split("  #")[0].strip()
                if cmd.startswith(".venv/bin/"):
                    out.append((doc.name, cmd))
    return out


def smoke_version(cmd: str, scratch: Path, store: Path | None = None) -> list[str]:
    """The documented command made cheap without changing what it exercises: smoke mode,
    tiny networks and budgets, a scratch store (``store``, default ``scratch/store``) and
    figure folder."""
    argv = shlex.split(cmd)
    store = str(store or scratch / "store")
    if argv[0].endswith("papermill"):
        argv = ["smoke" if a == "full" and argv[i - 1] == "mode" else a for i, a in enumerate(argv)]
        argv[2] = str(scratch / Path(argv[2]).name)
        return argv + ["-p", "store", store, "-p", "out_dir", str(scratch / "figs")]
    assert argv[1:3] == ["-m", "lib"], cmd
    sub = argv[3]
    if sub == "train":
        if "--hidden" in argv:
            argv[argv.index("--hidden") + 1] = "16"
        else:
            argv += ["--hidden", "16"]
        argv += ["--max-trials", "200", "--no-progress"]
    if sub == "sweep":
        argv = ["smoke" if argv[i - 1] == "--profile" else a for i, a in enumerate(argv)]
        if "--workers" in argv:
            argv[argv.index("--workers") + 1] = "1"
    if sub == "census":
        argv += ["--grid", "3"]
    return argv + ["--store", store]


def test_the_docs_show_commands():
    cmds = [c for _, c in documented_commands()]
    assert any("papermill" in c for c in cmds) and any("-m lib train" in c for c in cmds)


@pytest.mark.slow
def test_every_documented_command_runs(tmp_path, smoke_store):
    """In the order printed (later commands use what earlier ones stored), into the session's
    smoke store (what the notebooks' smoke runs trained is reused); a command printed twice
    runs once."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    beside = ROOT.parent / "data"
    had_beside = beside.exists()
    failures = []
    done: set[str] = set()
    for doc, cmd in documented_commands():
        if cmd in done:  # printed again (the introduction repeats the README's): run once
            continue
        done.add(cmd)
        argv = smoke_version(cmd, tmp_path, smoke_store)
        argv[0] = str(ROOT / argv[0])
        r = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, env=env, timeout=900, check=False
        )
        if r.returncode != 0:
            failures.append(f"{doc}: {cmd}\n  as {shlex.join(argv)}\n{r.stderr[-1500:]}")
    assert not failures, "\n\n".join(failures)
    # nothing leaked out of the scratch folder: no store beside the clone, no figures at root
    assert beside.exists() == had_beside, f"a command wrote into {beside}"
    assert not (ROOT / "figures").exists()
