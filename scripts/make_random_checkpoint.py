#!/usr/bin/env python3
"""Write a random-weight checkpoint folder in the official Chatterbox layout (no download needed).

    python scripts/make_random_checkpoint.py DIR [--preset tiny|full] [--seed N]

"tiny" runs the whole pipeline on a CPU in well under a second per chunk (tests, demos without internet);
"full" has the real sizes (speed and memory benchmarks). Random weights speak noise, never words, and never
sample the stop token: cap --max-new-tokens when converting with them.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.testing import write_random_checkpoint  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--preset", default="tiny", choices=["tiny", "full"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(write_random_checkpoint(args.folder, args.preset, args.seed))


if __name__ == "__main__":
    main()
