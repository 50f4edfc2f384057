"""Worker entry: ``python -m worker --queues gpu --device cuda:0`` is ``tomecast worker --queues gpu ...``.

(The whole CLI without the console script: ``python -m worker.cli ARGS``.)
"""

import sys

from worker.cli.main import main

sys.exit(main(["worker", *sys.argv[1:]]))
