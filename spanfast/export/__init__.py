"""Flagged sentences out to annotation tools, and the corrections back.

- :func:`to_tasks` / :func:`write_export`: the flagged sentences as Label
  Studio, Prodigy or doccano tasks, worst first (:mod:`.tasks`).
- :func:`apply_corrections`: what the tool exports after review, written as
  the original file with only the reviewed sentences' labels changed
  (:mod:`.reviewed` reads the tools' exports, :mod:`.apply` maps character
  spans back to token labels, :mod:`.layout` writes the original layout);
  :func:`apply_to_labels` does the same on in-memory labels.
"""

from __future__ import annotations

from .apply import Changes, apply_to_labels
from .layout import apply_corrections
from .reviewed import TOOLS, read_reviewed
from .tasks import FORMATS, to_tasks, token_offsets, write_export, write_tasks

__all__ = [
    "FORMATS",
    "TOOLS",
    "Changes",
    "apply_corrections",
    "apply_to_labels",
    "read_reviewed",
    "to_tasks",
    "token_offsets",
    "write_export",
    "write_tasks",
]
