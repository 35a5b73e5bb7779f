#!/bin/bash
# No half-open pair when every ACK is lost (RFC 4430 3.2).  Non-optimistic
# CREATE (beta sets ACKREQ) through the relay, which drops every ACK from
# alpha.  alpha reports ok and holds both directions; beta retransmits its
# REPLY, gives up ("no ACK") and sends a DELETE naming its inbound SPI:
# alpha removes the pair too, so both end with nothing (before, alpha kept
# 2 SAs and beta none).  v4 and v6.
HOST_RETRANS="500ms max 1s tries 3"
. tests/lib/host.sh
host_init 405-lost-ack
host_realm alpha beta || exit 1

for fam in v4 v6; do
	XFORMS="esp enc aes-256-cbc auth hmac-sha2-256, esp enc aes-128-cbc auth hmac-sha1" \
	    VIA=1 write_conf alpha $fam
	XFORMS="esp enc aes-128-cbc auth hmac-sha1" VIA=1 write_conf beta $fam
	if ! start_kinkd alpha "$T/alpha.conf" ||
	    ! start_kinkd beta "$T/beta.conf" || ! monitor_start alpha ||
	    ! monitor_start beta; then
		fail "$fam/start" "daemons did not start"
		exit 1
	fi
	relay_start $fam "drop a2b ACK all"
	ctl alpha initiate beta > "$T/$fam.out" 2>&1
	check_eq $fam/initiate-exit $? 0
	check $fam/acks-dropped wait_until "$HOST_WAIT" is -ge 1 relay_stat a2b ACK drop
	check $fam/beta-gives-up wait_event beta xact-fail 'responder CREATE: no ACK'
	check $fam/beta-deletes wait_event beta xact-done 'initiator DELETE'
	check $fam/alpha-deleted wait_event alpha xact-done 'responder DELETE'
	check $fam/alpha-0-sas wait_until "$HOST_WAIT" sa_count_is alpha 0
	check $fam/beta-0-sas wait_until "$HOST_WAIT" sa_count_is beta 0
	check_eq $fam/no-ack-arrived "$(relay_stat a2b ACK fwd)" 0
	monitor_stop alpha
	monitor_stop beta
	stop_kinkd alpha
	stop_kinkd beta
	relay_stop
done
