# The sadb backends (tests/vm/test_sadb.c) against this kernel, for each
# backend and address family, in fresh namespaces A and B each time.
. /tests/guest.sh

# run_sadb NAME ARGS...: case lines renamed NAME-case; a crash or a
# non-zero exit without a FAIL line is a FAIL of its own.
run_sadb() {
	name=$1
	shift
	test_sadb "$@" > /tmp/sadb.out 2>&1
	rc=$?
	sed -E "s/^(PASS|FAIL) /\1 $name-/" /tmp/sadb.out
	if [ $rc -ne 0 ]; then
		FAILED=1
		grep -q '^FAIL ' /tmp/sadb.out ||
		    fail $name "test_sadb exited $rc without a FAIL line"
	fi
}

for be in xfrm pfkey; do
	for fam in 4 6; do
		hosts_up || { fail sadb-$be-v$fam "netns/veth setup"; continue; }
		run_sadb sadb-$be-v$fam $be $fam
		hosts_down
	done
done
if hosts_up; then
	run_sadb sadb caps
else
	fail sadb-caps "netns/veth setup"
fi
hosts_down
exit $FAILED
