#!/usr/bin/env bash
# The main job: sets up .venv, then runs `wiass demo` on embedded synthetic songs (no downloads).
# Extra arguments go to `wiass demo` (e.g. scripts/demo.sh --train --out my-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
exec .venv/bin/wiass demo --force "$@"
