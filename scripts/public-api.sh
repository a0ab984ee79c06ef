#!/usr/bin/env bash
# The listing of the `neatlogs` crate's public API, neatlogs/public-api.txt,
# generated from rustdoc's JSON by tools/public-api (on the pinned stable
# toolchain: only the rustdoc run gets RUSTC_BOOTSTRAP=1).
#
#   bash scripts/public-api.sh           # rewrite the listing after an API change
#   bash scripts/public-api.sh --check   # CI: fail unless it is current
#
# Either way it reports the foreign items the API exposes (types of crates
# other than neatlogs, std, core, alloc, and serde's traits); --check also
# fails on one missing from tools/public-api/known-foreign.txt, or listed
# there but gone from the API. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --locked -p neatlogs-public-api -- "$@"
