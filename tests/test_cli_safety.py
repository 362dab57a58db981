"""``spanfast scan --out`` never loses a file: run as a person would, in a subprocess.

The input is never overwritten (nor through a symlink or hard link), outputs
appear whole or not at all, a killed run's partial file is removed by the next
run, and messages name the output as the user gave it.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from strategies import run_spanfast

import spanfast.cli

PACKAGE_PARENT = Path(spanfast.cli.__file__).resolve().parents[2]
LABELS = [[0, 1], [1, 0, 1], [0], [1, 1]]
PROBS = [[0.1, 0.9], [0.8, 0.2, 0.7], [0.3], [0.6, 0.9]]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    return env


def _arguments(source: Path, *extra: str) -> list[str]:
    return ["scan", str(source), "--labels", "tags", "--probs", "p", *extra]


def _command(source: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "spanfast", *_arguments(source, *extra)]


def _run(source: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_spanfast(*_arguments(source, *extra), cwd=None)


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a failed scan (exit 2, nothing on stdout, no traceback)."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("spanfast scan: ")
    assert ".partial" not in lines[0]
    return lines[0]


def _parquet(path: Path) -> Path:
    pq.write_table(pa.table({"tags": LABELS, "p": PROBS}), path)
    return path


def _jsonl(path: Path) -> Path:
    path.write_text("".join(json.dumps({"tags": t, "p": p}) + "\n" for t, p in zip(LABELS, PROBS)))
    return path


def _partials(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


# -- the input is never the output -------------------------------------------------------


@pytest.mark.parametrize("make", [_parquet, _jsonl])
def test_output_that_is_the_input_is_refused(tmp_path, make):
    source = make(tmp_path / ("data.parquet" if make is _parquet else "data.jsonl"))
    before = source.read_bytes()
    line = _error_line(_run(source, "--out", str(source)))
    assert line == (
        f"spanfast scan: {source}: is the input file {source}; refusing to overwrite the input"
    )
    assert source.read_bytes() == before
    assert _partials(tmp_path) == []


def test_refused_before_the_input_is_read(tmp_path):
    # A corrupt input would fail on reading; the output check comes first.
    source = tmp_path / "data.parquet"
    source.write_text("not parquet")
    line = _error_line(_run(source, "--out", str(source)))
    assert "refusing to overwrite the input" in line
    assert source.read_text() == "not parquet"


@pytest.mark.parametrize("link", ["symlink", "hardlink", "relative-path"])
def test_output_linked_to_the_input_is_refused(tmp_path, link):
    source = _parquet(tmp_path / "data.parquet")
    before = source.read_bytes()
    if link == "symlink":
        out = tmp_path / "issues.parquet"
        out.symlink_to(source)
    elif link == "hardlink":
        out = tmp_path / "issues.parquet"
        os.link(source, out)
    else:
        (tmp_path / "sub").mkdir()
        out = tmp_path / "sub" / ".." / "data.parquet"
    line = _error_line(_run(source, "--out", str(out)))
    assert line.startswith(f"spanfast scan: {out}: is the input file ")
    assert source.read_bytes() == before
    assert out.read_bytes() == before


def test_output_in_an_input_directory_is_refused(tmp_path):
    directory = tmp_path / "data"
    directory.mkdir()
    first = _parquet(directory / "part-0.parquet")
    _parquet(directory / "part-1.parquet")
    before = first.read_bytes()
    line = _error_line(_run(directory, "--out", str(first)))
    assert f"is the input file {first}" in line
    assert first.read_bytes() == before
    # A new .parquet file there would be read as data by the next scan of the directory.
    line = _error_line(_run(directory, "--out", str(directory / "issues.parquet")))
    assert "inside the input directory" in line
    assert sorted(p.name for p in directory.iterdir()) == ["part-0.parquet", "part-1.parquet"]


# -- outputs that cannot be written name the path given ------------------------------------


def test_output_that_is_a_directory(tmp_path):
    source = _parquet(tmp_path / "data.parquet")
    out = tmp_path / "issues.csv"
    out.mkdir()
    assert _error_line(_run(source, "--out", str(out))) == (
        f"spanfast scan: {out}: is a directory; name a file to write"
    )
    assert list(out.iterdir()) == []


def test_output_under_a_file(tmp_path):
    source = _parquet(tmp_path / "data.parquet")
    out = source / "issues.parquet"
    line = _error_line(_run(source, "--out", str(out)))
    assert line == f"spanfast scan: {out}: {source} is not a directory"


def test_output_in_a_missing_directory(tmp_path):
    source = _parquet(tmp_path / "data.parquet")
    out = tmp_path / "missing" / "issues.csv"
    line = _error_line(_run(source, "--out", str(out)))
    assert line == f"spanfast scan: {out}: the directory to write to does not exist"


def test_output_in_a_read_only_directory(tmp_path):
    source = _parquet(tmp_path / "data.parquet")
    if os.geteuid() == 0:
        # root ignores permission bits; /proc refuses new files to everyone.
        out = Path("/proc/issues.csv")
        if not Path("/proc/self").exists():
            pytest.skip("needs /proc when running as root")
    else:
        read_only = tmp_path / "read-only"
        read_only.mkdir()
        read_only.chmod(0o555)
        out = read_only / "issues.csv"
    try:
        line = _error_line(_run(source, "--out", str(out)))
    finally:
        if os.geteuid() != 0:
            out.parent.chmod(0o755)
    assert line.startswith(f"spanfast scan: {out}: ")
    assert not out.exists()


def test_disk_full_is_reported_and_a_device_is_written_in_place(tmp_path):
    source = _parquet(tmp_path / "data.parquet")
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    line = _error_line(_run(source, "--out", "/dev/full", "--out-format", "csv"))
    assert line == "spanfast scan: /dev/full: No space left on device"
    # A device is written into, never replaced by a regular file (even as root).
    result = _run(source, "--out", "/dev/null", "--out-format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_an_existing_output_keeps_its_mode_and_is_replaced_whole(tmp_path):
    source = _parquet(tmp_path / "data.parquet")
    out = tmp_path / "issues.csv"
    out.write_text("previous\n")
    out.chmod(0o640)
    result = _run(source, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("sentence,token,score")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert _partials(tmp_path) == []


def test_a_symlinked_output_writes_its_target_and_keeps_the_link(tmp_path):
    source = _parquet(tmp_path / "data.parquet")
    target = tmp_path / "real.csv"
    target.write_text("previous\n")
    link = tmp_path / "issues.csv"
    link.symlink_to(target)
    result = _run(source, "--out", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert target.read_text().startswith("sentence,token,score")


# -- partial files: removed on every exit Python sees, and by the next run after a kill -----


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_partial_of_a_dead_process_is_removed_by_the_next_run(tmp_path):
    source = _parquet(tmp_path / "data.parquet")
    out = tmp_path / "issues.csv"
    stale = tmp_path / f".issues.csv.spanfast-{_dead_pid()}.partial"
    stale.write_text("half")
    live = tmp_path / f".issues.csv.spanfast-{os.getpid()}.partial"  # this test is alive
    live.write_text("still being written")
    other = tmp_path / f".other.csv.spanfast-{_dead_pid()}.partial"  # another target's
    other.write_text("half")
    result = _run(source, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("sentence,token,score")
    assert _partials(tmp_path) == sorted([live.name, other.name])


def _fifo_input(tmp_path: Path) -> Path:
    """A FIFO named like an input: the scan blocks on reading it, with its output prepared."""
    source = tmp_path / "data.npz"
    os.mkfifo(source)
    return source


def _wait_for_partial(process: subprocess.Popen, directory: Path) -> Path:
    expected = directory / f".issues.csv.spanfast-{process.pid}.partial"
    deadline = time.monotonic() + 120
    while not expected.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the scan never created its partial file"
        time.sleep(0.05)
    time.sleep(0.3)  # let it reach the blocking read of the input
    return expected


def _start_blocked_scan(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    source = _fifo_input(tmp_path)
    out = tmp_path / "issues.csv"
    process = subprocess.Popen(
        _command(source, "--out", str(out)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    return process, _wait_for_partial(process, tmp_path)


def test_sigkill_leaves_a_partial_that_the_next_run_removes(tmp_path):
    process, partial = _start_blocked_scan(tmp_path)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert partial.exists()  # nothing can clean up after SIGKILL
    assert not (tmp_path / "issues.csv").exists()

    source = tmp_path / "data.npz"
    source.unlink()
    np.savez(source, tags=np.array([[0, 1], [1, 1]]), p=np.array([[0.2, 0.9], [0.1, 0.8]]))
    result = _run(source, "--out", str(tmp_path / "issues.csv"))
    assert result.returncode == 0, result.stderr
    assert _partials(tmp_path) == []
    assert (tmp_path / "issues.csv").read_text().startswith("sentence,token,score")


@pytest.mark.parametrize(("signal_number", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_remove_the_partial_quietly(tmp_path, signal_number, status):
    previous = tmp_path / "issues.csv"
    previous.write_text("previous results\n")
    process, partial = _start_blocked_scan(tmp_path)
    process.send_signal(signal_number)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert stderr.strip() == ""
    assert stdout == ""
    assert not partial.exists()
    assert _partials(tmp_path) == []
    assert previous.read_text() == "previous results\n"
