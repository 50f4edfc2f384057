import sys

from tasks.cli.main import main

sys.exit(main())
