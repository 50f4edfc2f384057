"""``python -m worker.cli ARGS`` is ``tomecast ARGS``."""

import sys

from worker.cli.main import main

sys.exit(main())
