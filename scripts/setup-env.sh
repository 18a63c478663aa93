#!/usr/bin/env bash
# Creates ./.venv (if missing) and installs wiass into it: torch==2.13.0 first, so that pip never
# pulls a CUDA build, then the package in editable mode with the extras named in $WIASS_EXTRAS.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[${WIASS_EXTRAS:-musdb}]"
