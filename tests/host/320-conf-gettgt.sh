#!/bin/bash
# RFC 4430 conformance of the GETTGT responder (docs/conformance.md cites
# these checks).  beta allows User-to-User for alpha; GETTGT commands are
# crafted with kinkcraft and reach beta through a private relay whose
# beta-side socket has alpha's address, so beta takes them as alpha's.
# The relay saves beta's answers, so the payloads can be read:
#  - GETTGT for beta's own principal: a REPLY with a KINK_TGT_REP, no
#    Cksum (6.6 normal form; nothing to key it with);
#  - GETTGT for a principal beta is not: 4.2.4 says the TGT returned MUST
#    have a cname/crealm matching the requested name, and a responder
#    that is not that principal MAY answer KRB_AP_ERR_NOT_US; so the
#    answer must not be beta's TGT (KINK_TGT_REP) - KINK_ERROR or
#    KRB_ERROR are both fine;
#  - GETTGT from an address that is no peer: KINK_ERROR KINK_U2UDENIED
#    (6.6: "MUST reply with a KINK_ERROR payload").
# v4 only.
. tests/lib/host.sh
host_init 320-conf-gettgt
host_realm alpha beta || exit 1

write_conf beta v4
sed -i "s|^\tprincipal \"kink/alpha.test@$HOST_REALM\"|&\n\tu2u allow|" "$T/beta.conf"
require u2u-configured grep -q 'u2u allow' "$T/beta.conf"
start_kinkd beta "$T/beta.conf" || { fail start "beta did not start"; exit 1; }

CRAFT_AT=$(hostport 127.0.0.5 "$HOST_PORT")
XR_A=$(hostport 127.0.0.6 "$HOST_PORT")
# the relay's beta side has alpha's address: beta's peer "alpha"
XR_B=$(hostport "$(addr_of v4 alpha)" $((HOST_PORT + 101)))
BETA=$(hostport "$(addr_of v4 beta)" "$HOST_PORT")
: > "$T/xrelay.rules"
"$UDPRELAY" -a "$XR_A" -A "$CRAFT_AT" -b "$XR_B" -B "$BETA" \
    -R "$T/xrelay.rules" -l "$T/xrelay.log" -S "$T/xrelay.stats" \
    -p "$T/xrelay.pid" 2>>"$T/xrelay.log" &
HOST_BG="$HOST_BG $!"
wait_until "$HOST_WAIT" test -s "$T/xrelay.pid"

# gettgt_hex PRINCIPAL: a GETTGT datagram (XID 0x7e7e0001) asking for it
gettgt_hex() {
	local name=$1 n plen pad hex
	n=${#name}
	plen=$((4 + n))
	pad=$(( ((plen + 3) & ~3) - plen ))
	hex=$(printf '%s' "$name" | od -An -v -tx1 | tr -d ' \n')
	printf '0410%04x000000017e7e000104000000' $((16 + plen + pad))
	printf '0000%04x%s' "$plen" "$hex"
	[ "$pad" -gt 0 ] && printf '%0*d' $((2 * pad)) 0
	echo
}

n_ask=0
ask() {	# ask NAME PRINCIPAL: send through the relay, answer in $T/NAME.bin
	local f=$T/$1.bin before
	printf 'save=%s b2a REPLY 1\n' "$f" > "$T/xrelay.rules"
	before=$(grep -c '^rules ' "$T/xrelay.log")
	kill -HUP "$(cat "$T/xrelay.pid")"
	wait_until "$HOST_WAIT" is -gt "$before" grep -c '^rules ' "$T/xrelay.log"
	"$KINKCRAFT" send -t "$XR_A" -b "$CRAFT_AT" -w 300 \
	    -x "$(gettgt_hex "$2")" > "$T/$1.out" 2>&1
	# the relay saves the answer whether or not kinkcraft still listens
	check "$1/answered" wait_until "$HOST_WAIT" test -s "$f"
}

# 1. beta's own name: its TGT, unauthenticated
ask own "kink/beta.test@$HOST_REALM"
check_eq own/reply "$(octets "$T/own.bin" 0 1)" 3
check_eq own/same-xid "$(be32 "$T/own.bin" 8)" $((0x7e7e0001))
check_eq own/no-cksum "$(be16 "$T/own.bin" 14)" 0
check_eq own/tgt-rep "$(octets "$T/own.bin" 12 1)" 5
check own/tgt-nonempty test "$(be16 "$T/own.bin" 18)" -gt 100

# 2. another principal's name: not beta's TGT (4.2.4)
ask other "kink/gamma.test@$HOST_REALM"
first=$(octets "$T/other.bin" 12 1)
check_eq other/reply "$(octets "$T/other.bin" 0 1)" 3
if [ "$first" = 3 ] || [ "$first" = 8 ]; then
	pass other/no-tgt-of-another-principal
elif [ "$first" = 5 ]; then
	fail other/no-tgt-of-another-principal \
	    "beta answered a GETTGT for kink/gamma.test with its own TGT" \
	    "(KINK_TGT_REP): 4.2.4 wants the TGT's cname to match the" \
	    "requested name (src/xact_gettgt.c gettgt_respond ignores" \
	    "the TGT_REQ's PrincName)"
else
	fail other/no-tgt-of-another-principal "first payload $first," \
	    "want KINK_KRB_ERROR (3) or KINK_ERROR (8)"
fi

# 3. from an address that is no peer: KINK_ERROR U2UDENIED (6.6)
"$KINKCRAFT" send -t "$BETA" -b "$(hostport 127.0.0.5 0)" -w 3000 \
    -x "$(gettgt_hex "kink/beta.test@$HOST_REALM")" > "$T/stranger.out" 2>&1
check stranger/lone-kink-error grep -q '^recv REPLY len=24 xid=0x7e7e0001' "$T/stranger.out"
check stranger/denied-logged grep -q 'GETTGT denied' "$T/beta.log"
check stranger/no-xact test "$(xact_count beta)" -eq 0

kill "$(cat "$T/xrelay.pid")" 2>/dev/null
stop_kinkd beta
