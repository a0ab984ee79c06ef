#!/usr/bin/env bash
# The whole test suite: installs what the tests need beyond cargo, then runs
# every Rust test in the workspace and the cross-language checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Features are unified across the workspace: neatlogs-bench's dependency on
# neatlogs turns on `tracing`, `http`, `tower`, `axum`, `reqwest`,
# `async-openai` and `zstd` for neatlogs' own tests too (the
# `#[cfg(feature = "zstd")]` ones included).
echo "== cargo test --workspace"
cargo test --workspace --locked

# The integrations' example, offline: a fake model server, a gateway and an
# agent service on 127.0.0.1, four requests of three end-users and one
# refused; every span delivered.
echo "== neatlogs/examples/axum_service.rs"
out=$(timeout 300 cargo run --locked -q -p neatlogs --example axum_service \
  --features "tower axum reqwest async-openai" 2>&1)
echo "$out" | tail -3
[ "$(echo "$out" | grep -c ' -> 200 OK ')" = 4 ] || { echo "axum_service: expected 4 answered requests" >&2; exit 1; }
echo "$out" | grep -q 'dropped 0, failed 0' || { echo "axum_service: spans lost" >&2; exit 1; }

echo "== the collector under load and attack (fast versions; docs/hardening.md)"
bash scripts/adversarial/quick.sh

if [ -f .ci/otlp-check.sh ]; then
  echo "== OTLP payloads through the official Python decoder"
  bash .ci/otlp-check.sh
fi

# The official Python SDK (neatlogs 1.3.7 and 1.4.27, pinned, installed from
# PyPI into venvs under target/parity) and neatlogs/examples/parity_scenario.rs run
# the same scenario; every attribute key one writes and the other does not
# must be declared in scripts/parity/compare.py. A few minutes; the timeout
# only guards against a hang.
echo "== parity with the official Python SDK (scripts/parity/run.sh)"
timeout 1500 bash scripts/parity/run.sh

# The same pinned Python SDKs, sending to `neatlogs serve`: their traces
# show the right tokens and cost per end-user in `neatlogs users`.
echo "== the official Python SDK's traces in neatlogs serve (scripts/parity/collector_check.py)"
cargo build --locked -q -p neatlogs-cli --bin neatlogs
for version in 1.3.7 1.4; do
  timeout 600 "target/parity/venv-$version/bin/python" scripts/parity/collector_check.py \
    --neatlogs "${CARGO_TARGET_DIR:-target}/debug/neatlogs"
done

# A real Arize Phoenix (pinned, from PyPI into target/phoenix/venv), with
# authentication on: neatlogs/examples/backends.rs sends with
# NEATLOGS_CONVENTIONS=openinference and the OTEL_EXPORTER_OTLP_* variables,
# and scripts/phoenix/check.py reads the spans, sessions and users back
# through Phoenix's own API. A few minutes cold.
echo "== Arize Phoenix reads the OpenInference vocabulary (scripts/phoenix/run.sh)"
timeout 1500 bash scripts/phoenix/run.sh

# A real Prometheus (Debian's package) scrapes the usage per end-user that
# the `metrics` feature records through the `metrics` facade, every trace
# dropped by the sampler, and returns with PromQL the tokens the example's
# fake model handed out.
echo "== Prometheus reads the usage per end-user (scripts/prometheus/run.sh)"
timeout 600 bash scripts/prometheus/run.sh

echo "== browser SDK and traces page in headless Chromium"
bash scripts/browser-tests.sh
