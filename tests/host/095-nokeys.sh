#!/bin/bash
# Logs a sysadmin can act on, and no key material in them, ever (STYLE
# 6.4; issue "Ship it").
#
# 1. Default level: one info line per completed exchange on each side,
#    naming the peer, the XID, the command, the result and the SPIs --
#    the SPIs kinkctl shows.
# 2. Debug level (-vvv): a full exchange (optimistic CREATE, a CREATE with
#    PFS, DELETE by flush, and `kinkctl show sa keys` itself), then every
#    SA key read through `kinkctl -j show sa keys` is searched in both
#    daemons' logs as hex (either case, with or without separators between
#    the bytes, broken across lines: any 8 consecutive key bytes on one
#    line) and as base64.  The detector is first shown to find a key
#    planted in such forms, so a silent grep cannot pass.
. tests/lib/host.sh
host_init 095-nokeys
host_realm alpha beta || exit 1

# --- 1. one line per exchange at the default level --------------------
HOST_VERBOSE= host_pair v4 || { fail start "daemons did not start"; exit 1; }
ctl alpha initiate beta > "$T/init.out" 2>&1
check_eq initiate-exit $? 0
require two-sas wait_until "$HOST_WAIT" sa_count_is beta 2
xid=$(sed -n 's/.*xid \(0x[0-9a-f]*\) peer beta: initiated CREATE ok.*/\1/p' "$T/alpha.log")
check_eq one-initiator-line "$(grep -c 'peer beta: initiated CREATE ok' "$T/alpha.log")" 1
# beta may show its SAs a moment before it logs the exchange done, and
# alpha logs the DELETE once beta's answer is in, after beta dropped its
# SAs: wait for the lines, then there must be exactly one
check one-responder-line wait_until "$HOST_WAIT" \
    is = 1 log_count beta "xid $xid peer alpha: answered CREATE ok"
# The SPIs in the line are the ones installed.
for s in $(spis alpha); do
	h=$(printf '0x%08x' "$s")
	check "initiator-line-spi-$h" grep -q "xid $xid peer beta: initiated CREATE ok.*$h" "$T/alpha.log"
	check "responder-line-spi-$h" grep -q "xid $xid peer alpha: answered CREATE ok.*$h" "$T/beta.log"
done
ctl alpha flush sa > /dev/null 2>&1
check flushed wait_until "$HOST_WAIT" sa_count_is beta 0
check one-delete-line wait_until "$HOST_WAIT" \
    is = 1 log_count alpha 'peer beta: initiated DELETE ok'
deflines=$(wc -l < "$T/alpha.log")
echo "# default-level log of alpha:"
sed 's/^/#   /' "$T/alpha.log"
stop_kinkd alpha
stop_kinkd beta

# --- 2. no key bytes at debug level -----------------------------------

# found_keys KEYFILE LOG...: print each key (hex, one a line in KEYFILE)
# that occurs in a LOG in any of the encodings above; exit 0 if none.
found_keys() {
	local kf=$1 k b64 f rc=0
	shift
	while read -r k; do
		[ -n "$k" ] || continue
		b64=$(perl -e 'print pack("H*", $ARGV[0])' "$k" | base64 -w0)
		for f in "$@"; do
			if grep -qF -- "$b64" "$f" ||
			    awk -v k="$k" '
			    BEGIN { for (i = 1; i + 15 <= length(k); i += 2)
				w[substr(k, i, 16)] = 1 }
			    { s = tolower($0); gsub(/[^0-9a-f]/, "", s)
			      for (x in w) if (index(s, x)) { found = 1; exit } }
			    END { exit !found }' "$f"; then
				echo "$k in $f"
				rc=1
			fi
		done
	done < "$kf"
	return $rc
}

# The detector finds a planted key in the forms it claims to cover.
k=00112233445566778899aabbccddeeff0123456789abcdef
echo "$k" > "$T/planted.keys"
printf 'x %s\n' "$k" > "$T/p1.log"
printf 'x %s\n' "$(echo "$k" | tr a-f A-F | sed 's/../& /g')" > "$T/p2.log"
printf '12:00:00.000 0000: 00 11 22 33 44 55 66 77 88 99\n12:00:00.001 0010: aa bb cc dd ee ff 01 23 45 67 89\n' > "$T/p3.log"
printf 'key=%s\n' "$(perl -e 'print pack("H*", $ARGV[0])' "$k" | base64 -w0)" > "$T/p4.log"
echo "no keys here: 0011223344" > "$T/p5.log"
for p in 1 2 3 4; do
	check "detector-finds-form-$p" eval "! found_keys '$T/planted.keys' '$T/p$p.log' > /dev/null"
done
check detector-clean-file found_keys "$T/planted.keys" "$T/p5.log"

HOST_VERBOSE=-vvv host_pair v4 || { fail debug-start "daemons did not start"; exit 1; }
ctl alpha initiate beta > /dev/null 2>&1
check_eq debug-initiate $? 0
require debug-two-sas wait_until "$HOST_WAIT" sa_count_is beta 2
sa_lines alpha k | awk '{ print $8; print $9 }' | grep -v '^$' > "$T/keys"
stop_kinkd alpha
stop_kinkd beta
# start_kinkd empties the log: keep this run's.
cat "$T/alpha.log" > "$T/alpha-all.log"
cat "$T/beta.log" > "$T/beta-all.log"
HOST_VERBOSE=-vvv PFS=modp2048 host_pair v4 ||
    { fail pfs-start "daemons did not start"; exit 1; }
ctl alpha initiate beta > /dev/null 2>&1
check_eq pfs-initiate $? 0
require pfs-two-sas wait_until "$HOST_WAIT" sa_count_is beta 2
sa_lines beta k | awk '{ print $8; print $9 }' | grep -v '^$' >> "$T/keys"
ctl alpha flush sa > /dev/null 2>&1
check pfs-flushed wait_until "$HOST_WAIT" sa_count_is beta 0
stop_kinkd alpha
stop_kinkd beta
# 2 exchanges x 2 SAs x (enc + auth key)
check_eq keys-read "$(sort -u "$T/keys" | wc -l)" 8
check_eq keys-hex "$(grep -cv '^[0-9a-f]\{16,\}$' "$T/keys")" 0
cat "$T/alpha.log" >> "$T/alpha-all.log"
cat "$T/beta.log" >> "$T/beta-all.log"
# -vvv logged more than the default level did for the same exchanges.
check debug-level-is-verbose test "$(wc -l < "$T/alpha-all.log")" -gt $((deflines * 2))
check no-key-in-logs found_keys "$T/keys" "$T/alpha-all.log" "$T/beta-all.log"
host_cleanup
