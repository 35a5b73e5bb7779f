#!/bin/sh
# Mutant runner: each entry of tests/mutants/list is a one-line change to a
# security check.  The runner applies it in a scratch copy of the tracked
# files (the working tree is never written), rebuilds, runs only the tests
# the entry names, and counts the mutant killed when one of them fails.
# The last line is always
#
#	mutants killed=N total=M survived=NAMES
#
# with NAMES comma-separated, "-" when every mutant was killed.  A mutant
# whose text does not match exactly one line of its file is "stale", one
# that does not build is "broken": neither is killed, both are named in
# survived= with the reason on a line of its own before it.
#
# Environment:
#   MUTANTS_ONLY="name name"  run only those entries
#   MUTANTS_LIST=file         another list (default tests/mutants/list)
#   MUTANTS_SAN=0             plain build (default 1: ASan+UBSan, -O1)
#   MUTANTS_BASELINE=0        skip running every named test once unmutated
#   MUTANTS_TIMEOUT=seconds   per test run (default 600; a hang is a kill)
#   MUTANTS_KEEP=1            keep the scratch directory
#   MUTANTS_JOBS=n            make -j (default 2)
#   MUTANTS_CHECK=1           only report stale entries (no build, no test)
#
# Kill specs (the entry's `kill` line, space-separated, tried in order):
#   unit               the whole unit tier
#   unit:test_NAME     one unit test program
#   unit:check_NAME    one structural check script
#   krb                the krb tier (real KDC)
#   host:NNN           one host scenario (HOST_ONLY=NNN)
#   daemon:NNN         one daemon scenario (DAEMON_ONLY=NNN)
set -u

