#!/usr/bin/env bash
# Builds every cargo-fuzz target into $OUT with its seed corpus (<target>_seed_corpus.zip) and
# the RTMP dictionary (<target>.dict), as ClusterFuzzLite and OSS-Fuzz expect. Also runs
# outside their image (.ci/run checks it with OUT set): .ci/fuzz-toolchain.sh then picks
# nightly, or stable with RUSTC_BOOTSTRAP=1.
set -euo pipefail
: "${OUT:?set OUT to the directory the fuzzers go to}"
# In the repository it sits in .clusterfuzzlite/; the build image copies it to $SRC/build.sh and
# starts it in the repository (the Dockerfile's WORKDIR), where ../ would be the wrong place.
repo="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$repo/Cargo.toml" ] || repo="$PWD"
cd "$repo"
OUT="$(mkdir -p "$OUT" && cd "$OUT" && pwd)"

. .ci/fuzz-toolchain.sh

fuzz build -O
target_dir="${CARGO_TARGET_DIR:-fuzz/target}"
[ -d "$target_dir/x86_64-unknown-linux-gnu" ] || target_dir="fuzz/target"
bin_dir="$target_dir/x86_64-unknown-linux-gnu/release"

for target in $(fuzz list); do
  cp "$bin_dir/$target" "$OUT/$target"
  cp fuzz/rtmp.dict "$OUT/$target.dict"
  if [ -d "fuzz/seeds/$target" ]; then
    rm -f "$OUT/${target}_seed_corpus.zip"
    (cd "fuzz/seeds/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
