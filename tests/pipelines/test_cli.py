"""The command line's analysis commands on a tiny stored run: computed once, then read from
the cache; the selection options pick runs by regime and default configuration."""

from __future__ import annotations

import pytest

from lib.__main__ import ANALYSES, main
from lib.store.runs import Store

#: Options that keep each command's analysis small on the tiny run.
SMALL = {"stability": ["--grid", "5"]}


@pytest.mark.parametrize("command", sorted(ANALYSES))
def test_analysis_commands_compute_then_reuse(command, tmp_path, tiny_spec, capsys):
    st = Store(tmp_path)
    run = st.get_or_train(tiny_spec(), progress=False)
    argv = [command, *SMALL.get(command, []), "--store", str(tmp_path)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert first.startswith(f"{run.path.name} sl seed=0 reset: ")
    assert list((tmp_path / "analyses" / run.path.name).iterdir())
    assert main(argv) == 0  # cached: the same line
    assert capsys.readouterr().out == first
    # the tiny run is neither continuous nor a default network: nothing selected
    for sel in (["--trials", "continuous"], ["--default"], ["--variant", "leaky"]):
        assert main([command, *sel, "--store", str(tmp_path)]) == 0
        assert capsys.readouterr().out == ""


def test_variant_selection_is_checked_before_any_compute(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["balance", "--variant", "tiny", "--store", str(tmp_path)])
    assert e.value.code == 2 and "invalid choice: 'tiny'" in capsys.readouterr().err


def test_sweep_costs_reads_the_store(tmp_path, capsys):
    (tmp_path / "runs").mkdir()  # an empty store
    argv = ["sweep", "complexity", "--profile", "smoke", "--costs", "--store"]
    assert main([*argv, str(tmp_path)]) == 0
    assert "no run stored yet" in capsys.readouterr().out
    assert main([*argv, str(tmp_path / "absent")]) == 2
    assert "no such store" in capsys.readouterr().err


def test_a_closed_pipe_stops_quietly(tmp_path):
    """``python -m lib ... | head``: the reader has gone, so the command stops with SIGPIPE's
    exit code and no traceback (Python's default prints two)."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # every write to stdout now fails with EPIPE
    argv = ["sweep", "default", "--profile", "smoke", "--status", "--store", str(tmp_path)]
    try:
        p = subprocess.run(
            [sys.executable, "-m", "lib", *argv], stdout=write, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write)
    assert p.returncode == 141
    assert p.stderr == ""


def test_a_broken_pipe_elsewhere_is_not_swallowed(monkeypatch):
    """Only a closed stdout stops quietly: a BrokenPipeError from another pipe (a worker's
    connection) is an error and propagates."""
    import lib.__main__ as cli

    def broken(args):
        raise BrokenPipeError("a worker's pipe")

    monkeypatch.setattr(cli, "_run", broken)
    with pytest.raises(BrokenPipeError):
        cli.main(["list"])
