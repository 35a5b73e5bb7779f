#!/bin/bash
# Every kinkctl command against live daemons, text and JSON (-j), and
# the exit status contract: 0 ok, 1 daemon or connection error (message
# on stderr), 2 usage.  Also: `show sa` never prints keys without the
# explicit "keys" word, -q is quiet, and a caller that is not root may
# look but not change anything.
. tests/lib/host.sh
host_init 090-kinkctl
host_realm alpha beta || exit 1
host_pair v4 || { fail start "daemons did not start"; exit 1; }

# run NAME WANT-EXIT CMD...: kinkctl against alpha; output in $T/NAME.{out,err}
run() {
	local n=$1 want=$2 rc
	shift 2
	ctl alpha "$@" > "$T/$n.out" 2> "$T/$n.err"
	rc=$?
	check_eq "$n/exit" "$rc" "$want"
}
runj() {
	local n=$1 want=$2 rc
	shift 2
	ctlj alpha "$@" > "$T/$n.out" 2> "$T/$n.err"
	rc=$?
	check_eq "$n/exit" "$rc" "$want"
	check "$n/valid-json" jq -e . "$T/$n.out" > /dev/null
}

# monitor first, text and JSON, so the later commands show up in both
"$KINKCTL" -s "$(sock_of alpha)" monitor > "$T/monitor-text.out" 2>&1 &
HOST_BG="$HOST_BG $!"
monitor_start alpha
check monitor-text-subscribed wait_until "$HOST_WAIT" grep -q subscribed "$T/monitor-text.out"

# initiate
run initiate 0 initiate beta
check_eq initiate/says-ok "$(cat "$T/initiate.out")" ok
require initiate/2-sas wait_until "$HOST_WAIT" sa_count_is alpha 2
runj initiate-json 0 initiate beta host
check_eq initiate-json/result "$(jq -r .result "$T/initiate-json.out")" ok
wait_until "$HOST_WAIT" sa_count_is beta 4
run initiate-quiet 0 -q initiate beta
check_eq initiate-quiet/silent "$(cat "$T/initiate-quiet.out")" ""
run initiate-nopeer 1 initiate nosuch
check initiate-nopeer/stderr test -s "$T/initiate-nopeer.err"
run initiate-nopolicy 1 initiate beta nosuch
run initiate-usage 2 initiate

# show sa
run show-sa 0 show sa
check show-sa/has-header grep -q -i 'spi' "$T/show-sa.out"
check_eq show-sa/six-rows "$(grep -c -E '0x[0-9a-f]{8}' "$T/show-sa.out")" 6
runj show-sa-json 0 show sa
check_eq show-sa-json/six "$(jq '.sa | length' "$T/show-sa-json.out")" 6
check_eq show-sa-json/no-keys "$(jq '[.sa[] | select(.enckey or .authkey)] | length' "$T/show-sa-json.out")" 0
check show-sa/no-keys-text sh -c "! grep -q -E 'enckey|authkey' '$T/show-sa.out'"
runj show-sa-keys 0 show sa keys
check_eq show-sa-keys/has-keys "$(jq '[.sa[] | select((.enckey // "") != "" and (.authkey // "") != "")] | length' "$T/show-sa-keys.out")" 6
run show-sa-keys-text 0 show sa keys
check show-sa-keys-text/keys grep -q enckey "$T/show-sa-keys-text.out"
runj show-sa-peer 0 show sa peer beta
check_eq show-sa-peer/six "$(jq '.sa | length' "$T/show-sa-peer.out")" 6
run show-sa-nopeer 1 show sa peer nosuch
run show-sa-abbrev 0 sh sa
check_eq show-sa-abbrev/same "$(grep -c -E '0x[0-9a-f]{8}' "$T/show-sa-abbrev.out")" 6

# show peers
run show-peers 0 show peers
check show-peers/beta grep -q beta "$T/show-peers.out"
runj show-peers-json 0 show peers
check_eq show-peers-json/beta-alive "$(jq -r '.peers[] | select(.name == "beta") | .state' "$T/show-peers-json.out")" alive
check_eq show-peers-json/principal "$(jq -r '.peers[] | select(.name == "beta") | .principal' "$T/show-peers-json.out")" "kink/beta.test@$HOST_REALM"
check show-peers-json/epoch-known test "$(jq -r '.peers[] | select(.name == "beta") | .epoch' "$T/show-peers-json.out")" != null

# show xact
run show-xact 0 show xact
runj show-xact-json 0 show xact
check show-xact-json/array test "$(jq '.xact | type' "$T/show-xact-json.out")" = '"array"'

# show stats
run show-stats 0 show stats
check show-stats/nonempty test -s "$T/show-stats.out"
runj show-stats-json 0 show stats
check show-stats-json/numbers jq -e '.stats | to_entries | length > 0 and all(.[]; (.value | type) == "number")' "$T/show-stats-json.out"

# delete sa
spi=$(jq -r '.sa[] | select(.dir == "out") | .spi' "$T/show-sa-json.out" | head -n 1)
run delete 0 delete sa "$spi"
check delete/gone wait_until "$HOST_WAIT" sa_count_is alpha 4
run delete-unknown 1 delete sa "$spi"
check delete-unknown/stderr test -s "$T/delete-unknown.err"
ctlj alpha delete sa "$spi" > /dev/null 2>&1
check_eq delete-unknown-json/exit $? 1
run delete-badspi 2 delete sa notanumber
run delete-nospi 2 delete sa

