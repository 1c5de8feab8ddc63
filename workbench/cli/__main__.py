"""`python -m workbench.cli`: the same as the `awb` script."""

import sys

from workbench.cli.main import main

sys.exit(main())
