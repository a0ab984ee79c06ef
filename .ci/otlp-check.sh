#!/usr/bin/env bash
# The official-decoder check (issue 4): what the SDK sends and writes must
# decode with the OpenTelemetry Python package, and its JSON must parse with
# google.protobuf.json_format without unknown-field tolerance.
#
# 1. install `opentelemetry-proto` from PyPI;
# 2. run the export_wire tests that save the payloads a real receiver got
#    (protobuf and JSON) and the local file's JSON lines into a directory;
# 3. decode and assert them with neatlogs/tests/otlp_decode.py.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check opentelemetry-proto

samples="${OTLP_SAMPLES_DIR:-$PWD/target/otlp-samples}"
rm -rf "$samples"
mkdir -p "$samples"

OTLP_SAMPLES_DIR="$samples" cargo test -p neatlogs --test export_wire -- \
    wire_table_over_protobuf wire_table_over_json_from_env

python3 neatlogs/tests/otlp_decode.py "$samples"
