"""``python -m whynet.search ARGS``: the same as ``whynet search ARGS``."""

import sys

from .cli import main

sys.exit(main())
