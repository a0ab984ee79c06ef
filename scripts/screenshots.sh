#!/usr/bin/env bash
# Regenerates the README's screenshots, docs/traces.png, docs/trace.png,
# docs/users.png and docs/transcript.png, from the traces page and
# transcript end-to-end tests (seeded stores in headless Chromium). The tests themselves never write into docs/: run this
# on purpose, look at the pictures, and commit them.
#
#   bash scripts/screenshots.sh
#
# Needs what scripts/browser-tests.sh needs (and installs).
set -euo pipefail
cd "$(dirname "$0")/.."

NEATLOGS_SCREENSHOTS_DIR="$(pwd)/docs" \
  bash scripts/browser-tests.sh test/e2e/traces-page.test.mjs test/e2e/transcript.test.mjs
echo "== screenshots written:"
ls -l docs/*.png
