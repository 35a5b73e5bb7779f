# Host-tier helpers: real kinkd processes, a real KDC (tests/lib/realm.sh),
# the null SA backend, kinkctl to drive and inspect them, udprelay to
# impair the network between them.  Sourced by tests/host/NNN-*.sh:
#
#	. tests/lib/host.sh
#	host_init 010-create
#	host_realm alpha beta          # KDC + kink/<name>.test principals, keytabs
#	host_pair v4                   # writes alpha.conf / beta.conf, starts both
#	ctl alpha initiate beta        # kinkctl against alpha's socket
#	check create-v4 test "$(sa_count alpha)" = 2
#
# Every check prints exactly one "PASS name" or "FAIL name: why" line;
# names get the scenario's name as prefix.  Nothing waits with a fixed
# sleep as its pass criterion: wait_until polls a condition with a bound,
# and wait_event reads `kinkctl monitor` output.
#
# The tier runs inside its own network namespace (tests/host/run.sh does
# the unshare), so fixed addresses and ports are ours alone:
#	v4: alpha 127.0.0.1, beta 127.0.0.2, relay 127.0.0.3 (alpha's side)
#	    and 127.0.0.4 (beta's side)
#	v6: fd6b:696e:6b::a, ::b, ::1a, ::1b on lo (added by run.sh)
# Both daemons listen on the same port: a kinkd sends to its peer's
# address on its own "set port", as the conf grammar has no per-peer port.

: "${B:=build}"
HOST_TOP=$(pwd)
KINKD="$HOST_TOP/$B/tests/kinkd-test"
KINKCTL="$HOST_TOP/$B/kinkctl"
UDPRELAY="$HOST_TOP/$B/tests/tools/udprelay"
KINKCRAFT="$HOST_TOP/$B/tests/tools/kinkcraft"
HOST_REALM=KINK.TEST
HOST_PORT=${HOST_PORT:-9100}
# Retransmission: the first resend comes only after 2 s, far longer than
# a healthy exchange takes even on a loaded 2-core CI machine with
# ASan+UBSan (milliseconds unloaded), so scenarios that count datagrams on
# the wire see no resend unless they cause one.  A full cycle (which is
# also how long a finished initiator ages and when a silent peer is given
# up) is 2+2+2 = 6 s.  Scenarios that test loss and give-up set their own,
# shorter HOST_RETRANS before write_conf and must tolerate extra resends.
HOST_RETRANS=${HOST_RETRANS:-"2s max 2s tries 3"}
# The bound of every wait (wait_until "$HOST_WAIT" ..., wait_event,
# start_kinkd).  Waits return as soon as their condition holds, so a
# generous bound costs nothing when the test passes; it only stops a hung
# test.  It covers a full retransmit cycle above with room for a slow,
# loaded machine.
HOST_WAIT=${HOST_WAIT:-30}
# HOST_B2: the build dir of the daemon named beta (default: $B, like
#	alpha), for a pair of two builds (tests/heimdal: MIT <-> Heimdal)
# HOST_VERBOSE: kinkd's verbosity flags (default -v; empty for benches)
# HOST_WRAPPER: run each kinkd under it, e.g. on a plain (no SAN) build
#	HOST_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full"
#	(valgrind execs in place, so the recorded pid stays the daemon's)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

HOST_NAME=
HOST_FAILS=0
HOST_PASSES=0
HOST_DAEMONS=
HOST_BG=
T=

addr_of() {	# addr_of v4|v6 alpha|beta|ralpha|rbeta
	case "$1:$2" in
	v4:alpha) echo 127.0.0.1 ;;
	v4:beta) echo 127.0.0.2 ;;
	v4:ralpha) echo 127.0.0.3 ;;	# relay socket alpha sends to
	v4:rbeta) echo 127.0.0.4 ;;	# relay socket beta sends to
	v6:alpha) echo fd6b:696e:6b::a ;;
	v6:beta) echo fd6b:696e:6b::b ;;
	v6:ralpha) echo fd6b:696e:6b::1a ;;
	v6:rbeta) echo fd6b:696e:6b::1b ;;
	*) echo "addr_of: $1 $2?" >&2; return 1 ;;
	esac
}

