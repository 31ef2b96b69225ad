#!/usr/bin/env bash
# The fuzz targets (docs/FUZZING.md): build them with libFuzzer and AddressSanitizer, and run them.
#
#   Fuzz/fuzz.sh build                 build every target into .build/fuzz/release/fuzz-<target>
#   Fuzz/fuzz.sh run [TARGET...]       run each target (all by default) for FUZZ_SECONDS (60)
#
# The libraries are compiled by SwiftPM into a scratch folder of their own with coverage
# instrumentation, AddressSanitizer and testing enabled (the tokenize readers are internal to
# the tokenize executable; SwiftPM renames its entry point, so its objects link into a fuzz
# binary, whose main is libFuzzer's). Each target in Fuzz/Targets is then linked against them.
#
# A run starts from the seeds (Tests/Fixtures/fuzz/seeds/<target>, and for `frames` the
# conformance corpus Tests/Fixtures/frames) and the crash reproducers
# (Tests/Fixtures/fuzz/crashes/<target>), grows a working corpus in .build/fuzz/corpus/<target>
# and stops at the first crash, leak, timeout or out-of-memory input, which it leaves in
# .build/fuzz/artifacts/<target>/ and names; the script then exits 1.
#
# Environment: FUZZ_SECONDS (per target, default 60), FUZZ_RSS_MB (default 2048), FUZZ_TIMEOUT
# (seconds for one input, default 10), FUZZ_JOBS (compile jobs, default 2), SWIFT (swift).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(frames mtx dense checkpoint pickle safetensors edgelist genetables)
SCRATCH=.build/fuzz
B=$SCRATCH/release
SWIFT=${SWIFT:-swift}
SWIFTC=${SWIFTC:-swiftc}

# Per target: its source in Fuzz/Targets, then the SwiftPM modules whose objects it links.
sources() {
  case $1 in
    frames)      echo "FrameStream.swift" ;;
    mtx)         echo "MatrixMarket.swift TokenizeSupport.swift" ;;
    dense)       echo "DenseTable.swift TokenizeSupport.swift" ;;
    checkpoint)  echo "Checkpoint.swift" ;;
    pickle)      echo "Pickle.swift" ;;
    safetensors) echo "SafetensorsFile.swift" ;;
    edgelist)    echo "EdgeListFile.swift" ;;
    genetables)  echo "GeneTables.swift" ;;
    *) echo "fuzz.sh: unknown target '$1' (${TARGETS[*]})" >&2; exit 64 ;;
  esac
}
modules() {
  case $1 in
    frames)              echo "Frames ToolKit Kernels" ;;
    mtx|dense)           echo "tokenize Frames ToolKit Kernels CKernels" ;;
    checkpoint|pickle|safetensors) echo "Weights ToolKit Kernels" ;;
    edgelist|genetables) echo "ToolKit Kernels" ;;
  esac
}
seeds() {
  case $1 in
    frames) echo "Tests/Fixtures/frames/passed Tests/Fixtures/frames/failed" ;;
    *)      echo "Tests/Fixtures/fuzz/seeds/$1" ;;
  esac
  # Reproducers of crashes found before: fixed ones stay as regression inputs.
  if [ -d "Tests/Fixtures/fuzz/crashes/$1" ]; then echo "Tests/Fixtures/fuzz/crashes/$1"; fi
}

