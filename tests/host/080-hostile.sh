#!/bin/bash
# Hostile input leaves no state and the daemon keeps serving (v4, v6):
# garbage, every truncation of a valid CREATE, a valid CREATE replayed,
# and a CREATE with a valid header and AP-REQ but a forged Cksum.  After
# each: beta is alive, holds no new SA and no new transaction, its drop
# counters went up, and a real CREATE afterwards still succeeds.
#
# The valid CREATEs come from the relay: the first CREATE alpha sends is
# saved and dropped (so its AP-REQ is fresh to beta: a forged Cksum on it
# gets past the replay cache and must be caught by the checksum check);
# the retransmission is saved and delivered (replaying it is a replay).
# Hostile datagrams go straight to beta's port, from alpha's address as
# beta knows it (so they look like alpha's) and from an unknown address.
. tests/lib/host.sh
host_init 080-hostile
host_realm alpha beta || exit 1

DROPS='^(drop_|dup_)'

# ticket_of FILE: the Ticket inside a captured CREATE's AP-REQ, as hex:
# the AP-REQ's DER starts at octet 24 (16 header, 4 payload header, 4
# EPOCH); APPLICATION 14 -> SEQUENCE -> [3] ticket.  Comparing a fixed
# range of octets instead would also compare the outer DER lengths, which
# change with the authenticator (its cusec and seq-number are DER
# integers of varying length).
ticket_of() {
	perl -e '
	    local $/; open(my $f, "<:raw", $ARGV[0]) or exit 1;
	    my $d = substr(<$f>, 24);
	    sub tlv {	# (tag, header length, content length) at offset
		my ($o) = @_;
		my $t = ord(substr($d, $o, 1));
		my $l = ord(substr($d, $o + 1, 1));
		my $h = 2;
		if ($l & 0x80) {
			my $n = $l & 0x7f;
			$l = 0;
			$l = $l * 256 + ord(substr($d, $o + 2 + $_, 1))
			    for 0 .. $n - 1;
			$h += $n;
		}
		return ($t, $h, $l);
	    }
	    my ($t, $h, $l) = tlv(0);
	    exit 1 unless $t == 0x6e;
	    my $o = $h;
	    ($t, $h, $l) = tlv($o);
	    exit 1 unless $t == 0x30;
	    my $end = $o + $h + $l;
	    $o += $h;
	    while ($o < $end) {
		($t, $h, $l) = tlv($o);
		if ($t == 0xa3) {
			print unpack("H*", substr($d, $o, $h + $l)), "\n";
			exit 0;
		}
		$o += $h + $l;
	    }
	    exit 1' "$1"
}

