"""``python -m neuromem``: the same as the ``neuromem`` command."""

import sys

from neuromem.cli import main

sys.exit(main())
