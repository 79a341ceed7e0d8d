#!/usr/bin/env bash
# Line coverage of one fuzz target over its corpus and seeds, with Debian's LLVM tools:
#   fuzz/coverage.sh TARGET            -> a summary per file, and an HTML report
# `cargo fuzz coverage` builds the instrumented target and runs the inputs; the profile is then
# merged and reported with llvm-profdata/llvm-cov of the same LLVM major version as the nightly
# compiler (Debian: apt-get install llvm-<N>; `rustc +nightly -vV` names N). cargo fuzz's own
# merge step looks for rustup's llvm-tools component instead, so it is done here.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: fuzz/coverage.sh TARGET}"

llvm="$(rustc +nightly -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')"
profdata="$(command -v "llvm-profdata-$llvm" || true)"
cov="$(command -v "llvm-cov-$llvm" || true)"
if [ -z "$profdata" ] || [ -z "$cov" ]; then
  echo "nightly rustc uses LLVM $llvm: install llvm-$llvm (apt-get install llvm-$llvm); an older llvm-cov cannot read its profiles" >&2
  exit 2
fi

inputs=()
for dir in "fuzz/corpus/$target" "fuzz/seeds/$target" "fuzz/regressions/$target"; do
  [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && inputs+=("$dir")
done
[ "${#inputs[@]}" -gt 0 ] || { echo "no inputs for $target" >&2; exit 2; }

# Build the instrumented binary (cargo fuzz coverage also runs it, then fails to merge without
# rustup's llvm-tools; that failure is expected here). It gets an empty input dir: the inputs
# are run once, below.
empty="$(mktemp -d)"
cargo +nightly fuzz coverage "$target" "$empty" >/dev/null 2>&1 || true
rm -rf "$empty"
bin="$(ls -t target/x86_64-unknown-linux-gnu/coverage/x86_64-unknown-linux-gnu/release/"$target" 2>/dev/null | head -n 1)"
[ -x "$bin" ] || { echo "cargo fuzz coverage did not build $target" >&2; exit 1; }

out="fuzz/coverage/$target"
rm -rf "$out"
mkdir -p "$out/raw"
LLVM_PROFILE_FILE="$PWD/$out/raw/%m-%p.profraw" "$bin" -runs=0 "${inputs[@]}" >/dev/null 2>&1
"$profdata" merge -sparse "$out/raw" -o "$out/coverage.profdata"
ignore='/\.cargo/registry/|/rustc/|/fuzz/fuzz_targets/'
"$cov" report "$bin" -instr-profile="$out/coverage.profdata" -ignore-filename-regex="$ignore"
"$cov" show "$bin" -instr-profile="$out/coverage.profdata" -ignore-filename-regex="$ignore" \
  -format=html -output-dir="$out/html" >/dev/null
echo "HTML report: $out/html/index.html"