hostport() {	# hostport ADDR PORT -> a:p or [a]:p
	case "$1" in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}

other_of() {
	case "$1" in alpha) echo beta ;; beta) echo alpha ;; esac
}

pass() {
	HOST_PASSES=$((HOST_PASSES + 1))
	echo "PASS $HOST_NAME/$1"
}

fail() {
	local n=$1
	shift
	HOST_FAILS=$((HOST_FAILS + 1))
	echo "FAIL $HOST_NAME/$n: $*"
}

# check NAME CMD...: PASS when CMD succeeds.
check() {
	local n=$1
	shift
	if "$@"; then
		pass "$n"
	else
		fail "$n" "failed: $*"
		return 1
	fi
}

# require NAME CMD...: a check the rest of the scenario depends on; on
# failure the scenario stops (one FAIL line says so) instead of timing out
# check after check.
require() {
	local n=$1
	shift
	if "$@"; then
		pass "$n"
	else
		fail "$n" "failed: $* (scenario stopped: later checks depend on it)"
		exit 1
	fi
}

# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "got '$2', want '$3'"
		return 1
	fi
}

host_init() {
	HOST_NAME=$1
	T=$(mktemp -d "/tmp/kinkd-host-$1.XXXXXX") || exit 1
	trap host_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	# HOST_NEEDS: the programs this scenario uses (default: all).
	for b in ${HOST_NEEDS:-"$KINKD" "$KINKCTL" "$UDPRELAY" "$KINKCRAFT"}; do
		if [ ! -x "$b" ]; then
			fail setup "$b not built"
			exit 1
		fi
	done
	if ! command -v jq >/dev/null; then
		fail setup "jq not installed (tests/deps.sh)"
		exit 1
	fi
	echo "# $HOST_NAME: work dir $T"
}

