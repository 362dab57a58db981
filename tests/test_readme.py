"""The README's Python examples run and print what the README says."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_ragged_example_gives_the_issues_shown():
    text = README.read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "Ragged(" in b)
    *setup, last = [line for line in block.strip().splitlines() if line.strip()]
    call, expected = last.split("#", 1)
    namespace: dict = {}
    exec("\n".join(setup), namespace)
    assert repr(eval(call, namespace)) == expected.strip()
