#!/usr/bin/env bash
# Checks config/hallectl.bash-completion: sources it in bash and completes
# command lines the way bash would (COMP_WORDS, COMP_CWORD), with a fake
# hallectl that answers the id lookups.
#
#   tests/completion.sh [COMPLETION_FILE]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
file=${1:-$top/config/hallectl.bash-completion}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0

# A hallectl that logs its arguments and lists made-up ids.
fake=$tmp/bin/hallectl
mkdir -p "$tmp/bin" "$tmp/files"
cat >"$fake" <<'EOF'
#!/bin/sh
echo "$*" >>"$(dirname "$0")/../calls"
case "$*" in
*"producer list"*)	echo '[{"id": "pr-aaaaaaaaaaaa", "name": "Ferme A"},
			       {"id": "pr-bbbbbbbbbbbb", "name": "Ferme B"}]' ;;
*"market list"*)	echo '[{"id": "mk-cccccccccccc", "name": "Samedi"}]' ;;
*"distribution list"*)	echo '[{"id": "ds-dddddddddddd"}]' ;;
*)			exit 1 ;;
esac
EOF
chmod +x "$fake"
# One that cannot reach its node.
mkdir -p "$tmp/down"
printf '#!/bin/sh\necho "hallectl: cannot reach halled" >&2\nexit 3\n' \
	>"$tmp/down/hallectl"
chmod +x "$tmp/down/hallectl"
touch "$tmp/files/node.sock" "$tmp/files/catalogue.json"
mkdir -p "$tmp/files/backups"

# shellcheck source=../config/hallectl.bash-completion
. "$file" || { echo "FAIL: cannot source $file"; exit 1; }
if [[ $(complete -p hallectl 2>/dev/null) != *"-F _hallectl"* ]]; then
	echo "FAIL: $file does not register a completion for hallectl"
	exit 1
fi

# complete WORD... : the completions of the last word, sorted, one line.
complete_words()
{
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_hallectl hallectl "${COMP_WORDS[COMP_CWORD]}" \
		"${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect "WANT" WORD... : the completions of the last word are WANT.
expect()
{
	local want=$1 got
	shift
	got=$(complete_words "$@")
	if [[ $got == "$want" ]]; then
		passed=$((passed + 1))
		echo "ok: '$*' -> '$got'"
	else
		failed=$((failed + 1))
		echo "FAIL: '$*' -> '$got', want '$want'"
	fi
}

cd "$tmp/files" || exit 1
expect "producer" hallectl pro
expect "add list show" hallectl producer ""
expect "catalogue" hallectl cat
expect "backup catalogue distribution events feeds market order producer reload sheet status stock" \
	hallectl ""
expect "--since" hallectl events --si
expect "" hallectl events --since ""
expect "add list show" hallectl --json producer ""
expect "add list show" hallectl -s node.sock producer ""
expect "baskets cancel list open schedule show" hallectl distribution ""
expect "accept add invite list show uninvite withdraw" hallectl market ""
expect "--socket" hallectl --so
expect "--json" hallectl producer list --js
expect "--closes-hours --from --help --json --opens-days --place --socket --to --town --version --weekday" \
	hallectl market add Samedi --place X --town Y --json --
expect "--basket" hallectl order place --ba
expect "--weeks" hallectl distribution schedule mk-1 --we
expect "sat sun" hallectl market add Samedi --weekday s
expect "" hallectl market add Samedi --place ""
expect "node.sock" hallectl -s node
expect "node.sock" hallectl --socket node
expect "node.sock" hallectl --socket = node
expect "" hallectl status ""
expect "" hallectl producer add ""
expect "backups" hallectl backup ""
expect "backup" hallectl ba

# Ids, asked of the node with the socket given; the binary is COMP_WORDS[0].
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" producer show ""
expect "pr-bbbbbbbbbbbb" "$fake" --json producer show pr-b
expect "mk-cccccccccccc" "$fake" market invite ""
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" market invite mk-c ""
expect "mk-cccccccccccc" "$fake" distribution open --from 10:00 ""
expect "ds-dddddddddddd" "$fake" order place --basket "Panier 12" ""
expect "" "$fake" order place ds-d --basket "Panier 12" ""
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" sheet ""
expect "" "$fake" sheet pr-a ""
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" stock ""
expect "catalogue.json" "$fake" catalogue publish pr-a cat
expect "export import publish show" hallectl catalogue ""
expect "cancel change export list place show" hallectl order ""
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" catalogue import ""
expect "catalogue.json" "$fake" catalogue import pr-a cat
expect "--dry-run" hallectl catalogue import pr-a catalogue.json --dr
expect "--skip-invalid" hallectl catalogue import --sk
# A flag takes no value: the word after it is still an argument.
expect "catalogue.json" "$fake" catalogue import --dry-run pr-a cat
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" catalogue export ""
# --csv and --csv-sep, where a command has a CSV form; the separator's
# value is the user's to type, and neither eats the word after.
expect "--csv --csv-sep" hallectl distribution baskets ds-d --cs
expect "--csv --csv-sep" hallectl sheet pr-a 2026-12-05 --csv
expect "" hallectl producer list --cs
expect "" hallectl sheet pr-a 2026-12-05 --csv-sep ""
expect "ds-dddddddddddd" "$fake" distribution baskets --csv ""
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" --csv sheet ""
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" sheet --csv-sep ";" ""
expect "ds-dddddddddddd" "$fake" order export ""
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" order export ds-d ""
: >"$tmp/calls"
expect "pr-aaaaaaaaaaaa pr-bbbbbbbbbbbb" "$fake" -s /tmp/x.sock producer show ""
if grep -q -- "-s /tmp/x.sock --json producer list" "$tmp/calls"; then
	passed=$((passed + 1))
	echo "ok: the id lookup used -s /tmp/x.sock"
else
	failed=$((failed + 1))
	echo "FAIL: the id lookup did not use -s /tmp/x.sock:" \
		"$(cat "$tmp/calls")"
fi
# A node that does not answer, or no jq: silently nothing.
expect "" "$tmp/down/hallectl" producer show ""
mkdir -p "$tmp/nojq"
for tool in sort tr sed timeout dirname; do
	ln -s "$(command -v "$tool")" "$tmp/nojq/$tool"
done
: >"$tmp/calls"
saved=$PATH
PATH=$tmp/nojq
expect "" "$fake" producer show ""
PATH=$saved
if [ -s "$tmp/calls" ]; then
	failed=$((failed + 1))
	echo "FAIL: without jq, hallectl was still called: $(cat "$tmp/calls")"
else
	passed=$((passed + 1))
	echo "ok: without jq, hallectl is not called"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
