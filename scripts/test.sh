#!/usr/bin/env bash
# The whole test suite, as CI runs it: install the dependencies, build
# warning-free (-Wall -Wextra -Werror), run every test with ctest; then the
# same again under AddressSanitizer and UndefinedBehaviorSanitizer.
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
echo "== build and test under ASan and UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite build-sanitize -DHALLE_SANITIZE=ON
