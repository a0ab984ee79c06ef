#!/usr/bin/env bash
# The listings of the published library crates' public APIs,
# neatlogs/public-api.txt and neatlogs-wire/public-api.txt, generated from
# rustdoc's JSON by tools/public-api (on the pinned stable toolchain: only the
# rustdoc run gets RUSTC_BOOTSTRAP=1).
#
#   bash scripts/public-api.sh           # rewrite the listings after an API change
#   bash scripts/public-api.sh --check   # CI: fail unless they are current
#
# Either way it reports the foreign items each API exposes (types of other
# crates than its own, std, core, alloc, and serde's traits); --check also
# fails on one of neatlogs' missing from tools/public-api/known-foreign.txt,
# or listed there but gone from the API, and on any in neatlogs-wire. Honours
# CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked -p neatlogs-public-api
for package in neatlogs neatlogs-wire; do
  cargo run --quiet --locked -p neatlogs-public-api -- --package "$package" "$@"
done
