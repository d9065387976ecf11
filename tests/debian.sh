#!/usr/bin/env bash
# debian.sh: the Debian package (debian/), built from a copy of the tree
# and inspected, without installing it on this machine.
#
#   copy of the tree --dpkg-buildpackage -us -uc -b--> halle_VERSION_ARCH.deb
#        |                                                   |
#        no compiler or packaging warning          dpkg-deb -c, -e, -x
#                                                            |
#   files and modes, conffiles, nothing under /usr/local, the unit's user;
#   maintainer scripts: sh -n, then run in a scratch root (DPKG_ROOT) with
#   every command they call stubbed: postinst enables and does not start,
#   postrm keeps /var/lib/halle on remove and deletes it on purge; the
#   packaged halled refuses to start with the packaged configuration, and
#   says what to set; lintian finds no error (its warnings are printed).
#   Where the machine allows (root, a private mount namespace, overlayfs):
#   dpkg -i, -r and -P for real in an overlay of / chrooted into (user and
#   directories made, unit enabled, halled refused then named, data kept on
#   remove and gone on purge); nothing reaches this machine's own files.
#
# Exits 77 (ctest: skipped) when dpkg-buildpackage is not installed;
# scripts/deps.sh installs it (dpkg-dev, debhelper, lintian; no fakeroot:
# debian/control says Rules-Requires-Root: no).
# Needs the package's build dependencies (debian/control), which
# scripts/deps.sh installs too, and what tests/integration/lib.sh needs.
top=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v dpkg-buildpackage >/dev/null 2>&1; then
	echo "SKIP debian: dpkg-buildpackage is not installed" \
	    "(scripts/deps.sh installs dpkg-dev and debhelper)"
	exit 77
fi
HALLE_TEST=debian
. "$top/tests/integration/lib.sh"

version=$(sed -n 's/^project(halle VERSION \([0-9.]*\).*/\1/p' \
    "$top/CMakeLists.txt")
[[ -n $version ]] || fail "CMakeLists.txt: no project(halle VERSION ...)"
arch=$(dpkg --print-architecture)
deb=$WORK/halle_${version}_${arch}.deb
src=$WORK/src

step "a copy of the tree"
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# What git tracks, and new files it does not ignore; not build trees.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	    while IFS= read -r -d '' f; do
		[[ -e $f ]] && printf '%s\0' "$f"
	    done | tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$top" --exclude-vcs --exclude='./build*' --exclude=./var \
	    --exclude=./debian/halle -cf - . | tar -C "$src" -xf -
fi
[[ -x $src/debian/rules ]] || fail "the copy has no executable debian/rules"
assert_eq "$version" "$(cd "$src" && dpkg-parsechangelog -S Version)" \
    "debian/changelog's version, CMakeLists.txt's project(VERSION)"
pass "$src, version $version"

step "dpkg-buildpackage -us -uc -b"
run bash -c "cd '$src' && dpkg-checkbuilddeps"
(( RC == 0 )) || fail "build dependencies missing (scripts/deps.sh installs them): $ERR"
log=$WORK/build.log
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
    timeout 240 dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	fail "dpkg-buildpackage failed (the end of its log is above)"
fi
[[ -f $deb ]] || fail "no $(basename "$deb"): $(ls "$WORK")"
if grep -Ein '(^|[^-])warning:|CMake Warning' "$log" >"$WORK/warnings"; then
	fail "the build warns: $(head -n 5 "$WORK/warnings")"
fi
pass "$(basename "$deb"), no warning"

step "the files, their owners and modes"
dpkg-deb -c "$deb" >"$WORK/contents"
# mode PATH: the mode and owner dpkg-deb -c lists for ./PATH, or nothing.
mode() {
	awk -v p="./$1" '$6 == p { print $1, $2 }' "$WORK/contents"
}
for f in usr/sbin/halled usr/bin/hallectl; do
	assert_eq "-rwxr-xr-x root/root" "$(mode $f)" "$f"
