#!/usr/bin/env bash
# Installs everything the tests need (system tools, .venv with the dev and watermark extras) and runs the whole suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh dev,watermark   # the watermark test applies and reads back a real Perth mark
exec .venv/bin/python -m pytest "$@"
