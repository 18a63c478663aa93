#!/usr/bin/env bash
# The test command: sets up .venv with the test extras and the system packages, then runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
WIASS_EXTRAS=test bash scripts/setup-env.sh
bash scripts/system-deps.sh
exec .venv/bin/python -m pytest "$@"