done
for f in etc/halle/halled.conf lib/systemd/system/halled.service \
    usr/lib/sysusers.d/halle.conf usr/lib/tmpfiles.d/halle.conf \
    usr/share/man/man8/halled.8.gz usr/share/man/man8/hallectl.8.gz \
    usr/share/man/man5/halled.conf.5.gz \
    usr/share/bash-completion/completions/hallectl \
    usr/share/doc/halle/copyright; do
	assert_eq "-rw-r--r-- root/root" "$(mode $f)" "$f"
done
if grep -E ' \./usr/local(/|$)' "$WORK/contents"; then
	fail "files under /usr/local"
fi
if awk '$2 != "root/root"' "$WORK/contents" | grep .; then
	fail "files not owned by root"
fi
pass "$(wc -l <"$WORK/contents") entries"

step "control: conffiles, dependencies"
dpkg-deb -e "$deb" "$WORK/control"
assert_eq /etc/halle/halled.conf "$(cat "$WORK/control/conffiles")" "conffiles"
assert_contains tzdata "$(dpkg-deb -f "$deb" Depends)" "Depends"
assert_contains "systemd | systemd-standalone-sysusers" "$(dpkg-deb -f "$deb" Depends)" \
    "Depends (sysusers.d)"
pass "conffiles: /etc/halle/halled.conf"

root=$WORK/root
dpkg-deb -x "$deb" "$root"

step "the unit: user halle, no restart on a configuration error"
unit=$root/lib/systemd/system/halled.service
assert_eq 1 "$(grep -c '^ExecStart=/usr/sbin/halled -c /etc/halle/halled.conf$' "$unit")" \
    "ExecStart in the packaged unit"
assert_eq 1 "$(grep -c '^User=halle$' "$unit")" "User=halle"
assert_eq 0 "$(grep -c '^DynamicUser=' "$unit" || true)" "DynamicUser="
assert_eq 1 "$(grep -c '^RestartPreventExitStatus=78$' "$unit")" \
    "RestartPreventExitStatus=78 (EX_CONFIG)"
assert_match '^u halle ' "$(grep -v '^#' "$root/usr/lib/sysusers.d/halle.conf")" \
    "sysusers.d"
assert_contains 'd /var/lib/halle 0700 halle halle' \
    "$(tr -s ' ' <"$root/usr/lib/tmpfiles.d/halle.conf")" "tmpfiles.d"
assert_contains 'd /run/halle 0750 halle halle' \
    "$(tr -s ' ' <"$root/usr/lib/tmpfiles.d/halle.conf")" "tmpfiles.d"
pass "User=halle, sysusers.d, tmpfiles.d"

step "the packaged halled refuses the packaged configuration"
conf=$root/etc/halle/halled.conf
run diff -u <(sed 's/^name = .*/name =/' "$top/config/halled.conf") "$conf"
(( RC == 0 )) || fail "the packaged configuration is not config/halled.conf without its name: $OUT"
for args in "-n -c $conf" "-c $conf"; do
	# shellcheck disable=SC2086
	run timeout 20 "$root/usr/sbin/halled" $args
	assert_eq 78 "$RC" "halled $args: exit status (EX_CONFIG)"
	assert_match "^$conf:[0-9]+: name is empty: set the node's name" "$ERR" \
	    "halled $args: stderr"
done
sed -e 's/^name =$/name = saint-jean/' -e "s|/var/lib/halle|$WORK/state|" \
    -e "s|/run/halle|$WORK/run|" "$conf" >"$WORK/named.conf"
run "$root/usr/sbin/halled" -n -c "$WORK/named.conf"
assert_eq 0 "$RC" "halled -n once the node has a name (stderr: $ERR)"
pass "exit 78, name is empty; halled -n accepts it once named"

step "maintainer scripts: sh -n"
scripts=()
for s in preinst postinst prerm postrm; do
	[[ -f $WORK/control/$s ]] || continue
	sh -n "$WORK/control/$s" || fail "$s: sh -n refuses it"
	scripts+=("$s")
