#!/bin/sh
# Daemon tier: scenarios written with the kinkd daemon itself (kernel
# events through the null backend, User-to-User, wildcard listening,
# detaching), on the host tier's helpers (tests/lib/host.sh) and in a
# network namespace set up like tests/host/run.sh.  Each scenario is
# tests/daemon/NNN-name.sh and prints PASS/FAIL lines.
# Environment: B (build dir), DAEMON_ONLY="010 020", HOST_KEEP=1.
set -u
: "${B:=build}"
export B

if [ -z "${KINK_HOST_NETNS:-}" ]; then
	if [ "$(id -u)" = 0 ]; then
		set -- unshare -n
	else
		set -- unshare -r -n
	fi
	if ! "$@" true 2>/dev/null; then
		echo "FAIL daemon-netns: cannot create a network namespace ($*)"
		exit 1
	fi
	KINK_HOST_NETNS=1 exec "$@" sh "$0"
fi

ip link set lo up || { echo "FAIL daemon-netns: lo up"; exit 1; }
# As tests/host/run.sh: one v4 address besides 127/8 for AI_ADDRCONFIG.
ip addr add 192.0.2.254/32 dev lo || { echo "FAIL daemon-netns: v4"; exit 1; }
for a in a b 1a 1b c; do
	ip -6 addr add "fd6b:696e:6b::$a/128" dev lo nodad ||
	    { echo "FAIL daemon-netns: v6 address ::$a"; exit 1; }
done

rc=0
for s in tests/daemon/[0-9][0-9][0-9]-*.sh; do
	[ -f "$s" ] || continue
	base=$(basename "$s" .sh)
	if [ -n "${DAEMON_ONLY:-}" ]; then
		case " $DAEMON_ONLY " in
		*" ${base%%-*} "*) ;;
		*) continue ;;
		esac
	fi
	echo "== $base"
	out=$(mktemp)
	timeout -k 5 "${HOST_TIMEOUT:-240}" bash "$s" > "$out" 2>&1
	src=$?
	cat "$out"
	if [ "$src" -ne 0 ]; then
		rc=1
		grep -q '^FAIL ' "$out" ||
		    echo "FAIL $base: exited $src without a FAIL line"
	fi
	rm -f "$out"
done
exit $rc
