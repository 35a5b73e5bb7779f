#!/bin/sh
# krb tier: src/krb.c against a real, throwaway MIT KDC (tests/lib/realm.sh).
# Every $B/tests/krb/test_* program runs with KINK_REALM_DIR/REALM set and
# finds its keytabs there.
set -u
: "${B:=build}"
. tests/lib/realm.sh
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
dir=$(mktemp -d /tmp/kinkd-realm.XXXXXX) || exit 1
trap 'realm_stop; rm -rf "$dir"' EXIT INT TERM
REALM_NO_TRAP=1
# A short clockskew lets the expired-ticket case run in seconds.
REALM_CLOCKSKEW=5
export REALM_NO_TRAP REALM_CLOCKSKEW
realm_start "$dir" || { echo "FAIL krb_realm_start"; exit 1; }

mk() {	# NAME [addprinc options]: principal + its own keytab
	n=$1
	shift
	realm_addprinc "kink/$n.test" "$@" &&
	    realm_ktadd "kink/$n.test" "$dir/$n.keytab"
}
ok=1
mk alpha || ok=0
mk beta || ok=0
mk other || ok=0
mk aes128 -e aes128-cts-hmac-sha1-96:normal || ok=0
mk des3 -e des3-cbc-sha1:normal || ok=0
mk sha256 || ok=0
mk sha384 || ok=0
# The KDC picks aes256 session keys unless told otherwise per principal.
realm_kadmin setstr kink/aes128.test session_enctypes aes128-cts-hmac-sha1-96 || ok=0
realm_kadmin setstr kink/des3.test session_enctypes des3-cbc-sha1 || ok=0
realm_kadmin setstr kink/sha256.test session_enctypes aes128-cts-hmac-sha256-128 || ok=0
realm_kadmin setstr kink/sha384.test session_enctypes aes256-cts-hmac-sha384-192 || ok=0
# User-to-user only: the KDC refuses ordinary service tickets for it
# (KDC_ERR_MUST_USE_USER2USER); its keytab only gets it a TGT.
mk u2u -allow_svr || ok=0
# Wrong kvno: keep the kvno-1 keytab, then re-key the principal.
mk kvno || ok=0
realm_kadmin cpw -randkey kink/kvno.test || ok=0
# Re-keyed by test_krb's keytab rotation test (kadmin ktadd, new kvno).
mk rotate || ok=0
# A ticket that expires one second after issue.
mk expire || ok=0
realm_kadmin 'modprinc -maxlife "1 second" kink/expire.test' || ok=0
if [ $ok = 0 ]; then
	echo "FAIL krb_realm_setup"
	exit 1
fi
export KINK_REALM_DIR="$dir"

rc=0
for t in "$B"/tests/krb/test_*; do
	[ -x "$t" ] || continue
	"$t" || rc=1
done
exit $rc
