#!/usr/bin/env bash
# Installs everything the tests need (system tools, .venv with the dev extra) and runs the whole suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh dev
exec .venv/bin/python -m pytest "$@"
