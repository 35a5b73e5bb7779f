#!/bin/sh
# Host tier: two (or three) real kinkd processes with a real MIT KDC on
# loopback, v4 and v6, null SA backend, driven by kinkctl; the network
# between them impaired by tests/tools/udprelay.  Each scenario is
# tests/host/NNN-name.sh and prints PASS/FAIL lines (tests/lib/host.sh).
#
# The tier runs in a network namespace of its own (unshare -n; a user
# namespace too when not root): fixed addresses and ports collide with
# nothing else on the machine, and the extra v6 loopback addresses the
# scenarios need exist only there.
#
# Environment: B (build dir), HOST_ONLY="010 020" (run those scenarios),
# HOST_KEEP=1 (keep work dirs), HOST_TIMEOUT (seconds per scenario).
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
		echo "FAIL host-netns: cannot create a network namespace ($*)"
		exit 1
	fi
	KINK_HOST_NETNS=1 exec "$@" sh "$0"
fi

# Inside the namespace: loopback up, the v6 test addresses on it (nodad:
# usable at once).  127.0.0.0/8 is all loopback already.
ip link set lo up || { echo "FAIL host-netns: lo up"; exit 1; }
# glibc's AI_ADDRCONFIG (libkrb5 uses it) counts 127/8 and ::1 as "no
# address": with the v6 test addresses below and nothing but 127/8 for v4,
# every v4 lookup (the KDC at 127.0.0.1) would fail.  One documentation
# address on lo makes v4 "configured".
ip addr add 192.0.2.254/32 dev lo || { echo "FAIL host-netns: v4 address"; exit 1; }
for a in a b 1a 1b c; do
	ip -6 addr add "fd6b:696e:6b::$a/128" dev lo nodad ||
	    { echo "FAIL host-netns: v6 address ::$a"; exit 1; }
done

rc=0
: "${HOST_TIMEOUT:=240}"
for s in tests/host/[0-9][0-9][0-9]-*.sh; do
	[ -f "$s" ] || continue
	base=$(basename "$s" .sh)
	if [ -n "${HOST_ONLY:-}" ]; then
		case " $HOST_ONLY " in
		*" ${base%%-*} "*) ;;
		*) continue ;;
		esac
	fi
	echo "== $base"
	out=$(mktemp)
	start=$(date +%s)
	timeout -k 5 "$HOST_TIMEOUT" bash "$s" > "$out" 2>&1
	src=$?
	cat "$out"
	if [ "$src" -ne 0 ]; then
		rc=1
		if ! grep -q '^FAIL ' "$out"; then
			if [ "$src" -eq 124 ]; then
				echo "FAIL $base: timed out after ${HOST_TIMEOUT}s"
			else
				echo "FAIL $base: exited $src without a FAIL line"
			fi
		fi
	fi
	rm -f "$out"
	echo "== $base: $(( $(date +%s) - start ))s"
done
exit $rc
