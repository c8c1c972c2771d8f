"""``python -m bankml``: the same command line as the ``bankml`` console script."""

import sys

from .cli import main

sys.exit(main())
