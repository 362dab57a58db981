"""Shared pytest configuration for the oracle suite.

Hypothesis profiles: ``default`` (quick, used unless told otherwise) and
``nightly`` (large); choose with ``SPANFAST_HYPOTHESIS_PROFILE=nightly``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# The suite tests the compiled kernels: small inputs would otherwise run their Python
# bodies (spanfast._numba, "Small inputs"); test_interpreted.py compares the two.
os.environ.setdefault("SPANFAST_INTERPRET_BELOW", "0")

# pytest runs with --import-mode=importlib, which does not put tests/ on sys.path;
# the test modules import their helpers (strategies, registry) as top-level modules.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("default", max_examples=40, **_COMMON)
settings.register_profile("nightly", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("SPANFAST_HYPOTHESIS_PROFILE", "default"))
