#!/usr/bin/env bash
# The large-capture benchmark (issue 5): speed and completeness of `rtmp-probe replay` on a
# capture of a real, fast publish session, with tshark's RTMPT dissector measured on the same file.
#
#   benches/large-capture.sh [WORK_DIR]        (default: target/large-capture; run as root)
#
# 1. Encodes SECONDS s of 1280x720 30 fps testsrc2 + a sine tone with libx264 ultrafast at
#    BITRATE and AAC into WORK_DIR/source.flv (kept and reused while the settings are the same),
#    and counts its video and audio packets with ffprobe: what the encoder sends.
# 2. Starts nginx-rtmp on 127.0.0.1:PORT and publishes the file with `ffmpeg -c copy` as fast as
#    it goes (no -re), recording the session with tcpdump into WORK_DIR/publish.pcap. A capture
#    that tcpdump dropped packets from, or in which tshark sees a missing segment, is made again.
# 3. Replays it with `rtmp-probe replay --json` (release build) and checks that the video and
#    audio frames found equal the encoder's counts.
# 4. Times the replay (best of RUNS, output to /dev/null), measures its largest resident set, and
#    times `cat` of the file (the speed of reading it and nothing else) and tshark's
#    `tshark -r F -d tcp.port==PORT,rtmpt -Y rtmpt -T fields -e rtmpt.header.typeid` on the same
#    file, and prints both throughputs and what tshark found.
#
# The capture stays out of git (target/ is ignored; a WORK_DIR elsewhere is the caller's).
# Everything runs on 127.0.0.1 and every peer is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

SECONDS_OF_CONTENT="${SECONDS_OF_CONTENT:-60}"
BITRATE="${BITRATE:-40M}"
RUNS="${RUNS:-5}"
PORT="${PORT:-19451}"
MIN_BYTES=$((100 * 1000 * 1000))
work="$(realpath -m "${1:-${CARGO_TARGET_DIR:-target}/large-capture}")"
mkdir -p "$work"

for tool in ffmpeg ffprobe nginx tcpdump tshark cargo /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "large-capture: $tool is required" >&2; exit 2; }
done
module=/usr/lib/nginx/modules/ngx_rtmp_module.so
[ -f "$module" ] || { echo "large-capture: $module (libnginx-mod-rtmp) is required" >&2; exit 2; }

tmp="$(mktemp -d)"
cleanup() {
  local pids
  pids="$(jobs -p)"
  [ -z "$pids" ] || kill $pids 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- 1. the encoded source and what it holds -------------------------------------------------
source_flv="$work/source-${SECONDS_OF_CONTENT}s-${BITRATE}.flv"
if [ ! -s "$source_flv" ]; then
  echo "encoding $SECONDS_OF_CONTENT s of 720p30 at $BITRATE into $source_flv"
  timeout 1200 ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=44100" \
    -c:v libx264 -preset ultrafast -b:v "$BITRATE" -g 60 -c:a aac -b:a 128k \
    -t "$SECONDS_OF_CONTENT" -f flv "$source_flv.part"
  mv "$source_flv.part" "$source_flv"
fi
packets() {
  ffprobe -v error -count_packets -select_streams "$1" -show_entries stream=nb_read_packets \
    -of csv=p=0 "$source_flv"
}
sent_video="$(packets v:0)"
sent_audio="$(packets a:0)"
echo "encoder: $sent_video video + $sent_audio audio packets in $(stat -c %s "$source_flv") bytes of FLV"

# --- 2. nginx-rtmp and the recording --------------------------------------------------------
cat >"$tmp/nginx.conf" <<CONF
load_module $module;
daemon off; master_process off; worker_processes 1;
pid $tmp/nginx.pid; error_log $tmp/error.log info;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:$PORT; application live { live on; record off; } } }
CONF
timeout 1800 nginx -p "$tmp" -e "$tmp/error.log" -c "$tmp/nginx.conf" &
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

capture="$work/publish.pcap"
recorded=""
# REUSE_CAPTURE=1 keeps a capture from an earlier run (to measure again after a change).
if [ "${REUSE_CAPTURE:-0}" = 1 ] && [ -s "$capture" ]; then
  recorded=yes
  echo "capture: reusing $capture"
fi
for attempt in 1 2 3; do
  [ -z "$recorded" ] || break
  # 256 KiB snaplen (loopback frames reach 64 KiB) and a 256 MiB kernel buffer, so a burst of
  # frames at memory speed is not dropped.
  timeout 300 tcpdump -i lo -s 262144 -B 262144 -w "$capture" "tcp port $PORT" 2>"$tmp/tcpdump.err" &
  dump=$!
  for _ in $(seq 50); do grep -q "listening on" "$tmp/tcpdump.err" && break; sleep 0.1; done
  timeout 300 ffmpeg -hide_banner -loglevel error -nostdin -i "$source_flv" -c copy -f flv \
    "rtmp://127.0.0.1:$PORT/live/bench" || echo "ffmpeg exited with $? (attempt $attempt)" >&2
  # Let the last packets reach the file before tcpdump stops.
  sleep 1
  kill -INT "$dump"
  wait "$dump" 2>/dev/null || true
  dropped="$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$tmp/tcpdump.err")"
  lost="$(tshark -r "$capture" -Y "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment" \
    2>/dev/null | wc -l)"
  if [ "${dropped:-unknown}" = 0 ] && [ "$lost" -eq 0 ]; then
    recorded=yes
    break
  fi
  echo "recording attempt $attempt: tcpdump dropped ${dropped:-unknown} packets, tshark sees $lost missing segments; again" >&2
