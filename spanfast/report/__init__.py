"""The HTML report of label issues: :func:`to_html` and :func:`write_html`.

One self-contained page (no network, no external assets, readable printed):
what was run, the issue counts per class, the distribution of sentence
scores, and a card per flagged sentence, worst first, with the given and
predicted spans drawn in displaCy's span style.
"""

from __future__ import annotations

from typing import Any

from .html import to_html

__all__ = ["to_html", "write_html"]


def write_html(path: Any, issues: Any, tokens: Any, **options: Any) -> None:
    """Write :func:`to_html` to ``path`` atomically (never a half-written file).

    Parameters
    ----------
    path : str or path-like
        The file to write; ``-`` writes to stdout.
    issues, tokens, **options
        As :func:`to_html` takes them.

    Returns
    -------
    None
    """
    from .._atomic import write_text_file

    page = to_html(issues, tokens, **options)
    write_text_file(path, lambda stream: stream.write(page))
