#!/usr/bin/env bash
# The whole test suite: installs what the tests need beyond cargo, then runs
# every Rust test in the workspace and the cross-language checks.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --workspace"
cargo test --workspace --locked

echo "== the collector under load and attack (fast versions; docs/hardening.md)"
bash scripts/adversarial/quick.sh

if [ -f .ci/otlp-check.sh ]; then
  echo "== OTLP payloads through the official Python decoder"
  bash .ci/otlp-check.sh
fi

echo "== browser SDK and traces page in headless Chromium"
bash scripts/browser-tests.sh
