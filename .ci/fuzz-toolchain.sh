# Sourced by .ci/fuzz-smoke and .clusterfuzzlite/build.sh, from the repository root: defines
# fuzz() (cargo fuzz on a compiler that takes its unstable sanitizer flags) and $how (the same
# command, to print). A nightly rustc (as in the OSS-Fuzz image) is used as it is, else the
# nightly toolchain when rustup has one, else stable with RUSTC_BOOTSTRAP=1.
if rustc --version | grep -q nightly; then
  fuzz() { cargo fuzz "$@"; }
  how="cargo fuzz"
elif rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz() { cargo +nightly fuzz "$@"; }
  how="cargo +nightly fuzz"
else
  fuzz() { RUSTC_BOOTSTRAP=1 cargo fuzz "$@"; }
  how="RUSTC_BOOTSTRAP=1 cargo fuzz"
fi
