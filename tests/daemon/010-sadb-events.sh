#!/bin/bash
# Kernel events through the null backend (SIGUSR1 + <socket>.inject):
# ACQUIRE starts a CREATE for the policy with that reqid; a soft EXPIRE on
# the initiator rekeys (new pair, then the old one is DELETEd on both
# sides); a hard EXPIRE removes the pair.  The responder does not rekey.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 010-sadb-events
host_realm alpha beta || exit 1

out_spi() { jqctl "$1" '.sa[] | select(.dir == "out") | .spi' show sa; }
out_spi_not() { [ -n "$(out_spi "$1")" ] && [ "$(out_spi "$1")" != "$2" ]; }

for fam in v4 v6; do
	host_pair "$fam" || { fail "$fam/start" "daemons did not start"; continue; }
	reqid=$("$KINKD" -nv -f "$T/alpha.conf" | awk '/reqid/ {
	    for (i = 1; i < NF; i++) if ($i == "reqid") { print $(i + 1); exit } }')
	check "$fam/reqid-known" test -n "$reqid"
	inject alpha "acquire $reqid"
	check "$fam/acquire-alpha" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/acquire-beta" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$fam/acquire-pairwise" sa_pair_ok alpha beta
	check "$fam/acquire-counted" test "$(stat_get alpha acquire)" = 1

	# the responder's soft expiry: nothing happens (the initiator rekeys)
	inject beta "soft $(out_spi beta)"
	check "$fam/resp-soft-counted" wait_until "$HOST_WAIT" \
	    is = 1 stat_get beta expire_soft
	check_eq "$fam/resp-soft-no-rekey" "$(stat_get beta xact_started)" \
	    "$(stat_get beta xact_done)"

	old=$(out_spi alpha)
	inject alpha "soft $old"
	check "$fam/rekey-new-spi" wait_until "$HOST_WAIT" out_spi_not alpha "$old"
	check "$fam/rekey-old-gone-alpha" wait_until "$HOST_WAIT" sa_count_is alpha 2
	check "$fam/rekey-old-gone-beta" wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$fam/rekey-pairwise" sa_pair_ok alpha beta

	inject alpha "hard $(out_spi alpha)"
	check "$fam/hard-removes-pair" wait_until "$HOST_WAIT" sa_count_is alpha 0
	check "$fam/hard-counted" test "$(stat_get alpha expire_hard)" = 1
	stop_kinkd alpha
	stop_kinkd beta
done
