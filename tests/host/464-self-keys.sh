#!/bin/bash
# kinkctl show self tells an admin which keys kinkd will use and how long
# its ticket-granting ticket lasts: one "key" line per key of our
# principal in the keytab (kvno and enctype, as klist -k lists them; read
# at the request, so a key added under a running kinkd shows), the TGT's
# end once the worker has it, and the JSON form valid against the schema
# (klist marks an enctype it deems weak "DEPRECATED:"; the name is the
# same).
# A keytab that loses the principal says so instead.
. tests/lib/host.sh
host_init 464-self-keys
SCHEMA=etc/kinkctl.schema.json
host_realm alpha beta || exit 1
host_pair v4 || { fail start "daemons did not start"; exit 1; }
P="kink/alpha.test@$HOST_REALM"

klist_keys() {	# klist_keys KEYTAB: "kvno N enctype" per entry of $P
	klist -ke "$1" | awk -v p="$P" '$1 ~ /^[0-9]+$/ && $2 == p {
		e = $3; gsub(/[()]/, "", e); sub(/^DEPRECATED:/, "", e); print "kvno " $1 " " e }'
}
want=$(klist_keys "$T/alpha.keytab")
check keytab-has-keys test -n "$want"
ctl alpha show self > "$T/self.out" 2>&1
check_eq text/exit $? 0
check_eq text/keys "$(sed -n 's/^key  *//p' "$T/self.out")" "$want"
check text/no-error sh -c "! grep -q '^keytab_error' '$T/self.out'"

# the TGT: kinkd asked for it at start and both daemons negotiated since
check initiate ctl alpha initiate beta
tgt_known() { ctl alpha show self | grep -q '^tgt_expires '; }
check tgt/known wait_until "$HOST_WAIT" tgt_known
ctlj alpha show self > "$T/self.json" 2> "$T/self.err"
check_eq json/exit $? 0
check_eq json/keys "$(jq -r '.self.keys[] | "kvno \(.kvno) \(.enctype)"' "$T/self.json")" "$want"
end=$(jq -r .self.tgt_expires "$T/self.json")
end_s=$(date -u -d "$end" +%s 2>/dev/null)
now=$(date +%s)
check tgt/in-future test -n "$end_s" -a "${end_s:-0}" -gt "$now"
# the realm's default ticket life is at most a day (tests/lib/realm.sh)
check tgt/within-a-day test "${end_s:-0}" -le $((now + 86400 + 300))
if python3 -c 'import jsonschema' 2>/dev/null; then
	check json/schema python3 tests/lib/json_schema.py "$SCHEMA" "$T/self.json"
else
	fail json/schema "python3-jsonschema not installed (tests/deps.sh)"
fi

# a key added to the keytab under the running kinkd shows at once
host_keytab "$T/extra.keytab" "$P" 9 ||
    { fail setup "ktutil: $(tr '\n' ' ' < "$T/ktutil.out")"; exit 1; }
printf 'rkt %s\nrkt %s\nwkt %s\n' "$T/alpha.keytab" "$T/extra.keytab" \
    "$T/merged.keytab" | ktutil > "$T/merge.out" 2>&1
cp "$T/merged.keytab" "$T/alpha.keytab"
ctl alpha show self > "$T/self2.out" 2>&1
check_eq added/keys "$(sed -n 's/^key  *//p' "$T/self2.out")" "$(klist_keys "$T/alpha.keytab")"
check_eq added/kvno9 "$(grep -c '^key  *kvno 9 ' "$T/self2.out")" 2

# a keytab without our principal: no keys, and why
host_keytab "$T/other.keytab" "kink/other.test@$HOST_REALM" ||
    { fail setup "ktutil: $(tr '\n' ' ' < "$T/ktutil.out")"; exit 1; }
cp "$T/other.keytab" "$T/alpha.keytab"
ctlj alpha show self > "$T/self3.json" 2>&1
check_eq lost/no-keys "$(jq -c .self.keys "$T/self3.json")" "[]"
check_eq lost/why "$(jq -r .self.keytab_error "$T/self3.json")" "no key for $P"
