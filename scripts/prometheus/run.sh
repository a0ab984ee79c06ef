#!/usr/bin/env bash
# A real Prometheus (Debian's `prometheus` package) scrapes the `metrics`
# facade of neatlogs/examples/prometheus_usage.rs (every trace dropped by
# the sampler) and answers, with PromQL, the tokens per end-user that the
# example's fake model handed out (scripts/prometheus/check.py).
set -euo pipefail
cd "$(dirname "$0")/../.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v prometheus >/dev/null; then
  echo "== installing Debian's prometheus"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus >/dev/null
fi
prometheus --version 2>&1 | head -1

cargo build --locked -q -p neatlogs --example prometheus_usage --features metrics
dir=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
service_port=$(free_port)
prom_port=$(free_port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

"${CARGO_TARGET_DIR:-target}/debug/examples/prometheus_usage" "127.0.0.1:$service_port" 300 >"$dir/service.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do grep -q READY "$dir/service.out" && break; sleep 0.2; done
grep -q READY "$dir/service.out" || { cat "$dir/service.out"; echo "the example did not start" >&2; exit 1; }

cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: usage
    static_configs:
      - targets: ['127.0.0.1:$service_port']
YML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
pids+=($!)

python3 scripts/prometheus/check.py --prometheus "http://127.0.0.1:$prom_port" \
  --expected "$(grep '^EXPECTED ' "$dir/service.out" | cut -d' ' -f2-)" \
  || { tail -20 "$dir/prometheus.log"; exit 1; }