check_toolchain() {
  local resource
  resource=$("$SWIFTC" -print-target-info 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["paths"]["runtimeResourcePath"])' 2>/dev/null || true)
  if ! ls "$resource"/clang/lib/*/libclang_rt.fuzzer*.a >/dev/null 2>&1 \
     && ! ls "$(dirname "$(command -v "$SWIFTC")")"/../lib/clang/*/lib/*/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
    echo "fuzz.sh: this Swift toolchain has no libFuzzer runtime (libclang_rt.fuzzer); use a swift.org toolchain" >&2
    exit 1
  fi
}

build() {
  check_toolchain
  local flags=(-c release --scratch-path "$SCRATCH" -j "${FUZZ_JOBS:-2}"
               -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
               -Xcc -fsanitize=fuzzer-no-link,address)
  # tokenize brings Frames, ToolKit, Kernels and CKernels; Weights the rest.
  "$SWIFT" build "${flags[@]}" --target tokenize
  "$SWIFT" build "${flags[@]}" --target Weights
  local t m objs srcs hdf5_cflags="" hdf5_libs="" f
  for f in $(pkg-config --cflags hdf5); do hdf5_cflags+=" -Xcc $f"; done
  hdf5_libs=$(pkg-config --libs hdf5)
  for t in "${TARGETS[@]}"; do
    objs=()
    for m in $(modules "$t") ArgumentParser ArgumentParserToolInfo; do
      objs+=("$B/$m.build/"*.o)
    done
    srcs=(Fuzz/Targets/Common.swift)
    for m in $(sources "$t"); do srcs+=("Fuzz/Targets/$m"); done
    echo "linking fuzz-$t"
    # tokenize's objects import libhdf5 (its HDF5 reader): its module map, headers and library.
    "$SWIFTC" -O -sanitize=fuzzer,address -parse-as-library -use-ld=lld -module-name "fuzz_$t" \
      -I "$B/Modules" -Xcc -fmodule-map-file=Sources/CIsal/module.modulemap \
      -Xcc -fmodule-map-file="$B/CKernels.build/module.modulemap" \
      -Xcc -fmodule-map-file=Sources/CHDF5/module.modulemap $hdf5_cflags \
      "${srcs[@]}" "${objs[@]}" -lisal $hdf5_libs -o "$B/fuzz-$t"
  done
}

run() {
  # Swift's own crash handler would race AddressSanitizer for the report; libFuzzer prints the stack.
  export SWIFT_BACKTRACE=enable=no
  local seconds=${FUZZ_SECONDS:-60} failed=() t
  [ $# -gt 0 ] || set -- "${TARGETS[@]}"
  for t in "$@"; do
    sources "$t" >/dev/null
    [ -x "$B/fuzz-$t" ] || { echo "fuzz.sh: $B/fuzz-$t is not built (Fuzz/fuzz.sh build)" >&2; exit 1; }
    local corpus=$SCRATCH/corpus/$t artifacts=$SCRATCH/artifacts/$t log=$SCRATCH/logs/$t.log
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    echo "fuzz $t: ${seconds}s"
    # shellcheck disable=SC2046
    if "$B/fuzz-$t" -max_total_time="$seconds" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
         -timeout="${FUZZ_TIMEOUT:-10}" -max_len=65536 -print_final_stats=1 \
         -artifact_prefix="$artifacts/" "$corpus" $(seeds "$t") >"$log" 2>&1; then
      awk -v t="$t" '/^stat::number_of_executed_units/ {n=$2} /^stat::average_exec_per_sec/ {r=$2}
        END {printf "fuzz %s: %d inputs, %d per second, no crash\n", t, n, r}' "$log"
    else
      # What failed, where (the first frame in this repository's sources) and the input.
      echo "fuzz $t: FAILED (report: $log)" >&2
      grep -E "ERROR:|runtime failure|Fatal error" "$log" | head -3 | sed 's/^/  /' >&2 || true
      grep -oE "in [^ ]+ [^ ]*/(Sources|Fuzz)/[^ ]+" "$log" | head -1 | sed 's/^/  /' >&2 || true
      grep -E "Test unit written|^Base64" "$log" | head -1 | sed 's/^/  /' >&2 || true
      failed+=("$t")
    fi
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]} (inputs under $SCRATCH/artifacts/)" >&2
    exit 1
  fi
}

case ${1:-} in
  build) build ;;
  run) shift; run "$@" ;;
  *) echo "usage: Fuzz/fuzz.sh build | run [TARGET...]" >&2; exit 64 ;;
esac
