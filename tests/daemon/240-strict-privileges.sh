#!/bin/bash
# Strict privileges (set strict-privileges yes, or -S, as the packaged
# unit runs kinkd): a privilege drop that cannot happen stops kinkd at
# start-up, exit 1, with the reason, instead of running on as root (what
# a non-strict kinkd does: 050, host 096).  A drop that works is not
# affected: kinkd runs as the user and negotiates.  Needs real root (uid
# 65534 must exist in the namespace), like 050.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 240-strict-privileges
if [ "$(id -u)" != 0 ] || [ "$(awk 'NR == 1 { print $3 }' /proc/self/uid_map)" != 4294967295 ]; then
	fail setup "needs real root (not a user namespace) to switch to uid 65534"
	exit 1
fi
host_realm alpha beta || exit 1
chmod 0711 "$T"
mkdir -p "$T/alpha.rc" && chmod 1777 "$T/alpha.rc"
chmod 0644 "$T/alpha.keytab"
# an unprivileged process cannot be inspected by LeakSanitizer
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0

# refused NAME CONF [options]: a kinkd that must not start; its exit
# status (124: still running after the bound) and log in $T/NAME.out.
refused() {
	local name=$1 conf=$2
	shift 2
	KRB5CCNAME="FILE:$T/alpha.ccache" KRB5RCACHEDIR="$T/alpha.rc" \
	    timeout "$HOST_WAIT" "$KINKD" -d -f "$conf" -s "$T/$name.sock" "$@" \
	    > "$T/$name.out" 2>&1
}

EXTRA='set user "nosuchuser"
set strict-privileges yes' write_conf alpha v4
cp "$T/alpha.conf" "$T/nouser.conf"
refused nouser "$T/nouser.conf"
check_eq nouser/exit $? 1
check nouser/why grep -q "user nosuchuser does not exist; strict-privileges: not running as root" "$T/nouser.out"
check nouser/not-started sh -c "! grep -q 'kinkd started' '$T/nouser.out'"

EXTRA='set user "nosuchuser"' write_conf alpha v4
cp "$T/alpha.conf" "$T/nouser-opt.conf"
refused nouser-opt "$T/nouser-opt.conf" -S
check_eq nouser-opt/exit $? 1
check nouser-opt/why grep -q "user nosuchuser does not exist; strict-privileges" "$T/nouser-opt.out"

# the keytab readable by root only: nobody could not read it
EXTRA='set user "nobody"' write_conf alpha v4
chmod 0600 "$T/alpha.keytab"
refused keytab "$T/alpha.conf" -S
check_eq keytab/exit $? 1
check keytab/why grep -q "cannot drop privileges to nobody: keytab $T/alpha.keytab is not readable by nobody; strict-privileges: not running as root" "$T/keytab.out"
# and kinkd -n -S, the unit's check, says it first
"$KINKD" -n -S -f "$T/alpha.conf" > /dev/null 2> "$T/n.err"
check_eq n-strict/exit $? 1
check n-strict/why grep -q "^kinkd: error: keytab $T/alpha.keytab is not readable by nobody: strict-privileges: kinkd would not start" "$T/n.err"
# without strict: a warning, exit 0
"$KINKD" -n -f "$T/alpha.conf" > /dev/null 2> "$T/n2.err"
check_eq n-lax/exit $? 0
check n-lax/warning grep -q "^kinkd: warning: keytab $T/alpha.keytab is not readable by nobody: kinkd would keep running as root" "$T/n2.err"

# readable: strict kinkd drops and negotiates (-n checks the replay
# cache directory the daemon will get, from the same environment)
chmod 0644 "$T/alpha.keytab"
KRB5RCACHEDIR="$T/alpha.rc" "$KINKD" -n -S -f "$T/alpha.conf" > /dev/null 2> "$T/n3.err"
check_eq n-ok/exit $? 0
write_conf beta v4
start_kinkd alpha "$T/alpha.conf" -S && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
check_eq dropped-uid "$(uid_of alpha)" 65534
check initiate-strict ctl alpha initiate beta
check pairwise wait_until "$HOST_WAIT" sa_pair_ok alpha beta
stop_kinkd alpha
check_eq stops-cleanly $? 0
