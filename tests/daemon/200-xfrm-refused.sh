#!/bin/bash
# The kernel's own refusal, end to end: two kinkd with `set backend xfrm`,
# alpha in the tier's network namespace and beta in one of its own (one
# kinkd per namespace owns its kernel state) joined by a veth pair, on this
# host's kernel, which accepts
# XFRM policies but has no ESP states ("ip xfrm state add ... proto esp"
# fails; the scenario checks that first and fails if the kernel can do
# it, since then it would test nothing).  alpha's CREATE: beta's kernel
# refuses its SAs, beta answers an authenticated KINK_ERROR KINK_INTERR;
# alpha's kernel refused its optimistic inbound SA too.  Both report
# failure, `kinkctl initiate` exits 1 with the reason, no SA record is
# left on either side.  Needs root (XFRM needs CAP_NET_ADMIN).
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 200-xfrm-refused
if [ "$(id -u)" != 0 ]; then
	fail setup "needs root (CAP_NET_ADMIN for XFRM)"
	exit 1
fi
if ip xfrm state add src 127.0.0.9 dst 127.0.0.10 proto esp spi 0x100 \
    mode transport enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff \
    auth 'hmac(sha1)' 0x00112233445566778899aabbccddeeff00112233 2>/dev/null
then
	ip xfrm state flush
	fail setup "this kernel installs ESP states: the refusal cannot be shown here (the vm tier has real ESP)"
	exit 1
fi
host_realm alpha beta || exit 1

# beta's namespace: a sleeping process holds it; alpha 198.51.100.1 and
# beta 198.51.100.2 (documentation addresses) on the veth pair.  beta, the
# responder, needs no KDC: its keytab verifies alpha's ticket.
unshare -n sleep 600 &
NSPID=$!
trap 'kill $NSPID 2>/dev/null; host_cleanup' EXIT
in_beta() { nsenter -t "$NSPID" -n "$@"; }
wait_until "$HOST_WAIT" test "$(readlink /proc/$NSPID/ns/net)" != "$(readlink /proc/self/ns/net)"
if ! ip link add kva type veth peer name kvb netns "$NSPID" ||
    ! ip addr add 198.51.100.1/24 dev kva || ! ip link set kva up ||
    ! in_beta ip addr add 198.51.100.2/24 dev kvb ||
    ! in_beta ip link set kvb up || ! in_beta ip link set lo up; then
	fail setup "cannot join beta's network namespace with a veth pair"
	exit 1
fi
for n in alpha beta; do
	write_conf $n v4
	sed -i -e 's/^set backend null$/set backend xfrm/' \
	    -e 's/127\.0\.0\.1/198.51.100.1/g; s/127\.0\.0\.2/198.51.100.2/g' \
	    "$T/$n.conf"
done
if ! start_kinkd alpha "$T/alpha.conf" ||
    ! HOST_WRAPPER="nsenter -t $NSPID -n" start_kinkd beta "$T/beta.conf" ||
    ! monitor_start alpha || ! monitor_start beta; then
	fail start "daemons did not start"
	exit 1
fi
check backend-xfrm grep -q 'backend xfrm' "$T/alpha.log"
ctl alpha initiate beta > "$T/initiate.out" 2>&1
check_eq initiate-exit $? 1
check initiate-reason grep -q -E 'kernel refused SA esp in spi 0x[0-9a-f]{8} from 198\.51\.100\.2 \(aes-128-cbc hmac-sha1\): .*; peer answered KINK_ERROR KINK_INTERR' "$T/initiate.out"
check beta-fail wait_event beta xact-fail 'responder CREATE: kernel refused SA esp in'
check beta-answered-error wait_until "$HOST_WAIT" is = 1 log_count beta 'answered KINK_ERROR KINK_INTERR'
check alpha-refusal-logged wait_until "$HOST_WAIT" is -ge 1 log_count alpha 'peer beta: kernel refused SA esp in spi 0x[0-9a-f]* from 198.51.100.2 (aes-128-cbc hmac-sha1)'
check beta-refusal-logged wait_until "$HOST_WAIT" is -ge 1 log_count beta 'peer alpha: kernel refused SA esp in spi 0x[0-9a-f]* from 198.51.100.1 (aes-128-cbc hmac-sha1)'
check alpha-0-sas wait_until "$HOST_WAIT" sa_count_is alpha 0
check beta-0-sas wait_until "$HOST_WAIT" sa_count_is beta 0
check_eq no-xact-done "$(event_count alpha xact-done)$(event_count beta xact-done)" 00
# not even the SPIs reserved for the inbound SAs (larval states)
kernel_states() {
	echo $(( $(ip xfrm state | grep -c '^src') +
	    $(in_beta ip xfrm state | grep -c '^src') ))
}
check kernel-no-state wait_until "$HOST_WAIT" is = 0 kernel_states
