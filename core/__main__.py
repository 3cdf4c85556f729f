"""``python -m covcore``: the covcore command line."""

import sys

from covcore.cli import main

sys.exit(main())
