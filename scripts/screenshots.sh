#!/usr/bin/env bash
# Regenerates the README's screenshots, docs/traces.png, docs/trace.png and
# docs/users.png, from the traces page end-to-end test (a seeded store in
# headless Chromium). The tests themselves never write into docs/: run this
# on purpose, look at the pictures, and commit them.
#
#   bash scripts/screenshots.sh
#
# Needs what scripts/browser-tests.sh needs (and installs).
set -euo pipefail
cd "$(dirname "$0")/.."

NEATLOGS_SCREENSHOTS_DIR="$(pwd)/docs" \
  bash scripts/browser-tests.sh test/e2e/traces-page.test.mjs
echo "== screenshots written:"
ls -l docs/*.png