for fam in v4 v6; do
	VIA=1 host_pair "$fam" || { fail "$fam/start" "daemons did not start"; continue; }
	relay_start "$fam" "save=$T/c1.bin a2b CREATE 1" "drop a2b CREATE 1" \
	    "save=$T/c2.bin a2b CREATE 2"
	require "$fam/initiate" ctl alpha initiate beta
	wait_until "$HOST_WAIT" sa_count_is beta 2
	check "$fam/captured" test -s "$T/c1.bin" -a -s "$T/c2.bin"
	# by the way, the retransmission itself (RFC 4430 3.2/9): same XID,
	# same ticket, but rebuilt: new authenticator and Cksum, so not
	# identical
	check_eq "$fam/resend-same-xid" "$(od -An -tx1 -j8 -N4 "$T/c1.bin")" \
	    "$(od -An -tx1 -j8 -N4 "$T/c2.bin")"
	t1=$(ticket_of "$T/c1.bin")
	check "$fam/ticket-found" test -n "$t1"
	check_eq "$fam/resend-same-ticket" "$(ticket_of "$T/c2.bin")" "$t1"
	check "$fam/resend-rebuilt" sh -c "! cmp -s '$T/c1.bin' '$T/c2.bin'"
	# the rebuilt AP-REQ carries a new authenticator (RFC 4430 9), not the
	# old one under a new confounder: its time, as beta's keytab opens it
	for c in c1 c2; do
		"$KINKCRAFT" authn -f "$T/$c.bin" -k "$T/beta.keytab" \
		    -p "kink/beta.test@$HOST_REALM" > "$T/$c.authn" 2>&1
	done
	check "$fam/resend-authenticator-read" grep -q '^ctime [0-9]* [0-9]*$' "$T/c1.authn"
	check "$fam/resend-new-authenticator" sh -c "grep -q '^ctime ' '$T/c2.authn' && ! cmp -s '$T/c1.authn' '$T/c2.authn'"
	BETA=$(hostport "$(addr_of "$fam" beta)" "$HOST_PORT")
	LIKE_ALPHA=$(hostport "$(addr_of "$fam" rbeta)" 0)
	STRANGER=$(hostport "$(addr_of "$fam" alpha)" 0)
	monitor_start beta
	epoch0=$(jqctl beta '.peers[] | select(.name == "alpha") | .epoch' show peers)
	sas=$(spis beta)
	xacts=$(xact_count beta)

	hostile() {	# hostile NAME KINKCRAFT-ARGS...: run, then the checks
		local c=$1 d0
		shift
		d0=$(stats_sum beta "$DROPS")
		"$KINKCRAFT" "$@" -t "$BETA" -w 300 > "$T/craft.out" 2>&1
		check_eq "$c/kinkcraft-ran" $? 0
		check "$c/beta-alive" daemon_ready beta
		check_eq "$c/no-new-sa" "$(spis beta)" "$sas"
		check "$c/no-new-xact" test "$(xact_count beta)" -le "$xacts"
		check "$c/drops-counted" wait_until "$HOST_WAIT" \
		    is -gt "$d0" stats_sum beta "$DROPS"
		check_eq "$c/no-sa-add" "$(event_count beta 'sa-add')" 0
	}

	hostile "$fam/garbage-as-alpha" garbage -b "$LIKE_ALPHA" -n 200 -s 1
	hostile "$fam/garbage-stranger" garbage -b "$STRANGER" -n 200 -s 2
	hostile "$fam/truncated" truncate -b "$LIKE_ALPHA" -f "$T/c2.bin"
	# c1's AP-REQ is fresh to beta, but its XID is the completed
	# exchange's: under that XID the reply cache would answer it before
	# any Cksum mattered, so it goes under a new one
	k0=$(stat_get beta drop_cksum)
	hostile "$fam/forged-cksum" forge -b "$LIKE_ALPHA" -f "$T/c1.bin" -X 0x5eec
	check "$fam/forged-cksum/cksum-drop" test "$(stat_get beta drop_cksum)" -gt "$k0"
	hostile "$fam/forged-cksum-new-xid" forge -b "$LIKE_ALPHA" -f "$T/c2.bin" -X 0x5eed
	# a replay of a completed CREATE: beta may answer from its reply
	# cache (the same REPLY again) but must not negotiate anew
	hostile "$fam/replay" replay -b "$LIKE_ALPHA" -f "$T/c2.bin" -n 3

	# unauthenticated input never moves what beta believes about alpha
	check_eq "$fam/peer-epoch-unchanged" \
	    "$(jqctl beta '.peers[] | select(.name == "alpha") | .epoch' show peers)" "$epoch0"
	check_eq "$fam/no-epoch-event" "$(event_count beta peer-epoch)" 0
	check_eq "$fam/no-peer-state-event" "$(event_count beta peer-state)" 0
	check_eq "$fam/peer-epoch-changes-0" "$(stat_get beta peer_epoch_changes)" 0

	# still serving: a real CREATE works, and only it adds SAs
	check "$fam/create-after" ctl alpha initiate beta
	check "$fam/create-after-4-sas" wait_until "$HOST_WAIT" sa_count_is beta 4
	check "$fam/create-after-pairwise" sa_pair_ok alpha beta
	# (the monitor may write the events a moment after the SAs show)
	check "$fam/create-after-sa-add" wait_until "$HOST_WAIT" \
	    is = 2 event_count beta 'sa-add'

	monitor_stop beta
	relay_stop
	stop_kinkd alpha
	stop_kinkd beta
done
