#!/usr/bin/env bash
# Checks that each manual page renders without a warning: through man(1)
# as a reader would see it, and through groff with every warning on. Prints
# each page's name; fails with the warnings shown.
#
#   tests/man_pages.sh PAGE...
set -u
if [ $# -eq 0 ]; then
	echo "usage: $0 PAGE..." >&2
	exit 2
fi
for tool in man groff; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "FAIL: $tool is missing (Debian: man-db, groff-base;" \
			"scripts/deps.sh installs them)"
		exit 1
	fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for page in "$@"; do
	name=$(basename "$page")
	if [ ! -r "$page" ]; then
		echo "FAIL: $name: cannot read $page"
		failed=$((failed + 1))
		continue
	fi
	: >"$tmp/warnings"
	# man's exit status says nothing of warnings: stderr does.
	LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 "$page" \
		>/dev/null 2>>"$tmp/warnings" ||
		echo "man exited with status $?" >>"$tmp/warnings"
	LC_ALL=C.UTF-8 groff -mandoc -ww -z "$page" 2>>"$tmp/warnings" ||
		echo "groff exited with status $?" >>"$tmp/warnings"
	if [ -s "$tmp/warnings" ]; then
		echo "FAIL: $name"
		sed 's/^/    /' "$tmp/warnings"
		failed=$((failed + 1))
	else
		echo "ok: $name"
	fi
done
echo "$(($# - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
