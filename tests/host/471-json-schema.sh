#!/bin/bash
# kinkctl -j keeps its word: every JSON document kinkctl prints against
# live daemons (each command, keys included, and a monitor stream with
# SA, transaction and reload events) validates against the schema
# shipped in etc/kinkctl.schema.json.  The validator itself is checked
# to refuse documents that break the promises (an XID as a number, an
# empty peer instead of null, a field the schema does not know).
. tests/lib/host.sh
host_init 471-json-schema
SCHEMA=etc/kinkctl.schema.json
V="python3 tests/lib/json_schema.py $SCHEMA"
if ! python3 -c 'import jsonschema' 2>/dev/null; then
	fail setup "python3-jsonschema not installed (tests/deps.sh)"
	exit 1
fi
host_realm alpha beta || exit 1
host_pair v4 || { fail start "daemons did not start"; exit 1; }
monitor_start alpha || fail monitor "no subscription"

# valid NAME ARGS...: kinkctl -j ARGS against alpha validates.
valid() {
	local n=$1
	shift
	ctlj alpha "$@" > "$T/$n.json" 2> "$T/$n.err"
	check_eq "$n/exit" $? 0
	check "$n/schema" $V "$T/$n.json"
}

valid initiate initiate beta
require sas wait_until "$HOST_WAIT" sa_count_is alpha 2
valid show-sa show sa
check_eq show-sa/two "$(jq '.sa | length' "$T/show-sa.json")" 2
valid show-sa-keys show sa keys
valid show-peers show peers
valid show-xact show xact
valid show-stats show stats
valid show-self show self
valid show-policies show policies
valid version version
valid reload reload
valid log log info
valid flush flush sa
check events wait_event alpha sa-del
check "monitor/schema" $V --lines "$T/alpha.mon"
check monitor/has-xid grep -q '"xid":"0x[0-9a-f]\{8\}"' "$T/alpha.mon"
check monitor/has-null-peer grep -q '"peer":null' "$T/alpha.mon"

# The validator refuses what the schema rules out.
printf '{"time_ms":1,"type":"reload","peer":null,"xid":4660,"text":"ok"}\n' > "$T/bad1.json"
printf '{"time_ms":1,"type":"reload","peer":"","xid":null,"text":"ok"}\n' > "$T/bad2.json"
jq -c '.sa[0].extra = 1' "$T/show-sa.json" > "$T/bad3.json"
for b in bad1 bad2 bad3; do
	$V "$T/$b.json" > "$T/$b.out" 2>&1
	check_eq "validator-refuses-$b" $? 1
done
