#!/bin/bash
# An exchange is ok only when the kernel confirmed every SA of it.  The
# null backend refuses SA adds on demand (test build: inject `refuse add
# [in|out]`, answered ENOSYS as a kernel without the transform does):
#  - resp-all/: beta refuses every add.  beta answers the CREATE only
#    after its installs were answered, with an authenticated KINK_ERROR
#    KINK_INTERR, and removes what it recorded; alpha logs the error, removes
#    its optimistic inbound SA, `kinkctl initiate` exits 1.
#  - init-all/, init-out/: alpha refuses every add, or only the outbound
#    one.  `kinkctl initiate` exits 1 with the kernel's reason; alpha sends
#    a DELETE so beta, which installed its pair, removes it; nothing is
#    left on either side.
#  - resp-ack-out/: non-optimistic (ACKREQ); beta refuses its outbound SA,
#    which goes in only on the ACK, when alpha already reported ok: beta
#    DELETEs the pair, alpha removes it.
# The refusal's log line names SPI, peer address, direction, algorithm.
# v4 only (the logic has no family).
. tests/lib/host.sh
host_init 400-truth-install
host_realm alpha beta || exit 1

NONOPT_A="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1"
NONOPT_B="esp enc aes-128-cbc auth hmac-sha1"

start_case() {	# start_case CASE [XFORMS_A XFORMS_B]
	XFORMS=${2:-} write_conf alpha v4
	XFORMS=${3:-} write_conf beta v4
	if ! start_kinkd alpha "$T/alpha.conf" ||
	    ! start_kinkd beta "$T/beta.conf" ||
	    ! monitor_start alpha || ! monitor_start beta; then
		fail "$1/start" "daemons did not start"
		exit 1
	fi
}

end_case() {
	monitor_stop alpha
	monitor_stop beta
	stop_kinkd alpha
	stop_kinkd beta
}

refused_line() {	# refused_line NAME DIR: the refusal names it all
	grep -q -E "peer (alpha|beta): kernel refused SA esp $2 spi 0x[0-9a-f]{8} (from|to) 127\.0\.0\.[12] \(aes-128-cbc hmac-sha1\): Function not implemented" \
	    "$T/$1.log"
}

# --- resp-all/ -----------------------------------------------------------
c=resp-all
start_case $c
inject beta "refuse add"
require $c/injected wait_until "$HOST_WAIT" is -ge 1 log_count beta 'inject: refuse add'
ctl alpha initiate beta > "$T/$c.out" 2>&1
check_eq $c/initiate-exit $? 1
check $c/initiate-says-peer grep -q 'peer answered KINK_ERROR KINK_INTERR' "$T/$c.out"
check $c/beta-fail wait_event beta xact-fail 'responder CREATE: kernel refused SA esp in'
check $c/beta-refusal-logged refused_line beta in
check $c/alpha-fail-logged wait_until "$HOST_WAIT" is = 1 log_count alpha 'initiated CREATE failed: peer answered KINK_ERROR KINK_INTERR'
check $c/alpha-0-sas wait_until "$HOST_WAIT" sa_count_is alpha 0
check $c/beta-0-sas wait_until "$HOST_WAIT" sa_count_is beta 0
check_eq $c/beta-no-done "$(event_count beta xact-done)" 0
end_case

# --- init-all/ and init-out/ ----------------------------------------------
for what in all out; do
	c=init-$what
	start_case $c
	if [ $what = all ]; then inject alpha "refuse add"
	else inject alpha "refuse add out"; fi
	require $c/injected wait_until "$HOST_WAIT" is -ge 1 log_count alpha 'inject: refuse add'
	ctl alpha initiate beta > "$T/$c.out" 2>&1
	check_eq $c/initiate-exit $? 1
	check $c/initiate-reason grep -q -E 'kernel refused SA esp (in|out) spi 0x[0-9a-f]{8}.*Function not implemented' "$T/$c.out"
	# all: the optimistic inbound SA, installed before the CREATE left,
	# is refused first; out: the outbound one, on the REPLY
	if [ $what = all ]; then dir=in; else dir=out; fi
	check $c/alpha-refusal-logged refused_line alpha $dir
	# beta had answered ok; alpha's DELETE takes beta's pair away
	check $c/beta-deleted wait_event beta xact-done 'responder DELETE'
	check $c/alpha-0-sas wait_until "$HOST_WAIT" sa_count_is alpha 0
	check $c/beta-0-sas wait_until "$HOST_WAIT" sa_count_is beta 0
	check_eq $c/alpha-no-create-done "$(grep '"type":"xact-done"' "$T/alpha.mon" | grep -c 'initiator CREATE')" 0
	end_case
done

# --- resp-ack-out/ ---------------------------------------------------------
c=resp-ack-out
start_case $c "$NONOPT_A" "$NONOPT_B"
inject beta "refuse add out"
require $c/injected wait_until "$HOST_WAIT" is -ge 1 log_count beta 'inject: refuse add'
ctl alpha initiate beta > "$T/$c.out" 2>&1
# alpha cannot know yet: its ok stands until beta's DELETE comes
check_eq $c/initiate-exit $? 0
check $c/beta-fail wait_event beta xact-fail 'responder CREATE: kernel refused SA esp out'
check $c/beta-refusal-logged refused_line beta out
check $c/alpha-deleted wait_event alpha xact-done 'responder DELETE'
check $c/alpha-0-sas wait_until "$HOST_WAIT" sa_count_is alpha 0
check $c/beta-0-sas wait_until "$HOST_WAIT" sa_count_is beta 0
end_case
