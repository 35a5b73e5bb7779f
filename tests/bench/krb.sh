#!/bin/sh
# Kerberos microbenchmark (numbers only, never pass/fail): the responder's
# rd_req + mk_rep per AP-REQ and the KEYMAT PRF per call, in-process
# against a throwaway KDC (tests/bench/bench_krb.c).
#
#	sh tests/bench/krb.sh            (B=build: no sanitizers, -O2)
#	BENCH_N=20000 sh tests/bench/krb.sh
set -u
: "${B:=build}"
: "${BENCH_N:=5000}"
${MAKE:-make} -s B="$B" "$B/tests/bench/bench_krb" || exit 1
. tests/lib/realm.sh
dir=$(mktemp -d "${TMPDIR:-/tmp}/kinkd-bench-krb.XXXXXX") || exit 1
trap 'realm_stop; rm -rf "$dir"' EXIT INT TERM
REALM_NO_TRAP=1
export REALM_NO_TRAP
realm_start "$dir" || exit 1
for n in alpha beta; do
	realm_addprinc "kink/$n.test" &&
	    realm_ktadd "kink/$n.test" "$dir/$n.keytab" || exit 1
done
echo "# kinkd $(git describe --always --dirty 2>/dev/null), B=$B, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$B/tests/bench/bench_krb" -d "$dir" -r "$REALM" -n "$BENCH_N"
