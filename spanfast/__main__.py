"""Run the ``spanfast`` command line as ``python -m spanfast``."""

import sys

from spanfast.cli import main

if __name__ == "__main__":
    sys.exit(main())
