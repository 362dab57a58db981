"""The README's install commands, in a fresh venv, and a clean uninstall.

``pip install . && spanfast demo`` then ``pip install -e ".[test]"`` used to leave
compiled kernels in ``site-packages/spanfast/**/__pycache__`` (files pip does not
record), and the leftover ``spanfast/`` directory then shadowed the editable install
as a namespace package. The ``install`` test takes minutes (it installs the test
extras), so the default ``python -m pytest`` deselects it; CI runs
``python -m pytest -m install`` as its own step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import spanfast
from spanfast import _version

CHECKOUT = Path(__file__).resolve().parents[1]


def test_version_is_pyprojects():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    declared = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]["version"]
    assert _version._source_tree_version() == declared
    assert spanfast.__version__ == declared


def _checkout_copy(destination: Path) -> Path:
    """The files git tracks or would track, as they are on disk: no build leftovers,
    no ``*.egg-info``, no cached kernels."""
    if not (CHECKOUT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=CHECKOUT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = CHECKOUT / name
        if source.is_file():  # a tracked file deleted in the work tree is not there
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _outer_pip_cache() -> str | None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True
    )
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, (
        f"{' '.join(command)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _spanfast_files(site_packages: Path) -> list[str]:
    return sorted(str(p.relative_to(site_packages)) for p in site_packages.glob("*spanfast*"))


@pytest.mark.install
def test_readme_install_commands_in_a_fresh_venv(tmp_path):
    source = _checkout_copy(tmp_path / "checkout")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    user_cache = tmp_path / "user-cache"

    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    bin_dir = tmp_path / "venv" / ("Scripts" if os.name == "nt" else "bin")
    python = str(bin_dir / "python")
    spanfast_command = str(bin_dir / "spanfast")

    env = {
        name: value
        for name, value in os.environ.items()
        # The venv's own spanfast, with the default cache location: none of ours.
        if name not in {"PYTHONPATH", "NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT", "VIRTUAL_ENV"}
    }
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env["PYTHONNOUSERSITE"] = "1"
    env["XDG_CACHE_HOME"] = str(user_cache)  # where spanfast's kernels should go
    pip_cache = _outer_pip_cache()
    if pip_cache:  # XDG_CACHE_HOME would move pip's cache too: keep the warm one
        env["PIP_CACHE_DIR"] = pip_cache
    site_packages = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], source, env
        ).strip()
    )

    # README, "Install": pip install . && spanfast demo
    _run([python, "-m", "pip", "install", "."], source, env)
    assert "find_label_issues flagged" in _run([spanfast_command, "demo"], source, env)
    installed = site_packages / "spanfast"
    assert (installed / "py.typed").is_file()
    assert list(site_packages.glob("spanfast-*.dist-info/licenses/LICENSE"))
    assert [str(p) for p in installed.rglob("*.nb[ic]")] == []  # nothing compiled in there
    if sys.platform.startswith("linux"):
        assert list((user_cache / "spanfast" / "numba").rglob("*.nbi"))

    # README, "Tests": pip install -e ".[test]", then use it from anywhere.
    _run([python, "-m", "pip", "install", "-e", ".[test]"], source, env)
    assert "find_label_issues flagged" in _run([spanfast_command, "demo"], elsewhere, env)
    imported = _run([python, "-c", "import spanfast; print(spanfast.__file__)"], elsewhere, env)
    assert Path(imported.strip()) == source / "spanfast" / "__init__.py"
    assert not installed.exists()  # the wheel's files went, leaving no namespace package

    _run([python, "-m", "pip", "uninstall", "-y", "spanfast"], elsewhere, env)
    assert _spanfast_files(site_packages) == []
