#!/usr/bin/env bash
# System packages the test suite needs: ffmpeg (musdb/museval import stempeg, which checks for it
# at import) and chromium (tests/test_report_browser.py opens the HTML report in it). Installed with apt-get when missing and when we may; tests that need a missing tool
# skip and say why.
set -uo pipefail
missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } \
    || echo "system-deps: could not install ${missing[*]}; the tests that need them will skip"
else
  echo "system-deps: ${missing[*]} missing and apt-get is not usable; the tests that need them will skip"
fi
