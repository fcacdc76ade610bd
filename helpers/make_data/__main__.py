"""`python -m helpers.make_data` (what `make data` runs)."""

import sys

from helpers.make_data import main

sys.exit(main())
