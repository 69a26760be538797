"""`python -m ttsbench` runs the CLI."""

import sys

from ttsbench.cli import main

sys.exit(main())
