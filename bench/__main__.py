"""``python -m bench``: every job on a large emulated desk; see `bench.run`."""

import sys

from bench.run import main

sys.exit(main())
