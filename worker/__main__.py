"""``python -m worker ARGS`` is ``tomecast ARGS`` (e.g. ``python -m worker worker --queues gpu --device cuda:0``)."""

import sys

from worker.cli.main import main

sys.exit(main())
