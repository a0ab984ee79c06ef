#!/usr/bin/env bash
# Browser tests: the browser SDK's unit tests (stubbed fetch), then, in
# Debian's headless Chromium driven by playwright-core, the SDK end to end
# against a real `neatlogs serve` (built with the test-only `test-fixtures`
# feature, which serves the fixture page) and the traces page end to end.
# Installs what it needs on a fresh Debian machine; never downloads a
# browser of its own. Writes nothing into the source tree: screenshots go
# to $CARGO_TARGET_DIR/screenshots/ (scripts/screenshots.sh refreshes the
# ones in docs/).
#
#   bash scripts/browser-tests.sh                    # every browser test
#   bash scripts/browser-tests.sh test/e2e/traces-page.test.mjs
#
# Test files are relative to browser/. Honours CARGO_TARGET_DIR and
# NEATLOGS_SCREENSHOTS_DIR. Ends with the node test runner's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
for tool in node npm cargo; do
  command -v "$tool" >/dev/null || { echo "browser-tests: $tool is required" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "browser-tests: Node.js 20 or newer is required (found $(node --version))" >&2
  exit 1
fi

echo "== cargo build: the neatlogs collector and the quickstart example"
cargo build --locked -p neatlogs-cli --bin neatlogs --features test-fixtures
cargo build --locked -p neatlogs --example quickstart
# Where cargo put them (CARGO_TARGET_DIR, relative or not, or ./target).
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps --locked \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
export NEATLOGS_BIN="$TARGET_DIR/debug/neatlogs"
export NEATLOGS_QUICKSTART="$TARGET_DIR/debug/examples/quickstart"
export CHROMIUM=/usr/bin/chromium
export NEATLOGS_SCREENSHOTS_DIR="${NEATLOGS_SCREENSHOTS_DIR:-$TARGET_DIR/screenshots}"

echo "== browser SDK: npm ci and tsc"
cd "$ROOT/browser"
npm ci --no-audit --no-fund
npm run build

echo "== unit and browser tests (node --test)"
if [ "$#" -eq 0 ]; then
  set -- test/unit/*.test.mjs test/e2e/*.test.mjs
fi
node --test --test-concurrency=1 --test-timeout=300000 "$@"
