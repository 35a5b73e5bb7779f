#!/bin/sh
# heimdal tier: kinkd built against Heimdal (make KRB5=heimdal SAN=1, into
# build-heimdal-san/, ASan+UBSan), against the MIT KDC of tests/lib/realm.sh:
#  - the unit and krb tiers run on that build (their names prefixed
#    "heimdal/");
#  - host cells (tests/heimdal/64N-*.sh, tests/heimdal/cell.sh): a pair of
#    Heimdal-built daemons, and an MIT-built one ($B) with a Heimdal-built
#    one in one realm; against the MIT KDC (640-643), the Heimdal KDC of
#    tests/lib/realm_heimdal.sh (644, 645) and Samba's AD DC of
#    tests/lib/realm_ad.sh (646 aes256, 647 RC4); 648: host 520's replay
#    across a restart, refused by kinkd's own replay cache (Heimdal's
#    rd_req keeps none).
#  - sticky.sh: a --with-krb5=heimdal tree stays Heimdal when make runs
#    configure again.
# Only what those need is built.  Environment: B (the MIT build dir, for
# the mixed pair), HEIMDAL_ONLY="640 642" (only those cells, no unit/krb).
set -u
: "${B:=build}"
HEIMDAL_B=build-heimdal-san
export B HEIMDAL_B
# Heimdal 7.8's own leaks (tests/heimdal/lsan.supp); the stacks must be
# whole for the suppressions to match, libkrb5 has no frame pointers.
LSAN_OPTIONS="suppressions=$(pwd)/tests/heimdal/lsan.supp:fast_unwind_on_malloc=0"
export LSAN_OPTIONS

if ! grep -q '^KRB5_HEIMDAL_LIBS = .*-lkrb5' config.mk 2>/dev/null; then
	echo "FAIL heimdal/configure: Heimdal not found by ./configure (tests/deps.sh installs heimdal-multidev)"
	exit 1
fi
# the choice survives make re-running configure
sh tests/heimdal/sticky.sh || sticky_rc=1
want=
for f in tests/unit/test_*.c tests/krb/test_*.c tests/tools/*.c; do
	want="$want $HEIMDAL_B/${f%.c}"
done
# B on the command line: the environment's B is the MIT build's.
blog=$(mktemp "${TMPDIR:-/tmp}/kinkd-heimdal-build.XXXXXX") || exit 1
if ! ${MAKE:-make} -s -j2 KRB5=heimdal SAN=1 B="$HEIMDAL_B" "$HEIMDAL_B/kinkd" \
    "$HEIMDAL_B/kinkctl" "$HEIMDAL_B/tests/kinkd-test" $want \
    > "$blog" 2>&1; then
	echo "FAIL heimdal/build: make KRB5=heimdal SAN=1 failed:"
	tail -n 30 "$blog"
	rm -f "$blog"
	exit 1
fi
rm -f "$blog"
echo "PASS heimdal/build"
# the mixed pair needs the MIT daemon too
if [ ! -x "$B/tests/kinkd-test" ] || [ ! -x "$B/kinkctl" ]; then
	echo "FAIL heimdal/mit-build: $B/tests/kinkd-test not built (make tests)"
	exit 1
fi

rc=${sticky_rc:-0}
sub() {	# sub TIER: tests/TIER/run.sh on the Heimdal build, names prefixed
	out=$(mktemp "${TMPDIR:-/tmp}/kinkd-heimdal-$1.XXXXXX")
	B=$HEIMDAL_B sh "tests/$1/run.sh" > "$out" 2>&1
	src=$?
	sed -e 's/^PASS /PASS heimdal\//' -e 's/^FAIL /FAIL heimdal\//' "$out"
	if [ "$src" -ne 0 ]; then
		rc=1
		grep -q '^FAIL ' "$out" ||
		    echo "FAIL heimdal/tier-$1: exited $src without a FAIL line"
	fi
	rm -f "$out"
}
if [ -z "${HEIMDAL_ONLY:-}" ]; then
	sub unit
	sub krb
fi
sh tests/heimdal/cells.sh || rc=1
exit $rc
