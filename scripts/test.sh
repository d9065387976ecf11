#!/usr/bin/env bash
# The whole test suite, as CI runs it: install the dependencies, build
# warning-free (-Wall -Wextra -Werror) and run every test with ctest; run
# the libFuzzer targets (tests/fuzz), built with clang, each for a bounded
# time from a fresh seed corpus, as ctest tests of build-fuzz; then build
# and run every test again under AddressSanitizer and UBSan (last, so the
# closing ctest summary counts the whole suite).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {
	local dir=$1; shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
	(cd "$dir" && ctest --output-on-failure -j "$jobs")
}

echo "== build and test"
run_suite build
echo "== fuzz (libFuzzer, clang, ${HALLE_FUZZ_TIME:-30} s a target, at most 20 s" \
	"for fuzz_member, fuzz_api and fuzz_config)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DHALLE_FUZZ=ON -DHALLE_FUZZ_TIME="${HALLE_FUZZ_TIME:-30}" >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_record fuzz_peer fuzz_dfc \
	fuzz_member fuzz_api fuzz_config make_corpus
# Only the fuzz tests: the others are registered in build-fuzz but not built.
(cd build-fuzz && ctest --output-on-failure -j "$jobs" -R '^fuzz_')
echo "== build and test under ASan and UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite build-sanitize -DHALLE_SANITIZE=ON