done
for s in postinst prerm postrm; do
	[[ -f $WORK/control/$s ]] || fail "no $s in the package"
done
pass "${scripts[*]}"

# A scratch root with a node's data, and stubs for every command the
# scripts run (PATH holds nothing else: a command left unstubbed fails
# rather than change this machine). Each stub logs its arguments.
stubs=$WORK/stubs
mkdir -p "$stubs" "$root/var/lib/halle/data"
: >"$root/var/lib/halle/node.key"
: >"$root/var/lib/halle/data/data.mdb"
for c in deb-systemd-helper deb-systemd-invoke systemctl systemd-tmpfiles \
    systemd-sysusers; do
	printf '#!/bin/sh\necho "${0##*/} $*" >>"%s"\n' "$WORK/stubs.log" \
	    >"$stubs/$c"
	chmod +x "$stubs/$c"
done
ln -s "$(command -v rm)" "$stubs/rm"
# maint SCRIPT ARGS...: runs a maintainer script in the scratch root.
maint() {
	: >"$WORK/stubs.log"
	run env -i PATH="$stubs" DPKG_ROOT="$root" DPKG_MAINTSCRIPT_NAME="$1" \
	    DPKG_MAINTSCRIPT_PACKAGE=halle /bin/sh "$WORK/control/$1" "${@:2}"
	(( RC == 0 )) || fail "$* in $root: exit status $RC: $ERR"
	CALLS=$(cat "$WORK/stubs.log")
}

step "postinst configure: the user, the directories, enabled, not started"
maint postinst configure
assert_contains "systemd-sysusers --root=$root halle.conf" "$CALLS" "postinst"
assert_contains "systemd-tmpfiles --root=$root --create halle.conf" "$CALLS" "postinst"
assert_contains "deb-systemd-helper enable halled.service" "$CALLS" "postinst"
if grep -E 'deb-systemd-invoke (start|restart)|systemctl .*start' <<<"$CALLS"; then
	fail "postinst starts halled in a scratch root: $CALLS"
fi
pass "$(tr '\n' ';' <<<"$CALLS")"

step "prerm remove, postrm remove: the node's data stays"
maint prerm remove
maint postrm remove
[[ -f $root/var/lib/halle/node.key && -f $root/var/lib/halle/data/data.mdb ]] ||
    fail "postrm remove deleted the node's key or store"
pass "key and store kept"

step "postrm purge: the node's data goes"
maint postrm purge
[[ ! -e $root/var/lib/halle ]] || fail "postrm purge left $root/var/lib/halle"
assert_contains "deb-systemd-helper purge halled.service" "$CALLS" "postrm purge"
pass "/var/lib/halle removed"

step "dpkg -i, -r, -P in a scratch copy of this machine"
# An overlay of / in a private mount namespace, chrooted into: dpkg and the
# maintainer scripts run for real, and every write lands in $WORK/upper.
# Needs root, unshare and overlayfs; noted and skipped elsewhere.
cat >"$WORK/inside.sh" <<'EOF_INSIDE'
set -u
say() { echo "$1=$2"; }
deb=$1
dpkg -i "$deb" >/tmp/dpkg-i.log 2>&1; say install $?
say note "$(grep -c "set the node's name in /etc/halle/halled.conf" /tmp/dpkg-i.log)"
say user "$(getent passwd halle | cut -d: -f1,6,7)"
say group "$(getent group halle | cut -d: -f1)"
say state "$(stat -c '%U:%G %a' /var/lib/halle)"
say runtime "$(stat -c '%U:%G %a' /run/halle)"
say enabled "$(readlink /etc/systemd/system/multi-user.target.wants/halled.service)"
runuser -u halle -- /usr/sbin/halled -c /etc/halle/halled.conf >/tmp/out 2>&1
say refused "$? $(cat /tmp/out)"
sed -i 's/^name =$/name = saint-jean/' /etc/halle/halled.conf
say show_id "$(runuser -u halle -- /usr/sbin/halled -c /etc/halle/halled.conf --show-id 2>&1 | grep -Ec '^[0-9a-f]{64}$')"
say key "$(stat -c '%U:%G %a' /var/lib/halle/node.key)"
DPKG_MAINTSCRIPT_NAME=postinst DPKG_MAINTSCRIPT_PACKAGE=halle \
    /var/lib/dpkg/info/halle.postinst configure 0.1.0 >/tmp/out 2>&1
