#!/bin/bash
# A peer a reload removes from kinkd.conf is told, like a policy a reload
# removes (host 440): alpha holds SAs with beta and with a third daemon,
# gamma; alpha reloads a file without gamma.  alpha sends gamma a DELETE
# for every pair, gamma answers it and drops its SAs, alpha's kernel (null
# backend) and `show sa` hold none for gamma, one log line names gamma
# with the count, and gamma leaves `show peers` once its DELETE is done.
# beta's SAs stay as they were on both sides.  Then gamma, no longer a
# peer of alpha, gets nothing from it.
# readd/: gamma back in the file, SAs again; gamma stopped (SIGSTOP), a
# reload removes it (its DELETE waits for an answer) and the next reload
# adds it back before the DELETE is answered: the removed peer and the new
# one are apart (gamma continued, the DELETE is answered, a new exchange
# with gamma works, one gamma in show peers).  v4 only; no relay (gamma's
# own SAs show that the DELETE arrived).
. tests/lib/host.sh
host_init 580-reload-peer-removed
host_realm alpha beta gamma || exit 1

GAMMA=127.0.0.6
peer_sas() {	# peer_sas NAME PEER: NAME's SAs with PEER
	sa_json "$1" | jq "[.[] | select(.peer == \"$2\")] | length"
}
no_peer() {	# no_peer NAME PEER: PEER not in NAME's show peers
	[ -z "$(peer_field "$1" "$2" name)" ]
}

write_conf alpha v4 && write_conf beta v4 || exit 1
cp "$T/alpha.conf" "$T/alpha.nogamma"
cat >> "$T/alpha.conf" <<EOF

peer "gamma" {
	principal "kink/gamma.test@$HOST_REALM"
	address $GAMMA
	policy "host" esp transport from $(addr_of v4 alpha) to $GAMMA \\
	    transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h
}
EOF
cp "$T/alpha.conf" "$T/alpha.withgamma"
# gamma: beta's file with gamma's name and address
sed -e "s/beta/gamma/g" -e "s/$(addr_of v4 beta)/$GAMMA/g" "$T/beta.conf" \
    > "$T/gamma.conf"
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" &&
    start_kinkd gamma "$T/gamma.conf" ||
    { fail start "daemons did not start"; exit 1; }

require initiate-beta ctl alpha initiate beta
require initiate-gamma ctl alpha initiate gamma
require beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
require gamma-2-sas wait_until "$HOST_WAIT" sa_count_is gamma 2
require alpha-2-gamma-sas is = 2 peer_sas alpha gamma
beta_spis=$(spis beta)
alpha_beta_spis=$(sa_json alpha | jq -r '[.[] | select(.peer == "beta") | .spi] | sort | join(" ")')
gd0=$(log_count gamma "answered DELETE ok")

cp "$T/alpha.nogamma" "$T/alpha.conf"
check reload-ok ctl alpha reload
check gamma-told wait_until "$HOST_WAIT" is -gt "$gd0" log_count gamma "answered DELETE ok"
check gamma-0-sas wait_until "$HOST_WAIT" sa_count_is gamma 0
check delete-acknowledged wait_until "$HOST_WAIT" grep -q \
    "peer gamma: initiated DELETE ok" "$T/alpha.log"
check_eq alpha-0-gamma-sas "$(peer_sas alpha gamma)" 0
# show sa merges the kernel's table: an SA left there shows kernel-only
check_eq alpha-kernel-0-gamma \
    "$(sa_json alpha | jq "[.[] | select(tostring | contains(\"$GAMMA\"))] | length")" 0
check_eq logged-once "$(log_count alpha "peer gamma removed by reload: 2 SAs deleted, 1 DELETEs to it")" 1
check reload-line grep -q 'reloaded: 2 SAs kept, 2 removed (1 DELETEs to peers)' \
    "$T/alpha.log"
check gamma-gone-from-peers wait_until "$HOST_WAIT" no_peer alpha gamma
check_eq beta-sas-kept "$(spis beta)" "$beta_spis"
check_eq alpha-beta-sas-kept \
    "$(sa_json alpha | jq -r '[.[] | select(.peer == "beta") | .spi] | sort | join(" ")')" \
    "$alpha_beta_spis"
check beta-still-works ctl alpha initiate beta
# gamma is no peer of alpha's any more: its CREATE gets no SA
check_eq gamma-refused "$(ctl_rc gamma initiate alpha)" 1
check_eq alpha-still-0-gamma "$(peer_sas alpha gamma)" 0

# readd/
gammas() { jqctl alpha '[.peers[] | select(.name == "gamma")] | length' show peers; }
cp "$T/alpha.withgamma" "$T/alpha.conf"
check readd/reload ctl alpha reload
check readd/initiate ctl alpha initiate gamma
check readd/gamma-2-sas wait_until "$HOST_WAIT" sa_count_is gamma 2
gd1=$(log_count gamma "answered DELETE ok")
kill -STOP "$(engine_pid gamma)"
cp "$T/alpha.nogamma" "$T/alpha.conf"
check readd/reload-removes ctl alpha reload
check_eq readd/retired-listed "$(gammas)" 1
cp "$T/alpha.withgamma" "$T/alpha.conf"
check readd/reload-adds ctl alpha reload
check_eq readd/both-listed "$(gammas)" 2
kill -CONT "$(engine_pid gamma)"
check readd/gamma-told wait_until "$HOST_WAIT" is -gt "$gd1" log_count gamma "answered DELETE ok"
check readd/one-gamma wait_until "$HOST_WAIT" is = 1 gammas
check readd/initiate-again ctl alpha initiate gamma
check readd/gamma-2-sas-again wait_until "$HOST_WAIT" sa_count_is gamma 2
check_eq readd/alpha-2-gamma-sas "$(peer_sas alpha gamma)" 2

stop_kinkd gamma
stop_kinkd beta
stop_kinkd alpha
