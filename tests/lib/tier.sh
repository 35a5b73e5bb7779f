# What the tiers that run real daemons share (tests/host/run.sh,
# tests/daemon/run.sh): their own network namespace and the loop over
# their scenario scripts.  Sourced; POSIX sh.
#
#	. tests/lib/tier.sh
#	tier_netns host-netns "$0"	# re-executes $0 inside, then sets it up
#	tier_run tests/host "${HOST_ONLY:-}"

# tier_netns LABEL SCRIPT: outside a namespace, re-execute SCRIPT under
# `unshare -n` (with a user namespace too when not root) and never return;
# inside, bring lo up with the test addresses.  Fixed addresses and ports
# then collide with nothing else on the machine, and the extra v6 loopback
# addresses the scenarios need exist only there.  A failure is one
# "FAIL LABEL: why" line and exit 1.
tier_netns() {
	if [ -z "${KINK_HOST_NETNS:-}" ]; then
		if [ "$(id -u)" = 0 ]; then
			set -- "$1" "$2" unshare -n
		else
			set -- "$1" "$2" unshare -r -n
		fi
		label=$1 script=$2
		shift 2
		if ! "$@" true 2>/dev/null; then
			echo "FAIL $label: cannot create a network namespace ($*)"
			exit 1
		fi
		KINK_HOST_NETNS=1 exec "$@" sh "$script"
	fi
	# Inside: the v6 test addresses with nodad (usable at once).
	# 127.0.0.0/8 is all loopback already.
	ip link set lo up || { echo "FAIL $1: lo up"; exit 1; }
	# glibc's AI_ADDRCONFIG (libkrb5 uses it) counts 127/8 and ::1 as "no
	# address": with the v6 test addresses below and nothing but 127/8 for
	# v4, every v4 lookup (the KDC at 127.0.0.1) would fail.  One
	# documentation address on lo makes v4 "configured".
	ip addr add 192.0.2.254/32 dev lo ||
	    { echo "FAIL $1: v4 address"; exit 1; }
	for a in a b 1a 1b c; do
		ip -6 addr add "fd6b:696e:6b::$a/128" dev lo nodad ||
		    { echo "FAIL $1: v6 address ::$a"; exit 1; }
	done
}

# tier_run DIR "NNN NNN...": every DIR/NNN-name.sh (only those numbers
# when the list is not empty) under bash and `timeout` (HOST_TIMEOUT
# seconds, default 240).  A scenario that fails without printing a FAIL
# line (a crash, a timeout) gets one.  Returns 1 if any failed.
tier_run() {
	trc=0
	for s in "$1"/[0-9][0-9][0-9]-*.sh; do
		[ -f "$s" ] || continue
		base=$(basename "$s" .sh)
		if [ -n "$2" ]; then
			case " $2 " in
			*" ${base%%-*} "*) ;;
			*) continue ;;
			esac
		fi
		echo "== $base"
		out=$(mktemp)
		start=$(date +%s)
		timeout -k 5 "${HOST_TIMEOUT:-240}" bash "$s" > "$out" 2>&1
		src=$?
		cat "$out"
		if [ "$src" -ne 0 ]; then
			trc=1
			if ! grep -q '^FAIL ' "$out"; then
				if [ "$src" -eq 124 ]; then
					echo "FAIL $base: timed out after ${HOST_TIMEOUT:-240}s"
				else
					echo "FAIL $base: exited $src without a FAIL line"
				fi
			fi
		fi
		rm -f "$out"
		echo "== $base: $(( $(date +%s) - start ))s"
	done
	return $trc
}