# Kill what the scenario started, stop the realm, keep the work dir when
# something failed (the logs are what one reads next).
host_cleanup() {
	local rc=$? d p f
	set +e
	for d in $HOST_DAEMONS; do
		stop_kinkd "$d" >/dev/null 2>&1
	done
	for p in $HOST_BG; do
		kill "$p" 2>/dev/null
	done
	for p in $HOST_BG; do
		wait "$p" 2>/dev/null
	done
	if command -v realm_stop >/dev/null 2>&1 && [ -n "${REALM_STARTED:-}" ]
	then
		realm_stop >/dev/null 2>&1
	fi
	# tests/lib/dns.sh's server, when the scenario started one
	if command -v dns_stop >/dev/null 2>&1; then
		dns_stop >/dev/null 2>&1
	fi
	# Sanitizer reports from any daemon fail the scenario.
	if [ -n "$T" ] && grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|ERROR SUMMARY: [1-9]' \
	    "$T"/*.log >/dev/null 2>&1; then
		for f in $(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|ERROR SUMMARY: [1-9]' "$T"/*.log); do
			fail "sanitizer-$(basename "$f" .log)" "report in $f"
			grep -m 5 -E 'ERROR:|runtime error:|#[0-9] ' "$f" | sed 's/^/#   /'
		done
		rc=1
	fi
	if [ "$HOST_FAILS" -ne 0 ]; then
		rc=1
	fi
	if [ "$rc" -eq 0 ] && [ -z "${HOST_KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "# $HOST_NAME: logs kept in $T"
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- tail $f"
			tail -n 15 "$f" | sed 's/^/#   /'
		done
	fi
	exit "$rc"
}

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds or the
# bound passes.  The bound only stops a hung test; it is not the criterion.
wait_until() {
	local limit=$1 end
	shift
	end=$(( $(date +%s) + limit ))
	while :; do
		if "$@"; then
			return 0
		fi
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# is OP N CMD...: CMD's output compared with N by test(1)'s OP (-eq -ge
# -gt -le -lt = !=).  For wait_until, which must re-run the command:
#	wait_until "$HOST_WAIT" is -ge 2 relay_stat a2b CREATE seen
is() {
	local op=$1 n=$2
	shift 2
	test "$("$@")" "$op" "$n" 2>/dev/null
}

# --- the realm --------------------------------------------------------

# host_realm NAME...: a throwaway KDC, one kink/NAME.test principal and
# keytab ($T/NAME.keytab) per daemon.
host_realm() {
	local n
	if [ ! -f "$HOST_TOP/tests/lib/realm.sh" ]; then
		fail realm "tests/lib/realm.sh missing"
		return 1
	fi
	# our EXIT trap stops the realm (host_cleanup), not realm.sh's
	REALM_NO_TRAP=1
	REALM=$HOST_REALM
	. "$HOST_TOP/tests/lib/realm.sh"
	REALM_STARTED=1
	if ! realm_start "$T/realm" >"$T/realm.out" 2>&1; then
		fail realm "realm_start failed: $(tail -n 3 "$T/realm.out")"
		return 1
	fi
	for n in "$@"; do
		if ! realm_addprinc "kink/$n.test" >>"$T/realm.out" 2>&1 ||
		    ! realm_ktadd "kink/$n.test" "$T/$n.keytab" \
		    >>"$T/realm.out" 2>&1; then
			fail realm "principal kink/$n.test: $(tail -n 3 "$T/realm.out")"
			return 1
		fi
	done
	return 0
}

# host_keytab FILE PRINCIPAL [KVNO]: a keytab holding PRINCIPAL (aes256
# and aes128 keys from a fixed password) without a KDC, for what only
# reads the keytab (kinkd -n).
host_keytab() {
	printf 'addent -password -p %s -k %s -e %s\nkink-test\n' \
	    "$2" "${3:-1}" aes256-cts-hmac-sha1-96 "$2" "${3:-1}" \
	    aes128-cts-hmac-sha1-96 > "$T/ktutil.in"
	echo "wkt $1" >> "$T/ktutil.in"
	ktutil < "$T/ktutil.in" > "$T/ktutil.out" 2>&1 && [ -s "$1" ]
}

# --- configuration ----------------------------------------------------

# write_conf NAME FAMILY [policy options]: $T/NAME.conf for one daemon of a
# pair, with the other daemon as its only peer.  Environment knobs
# (all optional):
#	XFORMS	the transform list, preference order
#		(default "esp enc aes-128-cbc auth hmac-sha1")
#	PFS	none | modp2048 | ecp256 (default none)
#	VIA	relay: peer address is the relay's socket, not the peer's
#	EXTRA	lines appended at top level (set ...)
write_conf() {
	local name fam peer me them peeraddr
	name=$1
	fam=$2
	peer=$(other_of "$name")
	me=$(addr_of "$fam" "$name")
	them=$(addr_of "$fam" "$peer")
	peeraddr=$them
	if [ -n "${VIA:-}" ]; then
		# alpha reaches beta at the relay's alpha side and hears beta
		# from it; beta the same with the relay's beta side.
		peeraddr=$(addr_of "$fam" "r$name")
	fi
	cat > "$T/$name.conf" <<EOF
# $name, written by tests/lib/host.sh for $HOST_NAME ($fam)
set principal "kink/$name.test@$HOST_REALM"
set keytab "$T/$name.keytab"
set port $HOST_PORT
set backend null
set retransmit $HOST_RETRANS
set reply-cache ${REPLYCACHE:-5s}
set delete-grace ${DELGRACE:-1s}
set dead-peer ${DEADPEER:-60s}
set on-shutdown flush
listen on $me port $HOST_PORT
${EXTRA:-}

peer "$peer" {
	principal "kink/$peer.test@$HOST_REALM"
	address $peeraddr
	policy "host" esp transport from $me to $them \\
	    transforms { ${XFORMS:-esp enc aes-128-cbc auth hmac-sha1} } \\
	    lifetime 1h pfs ${PFS:-none}
}
EOF
}

# --- daemons ----------------------------------------------------------

sock_of() { echo "$T/$1.sock"; }

# start_kinkd NAME CONF [kinkd options]: foreground daemon, log in
# $T/NAME.log; returns once the control socket answers, or 1 when the
# daemon died or did not answer in time.
start_kinkd() {
	local name conf bin=$KINKD
	name=$1
	conf=$2
	shift 2
	if [ "$name" = beta ] && [ -n "${HOST_B2:-}" ]; then
		bin=$HOST_TOP/$HOST_B2/tests/kinkd-test
	fi
	: > "$T/$name.log"
	date +%s > "$T/$name.started"
	# Own ccache and replay cache: two daemons share this host.
	mkdir -p "$T/$name.rc"
	KRB5CCNAME="FILE:$T/$name.ccache" KRB5RCACHEDIR="$T/$name.rc" \
	    ${HOST_WRAPPER:-} "$bin" -d ${HOST_VERBOSE--v} -f "$conf" -s "$(sock_of "$name")" "$@" \
	    >>"$T/$name.log" 2>&1 &
	echo $! > "$T/$name.pid"
	case " $HOST_DAEMONS " in
	*" $name "*) ;;
	*) HOST_DAEMONS="$HOST_DAEMONS $name" ;;
	esac
	if ! wait_until "$HOST_WAIT" daemon_ready "$name"; then
		echo "# $name did not come up:"
		tail -n 20 "$T/$name.log" | sed 's/^/#   /'
		return 1
	fi
	return 0
}

proc_gone() { ! kill -0 "$1" 2>/dev/null; }

daemon_alive() {
	[ -f "$T/$1.pid" ] && kill -0 "$(cat "$T/$1.pid")" 2>/dev/null
}

daemon_ready() {
	daemon_alive "$1" || return 2
	"$KINKCTL" -s "$(sock_of "$1")" show stats >/dev/null 2>&1
}

# stop_kinkd NAME: SIGTERM, wait (bounded), then SIGKILL.  Returns the
# daemon's exit status (137 when it had to be killed).
stop_kinkd() {
	local name pid n
	name=$1
	[ -f "$T/$name.pid" ] || return 0
	pid=$(cat "$T/$name.pid")
	rm -f "$T/$name.pid"
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return $?; }
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt $((HOST_WAIT * 20)) ]; do
		sleep 0.05
		n=$((n + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# $name ignored SIGTERM; killing"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

# restart_kinkd NAME CONF [options]: stop, start again (new EPOCH).
restart_kinkd() {
	stop_kinkd "$1"
	start_kinkd "$@"
}

# host_pair FAMILY: write both configs and start both daemons.
host_pair() {
	write_conf alpha "$1" && write_conf beta "$1" &&
	    start_kinkd alpha "$T/alpha.conf" &&
	    start_kinkd beta "$T/beta.conf"
}

# u2u_pair FAMILY: host_pair through the relay, each side allowing
# User-to-User towards the other.
u2u_pair() {
	VIA=1 write_conf alpha "$1" && VIA=1 write_conf beta "$1" &&
	    allow_u2u "$T/alpha.conf" beta && allow_u2u "$T/beta.conf" alpha &&
	    start_kinkd alpha "$T/alpha.conf" &&
	    start_kinkd beta "$T/beta.conf"
}

# initiate_bg OUT: alpha initiates towards beta in the background (for
# when the exchange waits on the relay or on a forged message); ini is
# its pid, for wait or kill -0; host_cleanup reaps it if the test stops.
initiate_bg() {
	ctl alpha initiate beta > "$1" 2>&1 &
	ini=$!
	HOST_BG="$HOST_BG $ini"
}

# --- kinkctl ----------------------------------------------------------

# ctl NAME ARGS...: kinkctl against NAME's socket (text output).
ctl() {
	local n=$1
	shift
	"$KINKCTL" -s "$(sock_of "$n")" "$@"
}

# ctlj NAME ARGS...: the same with -j (JSON).
ctlj() {
	local n=$1
	shift
	"$KINKCTL" -j -s "$(sock_of "$n")" "$@"
}

# ctl_rc NAME ARGS...: print only kinkctl's exit status.
ctl_rc() {
	ctl "$@" >/dev/null 2>&1
	echo $?
}

# jq over a kinkctl -j answer, e.g. jqctl alpha 'length' show sa
jqctl() {
	local n=$1 f=$2
	shift 2
	ctlj "$n" "$@" 2>/dev/null | jq -r "$f" 2>/dev/null
}

# SAs as a JSON array.
sa_json() {
	ctlj "$1" show sa ${2:+$2} 2>/dev/null | jq -c '.sa' 2>/dev/null
}

sa_count() {
	local c
	c=$(sa_json "$1" | jq 'length' 2>/dev/null)
	echo "${c:--1}"
}

# sa_count_is NAME N: for wait_until.
sa_count_is() {
	[ "$(sa_count "$1")" = "$2" ]
}

# stat_get NAME KEY: one counter from `show stats`; "absent" when kinkd
# has no counter of that name (so a misspelt name fails every comparison).
stat_get() {
	local v
	v=$(ctlj "$1" show stats 2>/dev/null |
	    jq -r --arg k "$2" '.stats[$k] // "absent"' 2>/dev/null)
	echo "${v:-absent}"
}


xact_count() {
	local c
	c=$(ctlj "$1" show xact 2>/dev/null | jq '.xact | length' 2>/dev/null)
	echo "${c:--1}"
}

xact_count_is() {
	[ "$(xact_count "$1")" = "$2" ]
}

# --- events -----------------------------------------------------------

# monitor_start NAME: stream NAME's events (JSON lines) into
# $T/NAME.mon; start it before the action whose event you wait for.
monitor_start() {
	: > "$T/$1.mon"
	"$KINKCTL" -j -s "$(sock_of "$1")" monitor >>"$T/$1.mon" 2>&1 &
	echo $! > "$T/$1.monpid"
	HOST_BG="$HOST_BG $!"
	# kinkd's first event is "subscribed", sent once the subscription is
	# in place: after it, no later event can be missed
	if ! wait_until "$HOST_WAIT" grep -q subscribed "$T/$1.mon"; then
		echo "# monitor on $1 never said subscribed:"
		sed 's/^/#   /' "$T/$1.mon" | head -n 5
		return 1
	fi
}

monitor_stop() {
	[ -f "$T/$1.monpid" ] || return 0
	kill "$(cat "$T/$1.monpid")" 2>/dev/null
	wait "$(cat "$T/$1.monpid")" 2>/dev/null
	rm -f "$T/$1.monpid"
}

# wait_event NAME TYPE [TEXT-REGEX]: an event of TYPE (whose text matches
# TEXT-REGEX, when given) is in NAME's monitor stream within the bound.
wait_event() {
	wait_until "$HOST_WAIT" event_seen "$@"
}

event_seen() {
	grep "\"type\":\"$2\"" "$T/$1.mon" 2>/dev/null |
	    grep -q -E "\"text\":\"${3:-}"
}

# --- relay ------------------------------------------------------------

# relay_start FAMILY [rule]...: udprelay between alpha and beta, rules
# also re-readable from $T/relay.rules (relay_rules + SIGHUP).
relay_start() {
	local fam=$1 r
	shift
	: > "$T/relay.rules"
	: > "$T/relay.log"
	for r in "$@"; do
		printf '%s\n' "$r" >> "$T/relay.rules"
	done
	"$UDPRELAY" \
	    -a "$(hostport "$(addr_of "$fam" ralpha)" "$HOST_PORT")" \
	    -A "$(hostport "$(addr_of "$fam" alpha)" "$HOST_PORT")" \
	    -b "$(hostport "$(addr_of "$fam" rbeta)" "$HOST_PORT")" \
	    -B "$(hostport "$(addr_of "$fam" beta)" "$HOST_PORT")" \
	    -R "$T/relay.rules" -l "$T/relay.log" -S "$T/relay.stats" \
	    -p "$T/relay.pid" 2>>"$T/relay.log" &
	HOST_BG="$HOST_BG $!"
	wait_until "$HOST_WAIT" test -s "$T/relay.pid"
}

# relay_rules RULE...: replace the rules (match counters restart at 0)
# and wait until the relay has them.
relay_rules() {
	local r before
	: > "$T/relay.rules"
	for r in "$@"; do
		printf '%s\n' "$r" >> "$T/relay.rules"
	done
	before=$(grep -c '^rules ' "$T/relay.log")
	kill -HUP "$(cat "$T/relay.pid")"
	wait_until "$HOST_WAIT" relay_loaded "$before"
}

relay_loaded() {
	[ "$(grep -c '^rules ' "$T/relay.log")" -gt "$1" ]
}

# relay_stat DIR TYPE FIELD: a count from the relay's statistics file.
relay_stat() {
	local v
	v=$(awk -v d="$1" -v t="$2" -v f="$3" '$1 == d && $2 == t {
		for (i = 3; i < NF; i += 2) if ($i == f) print $(i + 1) }' \
	    "$T/relay.stats" 2>/dev/null)
	echo "${v:-0}"
}

# --- SA comparisons ---------------------------------------------------

# How `kinkctl show sa` is asked for raw keys (CTL_F_KEYS, root only).
HOST_KEYS_ARG=keys

# sa_lines NAME [keys]: one line per SA, sorted by SPI:
#	spi dir proto mode enc keylen auth [enckey authkey]
sa_lines() {
	local arr
	if [ -n "${2:-}" ]; then
		arr=$(ctlj "$1" show sa $HOST_KEYS_ARG 2>/dev/null)
	else
		arr=$(ctlj "$1" show sa 2>/dev/null)
	fi
	printf '%s\n' "$arr" | jq -r --arg keys "${2:-}" '
	    .sa[] |
	    [ (.spi | tostring), (.dir | tostring),
	      (.proto | tostring), (.mode | tostring),
	      ((.enc // "none") | tostring), ((.enc_keylen // 0) | tostring),
	      ((.auth // "none") | tostring) ] +
	    (if $keys != "" then [ ((.enckey // "") | tostring),
	      ((.authkey // "") | tostring) ] else [] end) | join(" ")' \
	    2>/dev/null | sort
}

# sa_mirror NAME [keys]: NAME's SAs as the peer must see them (dir flipped).
sa_mirror() {
	sa_lines "$@" | awk '{ $2 = ($2 == "in") ? "out" : "in"; print }' |
	    sort
}

# sa_pair_ok A B: A and B hold the same SAs pairwise (SPI, protocol,
# mode, algorithms, keys), one side's inbound being the other's outbound,
# and at least one pair; keys must be non-empty.
sa_pair_ok() {
	local a b
	a=$(sa_mirror "$1" k)
	b=$(sa_lines "$2" k)
	[ -n "$a" ] || { echo "# $1 has no SAs"; return 1; }
	if [ "$a" != "$b" ]; then
		echo "# SAs differ: $1 (mirrored) vs $2:"
		diff <(echo "$a") <(echo "$b") | sed 's/^/#   /'
		return 1
	fi
	if echo "$b" | awk '$8 == "" && $9 == "" { bad = 1 } END { exit !bad }'
	then
		echo "# SAs without keys: is $HOST_KEYS_ARG the keys switch?"
		return 1
	fi
	return 0
}

# spis NAME: NAME's SPIs, sorted, space-separated.
spis() {
	sa_lines "$1" | awk '{ printf "%s ", $1 }'
}

relay_stop() {
	[ -f "$T/relay.pid" ] || return 0
	kill "$(cat "$T/relay.pid")" 2>/dev/null
	wait_until "$HOST_WAIT" test ! -e "$T/relay.pid"
}

# log_count NAME REGEX: lines of NAME's log matching REGEX (grep).
log_count() {
	grep -c -- "$2" "$T/$1.log" 2>/dev/null || true
}

# event_count NAME TYPE: events of TYPE in NAME's monitor stream.
event_count() {
	grep -c "\"type\":\"$2\"" "$T/$1.mon" 2>/dev/null || true
}

# stats_sum NAME REGEX: sum of NAME's counters whose name matches REGEX
# (jq test()), e.g. drops of every reason.
stats_sum() {
	local v
	v=$(ctlj "$1" show stats 2>/dev/null | jq -r --arg re "$2" '
	    [ .stats | to_entries[] | select(.key | test($re)) | .value ] |
	    add // 0' 2>/dev/null)
	echo "${v:-0}"
}

# sa_add_spis NAME: distinct SPIs in NAME's "sa-add" events (an SA whose
# keys were replaced in place, as the initiator of a non-optimistic CREATE
# does with its inbound SA, counts once).
sa_add_spis() {
	grep '"type":"sa-add"' "$T/$1.mon" 2>/dev/null |
	    grep -o -E 'spi 0x[0-9a-f]+' | sort -u | wc -l
}

# new_pair_at NAME "OLD SPIS": NAME holds an in and an out SA whose SPIs
# are not among OLD SPIS.
new_pair_at() {
	local s d n=0
	while read -r s d _; do
		case " $2 " in *" $s "*) continue ;; esac
		n=$((n + 1))
	done <<EOT
$(sa_lines "$1")
EOT
	[ "$n" -ge 2 ]
}

# pair_agrees_new "OLD SPIS": the SAs of alpha and beta outside OLD SPIS
# agree pairwise (keys included).
pair_agrees_new() {
	local a b
	a=$(sa_mirror alpha k | grep -v -w -F -f <(printf '%s\n' $1))
	b=$(sa_lines beta k | grep -v -w -F -f <(printf '%s\n' $1))
	[ -n "$a" ] && [ "$a" = "$b" ]
}

# --- helpers several scenarios share ---------------------------------

# inject NAME LINE: one kernel event through NAME's null backend (the
# backend reads <socket>.inject on SIGUSR1).
inject() {
	printf '%s\n' "$2" > "$(sock_of "$1").inject"
	kill -USR1 "$(cat "$T/$1.pid")"
}

# xid_of FILE: the KINK header's XID of a saved datagram, as 8 hex digits.
xid_of() { od -An -v -tx1 -j 8 -N 4 "$1" | tr -d ' \n'; }
# octets FILE OFFSET COUNT: decimal octets, space-separated;
# be16/be32 FILE OFFSET: a big-endian integer there.
octets() {
	od -An -v -tu1 -j "$2" -N "$3" "$1" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}
be16() { local a b; read -r a b <<< "$(octets "$1" "$2" 2)"; echo $(( a * 256 + b )); }
be32() {
	local a b c d
	read -r a b c d <<< "$(octets "$1" "$2" 4)"
	echo $(( ((a * 256 + b) * 256 + c) * 256 + d ))
}

# allow_u2u CONF PEER: "u2u allow" in PEER's block of CONF (write_conf's
# layout), after its principal.
allow_u2u() {
	sed -i "s|^\tprincipal \"kink/$2.test@$HOST_REALM\"|&\n\tu2u allow|" "$1"
}

# peer_field NAME PEER FIELD: one field of PEER in NAME's `show peers`.
peer_field() {
	jqctl "$1" ".peers[] | select(.name == \"$2\") | .$3" show peers
}

# engine_pid NAME: the process of NAME's daemon that parses the network:
# under privilege separation the pidfile names the broker (root) and the
# engine is its child; without, the pidfile's process itself.
engine_pid() {
	local p c
	p=$(cat "$T/$1.pid") || return 1
	c=$(pgrep -P "$p" | head -n 1)
	echo "${c:-$p}"
}

# uid_of NAME: the real uid NAME's daemon (its engine) runs as.
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$(engine_pid "$1")/status"; }