done
[ -n "$recorded" ] || { echo "large-capture: could not record without losses" >&2; exit 1; }
size="$(stat -c %s "$capture")"
[ -s "$tmp/tcpdump.err" ] &&
  echo "capture: $capture, $size bytes, $(grep -o '^[0-9]* packets captured' "$tmp/tcpdump.err"), 0 dropped, no missing segment"
if [ "$size" -lt "$MIN_BYTES" ]; then
  echo "large-capture: the capture is under 100 MB; raise BITRATE or SECONDS_OF_CONTENT" >&2
  exit 1
fi

# --- 3. completeness ------------------------------------------------------------------------
cargo build --release --locked --quiet --bin rtmp-probe
probe="${CARGO_TARGET_DIR:-$root/target}/release/rtmp-probe"
"$probe" replay --json "$capture" >"$work/replay.jsonl"
flow_line="$(grep -m1 '"event":"flow"' "$work/replay.jsonl")"
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$flow_line"; }
found_video="$(field video_frames)"
found_audio="$(field audio_frames)"
echo "rtmp-probe: $found_video video + $found_audio audio frames ($(field client_messages) client messages); encoder sent $sent_video + $sent_audio"
complete=yes
[ "$found_video" = "$sent_video" ] && [ "$found_audio" = "$sent_audio" ] || complete=no

# --- 4. speed -------------------------------------------------------------------------------
# Best of RUNS runs, by wall clock and by CPU time (user + sys: what the run itself cost, which
# other work on a shared machine does not inflate); prints both with the throughput.
best_of() {
  local best_wall="" best_cpu="" wall user sys
  for _ in $(seq "$RUNS"); do
    read -r wall user sys < <({ TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1)
    best_wall="$(awk -v a="$wall" -v b="${best_wall:-$wall}" 'BEGIN { print (a < b ? a : b) }')"
    best_cpu="$(awk -v a="$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" -v b="${best_cpu:-999999}" 'BEGIN { print (a < b ? a : b) }')"
  done
  awk -v w="$best_wall" -v c="$best_cpu" -v bytes="$size" 'BEGIN {
    printf "wall %.3f s = %.0f MB/s, CPU %.3f s = %.0f MB/s", w, bytes / 1e6 / w, c, (c > 0 ? bytes / 1e6 / c : 0) }'
}
ours="$(best_of "$probe" replay --json "$capture")"
# Reading the file and nothing else: how close replay comes to the speed of the page cache.
cat_speed="$(best_of cat "$capture")"
# Memory stays bounded however large the capture: the most replay held at once.
/usr/bin/time -f %M -o "$tmp/rss" "$probe" replay --json "$capture" >/dev/null 2>&1
max_rss="$(awk '{ printf "%.1f", $1 / 1024 }' "$tmp/rss")"
tshark_cmd=(tshark -r "$capture" -d "tcp.port==$PORT,rtmpt" -Y rtmpt -T fields -e rtmpt.header.typeid)
theirs="$(best_of "${tshark_cmd[@]}")"
# tshark prints type ids in hex (0x09), several per packet separated by commas.
"${tshark_cmd[@]}" 2>/dev/null | tr ',' '\n' | awk 'NF {
    s = tolower($1); v = 0
    if (s ~ /^0x/) { for (i = 3; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1 }
    else v = s + 0
    n[v]++
  } END { for (v in n) print n[v], v }' | sort -k2n >"$tmp/tshark-types"
tshark_count() { awk -v t="$1" '$2 == t { c = $1 } END { print c + 0 }' "$tmp/tshark-types"; }
# Type ids RTMP defines: 1-6 control, 8 audio, 9 video, 15-20 data/shared object/command, 22 aggregate.
invented="$(awk '$2 !~ /^(1|2|3|4|5|6|8|9|15|16|17|18|19|20|22)$/ { n += $1; k++ } END { printf "%d messages with %d undefined type ids", n, k }' "$tmp/tshark-types")"
load="$(cut -d' ' -f1-3 /proc/loadavg)"

cat <<REPORT

large-capture benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $(tshark --version | head -1 | cut -d' ' -f1-3))
  capture          $size bytes, FFmpeg -c copy -> nginx-rtmp, ${SECONDS_OF_CONTENT} s of 720p30 at $BITRATE + AAC
  encoder sent     $sent_video video, $sent_audio audio
  rtmp-probe found $found_video video, $found_audio audio frames: $([ $complete = yes ] && echo complete || echo INCOMPLETE)
  tshark found     $(tshark_count 9) video, $(tshark_count 8) audio messages, $invented
  rtmp-probe       $ours
                   ($probe replay --json F > /dev/null, best of $RUNS)
  rtmp-probe RSS   $max_rss MiB at most (/usr/bin/time -f %M; the capture is $((size / 1048576)) MiB)
  cat              $cat_speed
                   (cat F > /dev/null, best of $RUNS: the file read and nothing else)
  tshark           $theirs
                   (${tshark_cmd[*]/#$capture/F} > /dev/null, best of $RUNS)
  load average     $load (on a busy machine the CPU figures are the comparable ones)
REPORT
[ $complete = yes ]
