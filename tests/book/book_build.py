"""``book/build.py`` under an importable name, for the processes its pool spawns in
``test_build_script.py`` (they import the module that defines the function they run)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_book_build_impl", Path(__file__).resolve().parents[2] / "book" / "build.py"
)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
globals().update({k: v for k, v in vars(_mod).items() if not k.startswith("__")})
