#!/bin/sh
# Handshakes per second that `rtmp-probe serve` and nginx-rtmp sustain on this machine, measured
# with the same `rtmp-probe load` command against each in one run, one server at a time.
#
#   benches/load-vs-nginx.sh [LOAD OPTIONS...]    (default: --connections 50 --duration 10)
#
# Needs nginx and libnginx-mod-rtmp. Everything listens on 127.0.0.1 only. NGINX_WORKERS sets
# nginx's worker_processes (default 1, the usual nginx-rtmp setup for live streaming).
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/rtmp-probe"
module=/usr/lib/nginx/modules/ngx_rtmp_module.so
[ -f "$module" ] || { echo "nginx-rtmp is missing (apt install nginx libnginx-mod-rtmp)" >&2; exit 2; }
[ "$#" -gt 0 ] || set -- --connections 50 --duration 10

dir=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    i=0
    until python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; do
        i=$((i+1)); [ $i -lt 100 ] || { echo "nothing listens on port $1" >&2; exit 1; }; sleep 0.05
    done
}
# Runs the load against one server; prints its table, keeps its JSON for the summary.
measure() {
    name=$1 port=$2; shift 2
    echo "== $name"
    "$bin" load "rtmp://127.0.0.1:$port/live" "$@" --json > "$dir/$name.json" || true
    python3 - "$dir/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["time_to_connect_result"] or {}
print(f'{r["clients"]} clients, {r["handshakes"]} handshakes, {r["failed"]} failed, '
      f'{r["handshakes_per_s"]:.0f} handshakes/s, _result p50 {p.get("p50_ms", 0):.1f} ms '
      f'p99 {p.get("p99_ms", 0):.1f} ms max {p.get("max_ms", 0):.1f} ms')
for f in r["failures"]:
    print(f'  {f["stage"]}: {f["count"]} ({f["example"]})')
PY
}

port=$(free_port)
"$bin" serve --listen "127.0.0.1:$port" --quiet > "$dir/serve.log" 2>&1 &
pids="$pids $!"
wait_port "$port"
measure serve "$port" "$@"
kill "$!" 2>/dev/null || true

port=$(free_port)
cat > "$dir/nginx.conf" <<CONF
load_module $module;
daemon off;
master_process on;
worker_processes ${NGINX_WORKERS:-1};
worker_rlimit_nofile 4096;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 2048; }
rtmp { server { listen 127.0.0.1:$port; application live { live on; record off; } } }
CONF
nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" &
pids="$pids $!"
wait_port "$port"
measure nginx-rtmp "$port" "$@"

python3 - "$dir/serve.json" "$dir/nginx-rtmp.json" <<'PY'
import json, sys
s, n = (json.load(open(p))["handshakes_per_s"] for p in sys.argv[1:])
print(f"\nserve {s:.0f} handshakes/s, nginx-rtmp {n:.0f} handshakes/s: serve/nginx-rtmp = {s / n:.2f}")
PY
