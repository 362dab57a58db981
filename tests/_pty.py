"""A command run with stdout or stderr on a pseudo-terminal, as from a person's shell."""

from __future__ import annotations

import os
import subprocess
import threading


def run_on_a_terminal(
    command: list, *, terminal: str, env: dict, timeout: float
) -> subprocess.CompletedProcess:
    """Run ``command`` with its ``terminal`` stream ("stdout" or "stderr") on a
    pseudo-terminal and the other one piped; both come back as text."""
    import pty  # not on Windows, where the tests that call this are skipped

    controller, terminal_side = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:  # while it runs: a full terminal buffer would block the command
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, terminal: terminal_side}
    try:
        done = subprocess.run(command, **streams, env=env, timeout=timeout)
    finally:
        os.close(terminal_side)
        reader.join(timeout=60)
        os.close(controller)
    texts = {"stdout": done.stdout, "stderr": done.stderr, terminal: b"".join(chunks)}
    return subprocess.CompletedProcess(
        command, done.returncode, texts["stdout"].decode(), texts["stderr"].decode()
    )
