"""spanfast's version: pyproject.toml's, as installed, or read from the source tree."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _source_tree_version() -> str:
    """The version in the pyproject.toml beside the package, when run uninstalled."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return "0+unknown"
    # tomllib is 3.11+; the [project] table's version line is all that is needed.
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    found = project and re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.MULTILINE)
    return found.group(1) if found else "0+unknown"


try:
    __version__ = version("spanfast")
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = _source_tree_version()