# flush sa
run flush-peer 0 flush sa peer beta
check flush-peer/empty wait_until "$HOST_WAIT" sa_count_is alpha 0
run initiate-again 0 initiate beta
runj flush-json 0 flush sa
check flush-json/empty wait_until "$HOST_WAIT" sa_count_is alpha 0
run flush-nopeer 1 flush sa peer nosuch

# reload
run reload 0 reload
runj reload-json 0 reload
cp "$T/alpha.conf" "$T/broken.conf"
echo 'set bogus 1' >> "$T/broken.conf"
run reload-broken 1 reload "$T/broken.conf"
check reload-broken/file-line-col grep -q -E 'broken\.conf:[0-9]+:[0-9]+: ' "$T/reload-broken.err"
ctlj alpha reload "$T/broken.conf" > /dev/null 2>&1
check_eq reload-broken-json/exit $? 1

# log verbose / brief: the daemon logs more per exchange when verbose
run log-brief 0 log brief
l0=$(wc -l < "$T/alpha.log")
run initiate-brief 0 initiate beta
l1=$(wc -l < "$T/alpha.log")
run log-verbose 0 log verbose
run initiate-verbose 0 initiate beta
l2=$(wc -l < "$T/alpha.log")
check log-verbose/more-lines test $((l2 - l1)) -gt $((l1 - l0))
runj log-json 0 log brief
run log-usage 2 log loud
run ambiguous 2 show s

# monitor saw what happened, in both renderings
check monitor-json/sa-add wait_event alpha sa-add
check monitor-json/sa-del wait_event alpha sa-del
check monitor-json/reload wait_event alpha reload
check monitor-text/sa-add grep -q sa-add "$T/monitor-text.out"
check monitor-json/valid jq -e . "$T/alpha.mon" > /dev/null
# monitor's own options: count and timeout
# (-n 1 ends it at the first sa-add: the -t bound only stops a hang)
ctl alpha monitor -n 1 -t "$HOST_WAIT" -e sa-add > "$T/monitor-n.out" 2>&1 &
mpid=$!
wait_until "$HOST_WAIT" grep -q subscribed "$T/monitor-n.out"
ctl alpha initiate beta > /dev/null 2>&1
wait_until $((HOST_WAIT + 5)) proc_gone "$mpid"
wait "$mpid"
check_eq monitor-count/exit $? 0
check_eq monitor-count/one "$(grep -c sa-add "$T/monitor-n.out")" 1
# (a type that does not come now: an unknown one is a usage error)
ctl alpha monitor -n 1 -t 1 -e peer-epoch > /dev/null 2>&1
check_eq monitor-timeout/exit $? 1
ctl alpha monitor -n 1 -t 1 -e no-such-event > /dev/null 2>&1
check_eq monitor-unknown-type/exit $? 2

# usage errors: exit 2, before any connection
for args in "" "bogus" "show" "show bogus" "delete" "flush" "flush sa peer" \
    "log" "-Z show sa"; do
	# shellcheck disable=SC2086
	"$KINKCTL" -s "$(sock_of alpha)" $args > /dev/null 2>&1
	check_eq "usage/${args:-empty}" $? 2
done
# connection errors: exit 1 with a message
"$KINKCTL" -s "$T/nonexistent.sock" show sa > /dev/null 2> "$T/noconn.err"
check_eq no-daemon/exit $? 1
check no-daemon/stderr test -s "$T/noconn.err"

# not root: may look, may not change or see keys (socket opened up for
# the test; the daemon checks SO_PEERCRED)
if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ]; then
	chmod 0711 "$T"
	chmod 0666 "$(sock_of alpha)"
	nobody() {
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$KINKCTL" -s "$(sock_of alpha)" "$@"
	}
	nobody show sa > /dev/null 2> "$T/nr-show.err"
	check_eq nonroot/show-sa-exit $? 0
	nobody show sa keys > /dev/null 2> "$T/nr.err"
	check nonroot/keys-refused-says-why grep -q -i -E 'perm|root' "$T/nr.err"
	nobody show sa keys > /dev/null 2> "$T/nr.err"
	check_eq nonroot/keys-refused $? 1
	nobody flush sa > /dev/null 2>&1
	check_eq nonroot/flush-refused $? 1
	nobody initiate beta > /dev/null 2>&1
	check_eq nonroot/initiate-refused $? 1
	nobody reload > /dev/null 2>&1
	check_eq nonroot/reload-refused $? 1
	nobody log verbose > /dev/null 2>&1
	check_eq nonroot/log-refused $? 1
	check nonroot/sas-untouched test "$(sa_count alpha)" -ge 2
	chmod 0660 "$(sock_of alpha)"
	chmod 0700 "$T"
else
	fail nonroot "needs root and setpriv to run kinkctl as another uid"
fi
# the socket is created 0660
check socket-mode test "$(stat -c %a "$(sock_of beta)")" = 660