top=$(git rev-parse --show-toplevel 2>/dev/null) || {
	echo "mutants: not in a git tree"
	echo "mutants killed=0 total=0 survived=-"
	exit 1
}
cd "$top" || exit 1
list=${MUTANTS_LIST:-tests/mutants/list}
case $list in /*) ;; *) list="$top/$list" ;; esac
only=${MUTANTS_ONLY:-}
san=${MUTANTS_SAN:-1}
jobs=${MUTANTS_JOBS:-2}
tmo=${MUTANTS_TIMEOUT:-600}
B=build-mut
export B

scratch=$(mktemp -d "${TMPDIR:-/tmp}/kinkd-mutants.XXXXXX") || exit 1
# test_control runs kinkctl as another user: it must reach the tree.
chmod 755 "$scratch"
if [ "${MUTANTS_KEEP:-}" != 1 ]; then
	trap 'rm -rf "$scratch"' EXIT
	trap 'exit 130' INT TERM
fi
tree=$scratch/tree
ents=$scratch/entries
logs=$scratch/logs
mkdir -p "$tree" "$ents" "$logs"

# The entries, one directory each (file, from, to, kill as files: the
# texts may hold any character a C line holds).
if ! awk -v dir="$ents" '
function flush() {
	if (name == "") return
	if (f == "" || from == "" || kill == "") {
		printf "mutants: entry %s lacks file, from/line or kill\n", name
		bad = 1
	}
	d = dir "/" sprintf("%03d", n) "-" name
	system("mkdir -p \"" d "\"")
	printf "%s", f > (d "/file"); close(d "/file")
	printf "%s", from > (d "/from"); close(d "/from")
	printf "%s", to > (d "/to"); close(d "/to")
	printf "%s\n", kill > (d "/kill"); close(d "/kill")
	printf "%d", whole > (d "/whole"); close(d "/whole")
	name = ""
}
/^[ \t]*(#|$)/ { next }
{
	key = $1
	val = $0
	sub(/^[^ \t]+[ \t]+/, "", val)
	if (key == "mutant") {
		flush()
		n++
		name = val; f = from = to = kill = ""; whole = 0
		if (name in seen) {
			printf "mutants: duplicate name %s\n", name
			bad = 1
		}
		seen[name] = 1
	} else if (key == "file") f = val
	else if (key == "from") { from = val; whole = 0 }
	else if (key == "line") { from = val; whole = 1 }
	else if (key == "to") { to = val; if (val == key) to = "" }
	else if (key == "kill") kill = val
	else if (key == "why") ;
	else { printf "mutants: %s: unknown key %s\n", name, key; bad = 1 }
}
END { flush(); exit bad }
' "$list"; then
	echo "mutants killed=0 total=0 survived=-"
	exit 1
fi

# The scratch tree: what git tracks, as it is in the working tree now.
git ls-files -z | (cd "$top" && xargs -0 cp -P --parents -t "$tree" \
    2>/dev/null)
cd "$tree" || exit 1

mk() {	# [TARGET...]: default all the test programs
	[ $# -eq 0 ] && set -- tests
	if [ "$san" = 1 ]; then
		nice make -j"$jobs" SAN=1 B="$B" OPT="-O1 -g" "$@"
	else
		nice make -j"$jobs" B="$B" OPT="-O1 -g" "$@"
	fi
}

# targets SPEC...: what those tests run, so that a mutant relinks only that.
targets() {
	for s in "$@"; do
		case $s in
		unit:test_*)	echo "$B/tests/unit/${s#unit:}" ;;
		unit:check_keymat) echo "$B/tests/tools/doikeymat" ;;
		unit:check_krb_prf) echo "$B/tests/tools/krbprf" ;;
		krb)		for t in tests/krb/test_*.c; do
				echo "$B/${t%.c}"
			done ;;
		host:*|daemon:*)
			echo "$B/kinkd $B/kinkctl $B/tests/kinkd-test"
			for t in tests/tools/*.c; do
				echo "$B/${t%.c}"
			done ;;
		*)		echo tests ;;
		esac
	done | tr ' ' '\n' | awk 'NF && !seen[$0]++'
}

# run_spec SPEC LOG: 0 when the tests of SPEC pass.
run_spec() {
	case $1 in
	unit)
		timeout -k 5 "$tmo" sh tests/unit/run.sh ;;
	unit:check_*)
		timeout -k 5 "$tmo" sh "tests/unit/${1#unit:}.sh" ;;
	unit:test_*)
		TEST_DATA=tests/unit/data \
		    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		    timeout -k 5 "$tmo" "$B/tests/unit/${1#unit:}" ;;
	krb)
		timeout -k 5 "$tmo" sh tests/krb/run.sh ;;
	host:*)
		HOST_ONLY=${1#host:} timeout -k 5 "$tmo" sh tests/host/run.sh ;;
	daemon:*)
		DAEMON_ONLY=${1#daemon:} timeout -k 5 "$tmo" \
		    sh tests/daemon/run.sh ;;
	*)
		echo "FAIL mutants: unknown kill spec $1"; return 2 ;;
	esac > "$2" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] && ! grep -q '^FAIL ' "$2"
}

start=$(date +%s)
check=${MUTANTS_CHECK:-0}
[ "$check" = 1 ] && MUTANTS_BASELINE=0
if [ "$check" = 1 ]; then :
else
echo "mutants: building the scratch copy ($( [ "$san" = 1 ] &&
    echo 'ASan+UBSan, -O1' || echo 'plain, -O1'))"
if ! mk > "$logs/build.log" 2>&1; then
	tail -n 30 "$logs/build.log"
	echo "mutants: the unmutated tree does not build"
	echo "mutants killed=0 total=0 survived=-"
	exit 1
fi
fi

selected() {	# DIR: the entry is in MUTANTS_ONLY (or that is empty)
	[ -z "$only" ] && return 0
	case " $only " in *" ${1#*-} "*) return 0 ;; esac
	return 1
}

# Every test named by a selected entry must pass before any mutant can be
# said to be killed by it.
badbase=" "
if [ "${MUTANTS_BASELINE:-1}" = 1 ]; then
	specs=$(for d in "$ents"/*; do
		selected "$(basename "$d")" && tr ' ' '\n' < "$d/kill"
	done | awk 'NF && !seen[$0]++')
	for s in $specs; do
		if run_spec "$s" "$logs/base.$(echo "$s" | tr ':/' '__')"; then
			echo "mutants: baseline $s passes"
		else
			echo "mutants: baseline $s FAILS unmutated; its mutants" \
			    "cannot be judged by it"
			badbase="$badbase$s "
		fi
	done
fi

# hit(): the current line is the entry's line: it contains PAT, or with
# WHOLE=1 it is PAT once the blanks around it are removed.
AWKHIT='function hit(  s) {
	if (ENVIRON["WHOLE"] != 1) return index($0, ENVIRON["PAT"]) > 0
	s = $0; sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
	return s == ENVIRON["PAT"]
}'

killed=0 total=0 survived=
for d in "$ents"/*; do
	e=$(basename "$d")
	name=${e#*-}
	selected "$e" || continue
	total=$((total + 1))
	f=$(cat "$d/file")
	t0=$(date +%s)
	if [ ! -f "$f" ]; then
		echo "STALE $name: $f does not exist"
		survived="$survived,$name"
		continue
	fi
	# A fixed-string match (awk index), so no character is special.
	# Through ENVIRON: awk -v would expand the backslashes of C strings.
	PAT=$(cat "$d/from") REP=$(cat "$d/to") WHOLE=$(cat "$d/whole")
	export PAT REP WHOLE
	nm=$(awk "$AWKHIT"' hit() { c++ } END { print c + 0 }' "$f")
	if [ "$nm" -ne 1 ]; then
		echo "STALE $name: '$(cat "$d/from")' matches $nm lines of $f"
		survived="$survived,$name"
		continue
	fi
	if [ "$check" = 1 ]; then
		echo "OK $name"
		continue
	fi
	cp -p "$f" "$scratch/orig"
	awk "$AWKHIT"' hit() {
		if (ENVIRON["WHOLE"] == 1) {
			match($0, /^[ \t]*/)
			$0 = substr($0, 1, RLENGTH) ENVIRON["REP"]
		} else {
			i = index($0, ENVIRON["PAT"])
			$0 = substr($0, 1, i - 1) ENVIRON["REP"] \
			    substr($0, i + length(ENVIRON["PAT"]))
		}
	    } { print }' "$scratch/orig" > "$f"
	if cmp -s "$f" "$scratch/orig"; then
		echo "STALE $name: the change leaves $f as it was"
		cp -p "$scratch/orig" "$f"
		survived="$survived,$name"
		continue
	fi
	verdict= unjudged=
	if ! mk $(targets $(cat "$d/kill")) > "$logs/$name.build" 2>&1; then
		echo "BROKEN $name: does not build (log: $logs/$name.build)"
		grep -m 3 'error' "$logs/$name.build" | sed 's/^/    /'
		verdict=broken
	else
		for s in $(cat "$d/kill"); do
			case $badbase in
			*" $s "*) unjudged="$unjudged $s"; continue ;;
			esac
			if ! run_spec "$s" "$logs/$name.$(echo "$s" |
			    tr ':/' '__')"; then
				verdict="killed by $s"
				break
			fi
		done
	fi
	# Back to the original, newer than any object built from the mutant.
	cp "$scratch/orig" "$f"
	touch "$f"
	case $verdict in
	killed*)
		killed=$((killed + 1))
		echo "KILLED $name: $verdict ($(( $(date +%s) - t0 ))s)" ;;
	broken)
		survived="$survived,$name" ;;
	*)
		[ -n "$unjudged" ] &&
		    echo "UNJUDGED $name: baseline of$unjudged fails"
		echo "SURVIVED $name: $(cat "$d/kill") all pass" \
		    "($(( $(date +%s) - t0 ))s)"
		survived="$survived,$name" ;;
	esac
done
[ "${MUTANTS_KEEP:-}" = 1 ] && echo "mutants: scratch kept in $scratch"
echo "mutants: $(( $(date +%s) - start ))s"
echo "mutants killed=$killed total=$total survived=${survived#,}" |
    sed 's/survived=$/survived=-/'
# Check mode: success is no stale entry (nothing was run, nothing killed).
if [ "$check" = 1 ]; then
	[ -z "$survived" ]
else
	[ "$killed" -eq "$total" ]
fi
