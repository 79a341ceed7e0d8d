#!/bin/sh
# Handshakes per second that `rtmp-probe serve` and nginx-rtmp sustain on this machine, measured
# with the same `rtmp-probe load` command against each in one run, one server at a time,
# alternating for ROUNDS rounds (default 3) so that a noisy neighbour hits both alike. Also
# prints the CPU time each server spent per handshake, which noise disturbs much less.
#
#   benches/load-vs-nginx.sh [LOAD OPTIONS...]    (default: --connections 200 --run-time 10)
#
# Needs nginx and libnginx-mod-rtmp. Everything listens on 127.0.0.1 only. WORKERS (default 1,
# the usual nginx-rtmp setup for live streaming) is both nginx's worker_processes and serve's
# --threads, so that each server gets the same number of threads.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/rtmp-probe"
module=/usr/lib/nginx/modules/ngx_rtmp_module.so
[ -f "$module" ] || { echo "nginx-rtmp is missing (apt install nginx libnginx-mod-rtmp)" >&2; exit 2; }
[ "$#" -gt 0 ] || set -- --connections 200 --run-time 10
rounds=${ROUNDS:-3}
workers=${WORKERS:-1}

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
# CPU clock ticks (user + system) of a process and its children (nginx's workers).
cpu_ticks() {
    t=0
    for p in $1 $(cat /proc/$1/task/*/children 2>/dev/null); do
        t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0)))
    done
    echo $t
}
start_serve() {
    port=$(free_port)
    "$bin" serve --listen "127.0.0.1:$port" --quiet --threads "$workers" > "$dir/serve.log" 2>&1 &
    server=$!; pids="$pids $server"
}
start_nginx() {
    port=$(free_port)
    master=off; [ "$workers" = 1 ] || master=on
    cat > "$dir/nginx.conf" <<CONF
load_module $module;
daemon off;
master_process $master;
worker_processes $workers;
worker_rlimit_nofile 4096;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 2048; }
rtmp { server { listen 127.0.0.1:$port; application live { live on; record off; } } }
CONF
    nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" &
    server=$!; pids="$pids $server"
}
# One measurement: start the server, run the load, stop the server; appends a JSON line.
measure() {
    name=$1; shift
    "start_$name"
    wait_port "$port"
    before=$(cpu_ticks "$server")
    "$bin" load "rtmp://127.0.0.1:$port/live" "$@" --json > "$dir/run.json" || true
    after=$(cpu_ticks "$server")
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    python3 - "$dir/run.json" "$name" "$((after - before))" "$(getconf CLK_TCK)" >> "$dir/all.jsonl" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["server"] = sys.argv[2]
r["cpu_us_per_handshake"] = int(sys.argv[3]) / int(sys.argv[4]) * 1e6 / max(r["handshakes"], 1)
print(json.dumps(r))
p = r["time_to_connect_result"] or {}
print(f'{r["server"]:<6} {r["clients"]} clients, {r["failed"]} failed, {r["handshakes_per_s"]:.0f} handshakes/s, '
      f'_result p50 {p.get("p50_ms", 0):.1f} ms p99 {p.get("p99_ms", 0):.1f} ms max {p.get("max_ms", 0):.1f} ms, '
      f'server CPU {r["cpu_us_per_handshake"]:.0f} us/handshake', file=sys.stderr)
for f in r["failures"]:
    print(f'       {f["stage"]}: {f["count"]} ({f["example"]})', file=sys.stderr)
PY
}

echo "load $* ($workers thread(s) or worker(s) per server), $rounds rounds"
round=0
while [ $round -lt "$rounds" ]; do
    round=$((round + 1))
    measure serve "$@"
    measure nginx "$@"
done
python3 - "$dir/all.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def med(server, key):
    return statistics.median(r[key] for r in runs if r["server"] == server)
s, n = med("serve", "handshakes_per_s"), med("nginx", "handshakes_per_s")
print(f"\nmedian: serve {s:.0f} handshakes/s ({med('serve', 'cpu_us_per_handshake'):.0f} us CPU each), "
      f"nginx-rtmp {n:.0f} handshakes/s ({med('nginx', 'cpu_us_per_handshake'):.0f} us CPU each); "
      f"serve/nginx-rtmp = {s / n:.2f}")
PY
