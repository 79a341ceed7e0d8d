#!/usr/bin/env bash
# Records the project's own captures of real RTMP peers on loopback (127.0.0.1 only).
# Installs what it needs (Debian; run as root), then records each session with tcpdump into
# captures/, small enough to keep in the repository. Every peer run is bounded in time.
# Usage: captures/record.sh [FILE.pcap...]   (no argument: all of them)
set -euo pipefail
cd "$(dirname "$0")"
only=("$@")

export DEBIAN_FRONTEND=noninteractive
need=()
for tool in ffmpeg nginx tcpdump tshark gst-launch-1.0; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q ffmpeg nginx libnginx-mod-rtmp tcpdump tshark gstreamer1.0-tools \
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad >/dev/null
fi

work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Publishes ${2:-2} s of 160x120 H.264 + AAC to $1 in real time.
publish() {
  timeout 20 ffmpeg -hide_banner -loglevel error -nostdin -re \
    -f lavfi -i testsrc=size=160x120:rate=25 -f lavfi -i sine \
    -c:v libx264 -g 25 -c:a aac -t "${2:-2}" -f flv "$1"
}

# Plays from nginx-rtmp with the command after it while FFmpeg publishes: the publisher uses
# port 19442 and the player 19443, so that the recording of 19443 holds the player alone.
play_while_publishing() {
  publish rtmp://127.0.0.1:19442/live/play 6 &
  local publisher=$!
  # Let nginx have the stream's headers and a keyframe before the player asks for it.
  sleep 1.5
  "$@" || true
  wait "$publisher" || true
}

# Whether capture $1 is to be recorded this time.
wanted() {
  [ ${#only[@]} -eq 0 ] || printf '%s\n' "${only[@]}" | grep -qxF "$1"
}

# Captures port $1 into $2 while the command after them runs. The capture is checked with
# tshark: packet capture on a busy loopback can drop a segment, and a fixture with a hole in it
# would test the gap reporting rather than the session, so such a recording is made again.
record() {
  local port="$1" out="$2"; shift 2
  wanted "$out" || return 0
  for attempt in 1 2 3 4 5; do
    tcpdump -i lo -s 0 -U --immediate-mode -w "$out" "tcp port $port" >/dev/null 2>&1 &
    local dump=$!
    sleep 1
    "$@" || true
    # Let the last packets reach the file before tcpdump stops.
    sleep 1.5
    kill -INT "$dump"; wait "$dump" 2>/dev/null || true
    local lost
    lost=$(tshark -r "$out" -Y "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment" 2>/dev/null | wc -l)
    if [ "$lost" -eq 0 ]; then
      echo "recorded $out ($(stat -c %s "$out") bytes)"
      return 0
    fi
    echo "recording $out missed segments (attempt $attempt); again" >&2
  done
  echo "could not record $out without missing segments" >&2
  return 1
}

# 1. FFmpeg publishing to FFmpeg's listen mode (the server of ticket 6453).
if wanted ffmpeg-publish-to-ffmpeg-listen.pcap; then
  (timeout 15 ffmpeg -hide_banner -loglevel error -nostdin -listen 1 \
    -i rtmp://127.0.0.1:19441/live/x -c copy -f null - || true) &
  sleep 0.5
  record 19441 ffmpeg-publish-to-ffmpeg-listen.pcap publish rtmp://127.0.0.1:19441/live/x
fi

# 2. nginx-rtmp: FFmpeg publishing, GStreamer rtmp2sink publishing from a file.
cat > "$work/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off; master_process off; worker_processes 1;
pid $work/nginx.pid; error_log $work/error.log info;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:19442; listen 127.0.0.1:19443;
                application live { live on; record off; } } }
CONF
timeout 300 nginx -p "$work" -e "$work/error.log" -c "$work/nginx.conf" &
sleep 1
record 19442 ffmpeg-publish-to-nginx.pcap publish rtmp://127.0.0.1:19442/live/ff
if wanted gstreamer-publish-to-nginx.pcap; then
  timeout 20 ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i testsrc=size=160x120:rate=25 \
    -c:v libx264 -g 25 -t 2 "$work/clip.flv"
fi
record 19442 gstreamer-publish-to-nginx.pcap timeout 20 gst-launch-1.0 -q \
  filesrc location="$work/clip.flv" ! flvdemux name=d d.video ! queue ! h264parse ! \
  flvmux streamable=true ! rtmp2sink location=rtmp://127.0.0.1:19442/live/gst

# 3. Players, each taking about 2 s of a live stream from nginx-rtmp. The ones that do not stop
# by themselves are interrupted the way a person would stop them (SIGINT).
record 19443 ffmpeg-play-from-nginx.pcap play_while_publishing \
  timeout 10 ffmpeg -hide_banner -loglevel error -nostdin \
  -i rtmp://127.0.0.1:19443/live/play -t 2 -c copy -f null -
record 19443 rtmpdump-play-from-nginx.pcap play_while_publishing \
  timeout -s INT 2 rtmpdump -q --live -r rtmp://127.0.0.1:19443/live/play -o /dev/null
record 19443 gstreamer-play-from-nginx.pcap play_while_publishing \
  timeout -s INT 2 gst-launch-1.0 -q -e rtmp2src location=rtmp://127.0.0.1:19443/live/play ! \
  fakesink