say named_postinst "$? $(grep -c "set the node's name" /tmp/out)"
dpkg -r halle >/tmp/dpkg-r.log 2>&1; say remove $?
say after_remove "$(ls /var/lib/halle | grep -cx node.key) $(ls /etc/halle)"
dpkg -P halle >/tmp/dpkg-p.log 2>&1; say purge $?
say after_purge "$(ls -d /var/lib/halle /etc/halle 2>&1 | grep -c 'No such file')"
EOF_INSIDE
cat >"$WORK/scratch.sh" <<EOF_SCRATCH
set -e
m=$WORK/merged
mkdir -p $WORK/upper $WORK/ovwork \$m
mount -t overlay overlay -o lowerdir=/,upperdir=$WORK/upper,workdir=$WORK/ovwork \$m
mount --bind /dev \$m/dev
mount -t proc proc \$m/proc
mount -t tmpfs tmpfs \$m/run
mount -t tmpfs tmpfs \$m/tmp
cp "$deb" "$WORK/inside.sh" \$m/tmp/
exec chroot \$m /bin/sh /tmp/inside.sh /tmp/$(basename "$deb")
EOF_SCRATCH
if (( EUID == 0 )) && command -v unshare >/dev/null &&
    unshare -m --propagation private true 2>/dev/null; then
	run timeout 120 unshare -m --propagation private sh "$WORK/scratch.sh"
	(( RC == 0 )) || fail "the scratch install failed ($RC): $OUT $ERR"
	# got KEY: the value the scratch install reported for KEY.
	got() { sed -n "s/^$1=//p" <<<"$OUT"; }
	assert_eq 0 "$(got install)" "dpkg -i exit status ($OUT)"
	assert_eq 1 "$(got note)" "postinst says to set the node's name"
	assert_eq "halle:/var/lib/halle:/usr/sbin/nologin" "$(got user)" "user halle"
	assert_eq halle "$(got group)" "group halle"
	assert_eq "halle:halle 700" "$(got state)" "/var/lib/halle"
	assert_eq "halle:halle 750" "$(got runtime)" "/run/halle"
	assert_eq /lib/systemd/system/halled.service "$(got enabled)" \
	    "halled.service enabled in multi-user.target"
	assert_match "^78 /etc/halle/halled.conf:[0-9]+: name is empty" \
	    "$(got refused)" "halled run by halle with the packaged configuration"
	assert_eq 1 "$(got show_id)" "halled --show-id run by halle, once named"
	assert_eq "halle:halle 600" "$(got key)" "the key halled made"
	assert_eq "0 0" "$(got named_postinst)" \
	    "postinst configure once named: exit status, notes to set the name"
	assert_eq 0 "$(got remove)" "dpkg -r exit status"
	assert_eq "1 halled.conf" "$(got after_remove)" \
	    "the key in /var/lib/halle and /etc/halle after dpkg -r"
	assert_eq 0 "$(got purge)" "dpkg -P exit status"
	assert_eq 2 "$(got after_purge)" "/var/lib/halle and /etc/halle gone after dpkg -P"
	pass "installed, refused unnamed, named, removed (data kept), purged (data gone)"
else
	note "no root or no private mount namespace here: dpkg -i not tried"
fi

step "lintian"
if command -v lintian >/dev/null 2>&1; then
	# lintian leaves a scratch directory in TMPDIR: keep it in $WORK.
	run env TMPDIR="$WORK" lintian --fail-on error "$deb"
	(( RC == 0 )) || fail "lintian finds errors: $OUT $ERR"
	note "lintian: ${OUT:-nothing to say}"
	pass "no error"
else
	note "lintian is not installed (scripts/deps.sh installs it): not run"
fi
