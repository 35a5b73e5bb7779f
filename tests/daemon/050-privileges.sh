#!/bin/bash
# Privileges (a parser bug must not run as root): started as root with "set user nobody",
# kinkd opens its sockets, then runs as nobody and still negotiates.  When
# the keytab is not readable by that user it stays root and says why.
# Needs real root (uid 65534 must exist in the namespace).
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 050-privileges
if [ "$(id -u)" != 0 ] || [ "$(awk 'NR == 1 { print $3 }' /proc/self/uid_map)" != 4294967295 ]; then
	fail setup "needs real root (not a user namespace) to switch to uid 65534"
	exit 1
fi
host_realm alpha beta || exit 1
# nobody must reach the keytab and its replay cache directory
chmod 0711 "$T"
mkdir -p "$T/alpha.rc" && chmod 1777 "$T/alpha.rc"
chmod 0644 "$T/alpha.keytab"
# an unprivileged process cannot be inspected by LeakSanitizer
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0

EXTRA='set user "nobody"' write_conf alpha v4
write_conf beta v4
start_kinkd alpha "$T/alpha.conf" && start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
check_eq dropped-uid "$(uid_of alpha)" 65534
check dropped-logged grep -q "running as nobody" "$T/alpha.log"
check initiate-as-nobody ctl alpha initiate beta
check pairwise sa_pair_ok alpha beta
check responder-as-nobody ctl beta initiate alpha
check_eq four "$(sa_count alpha)" 4
check reload-as-nobody ctl alpha reload
check flush-as-nobody ctl alpha flush sa
check flush-beta-follows wait_until "$HOST_WAIT" sa_count_is beta 0
stop_kinkd alpha
check_eq stops-cleanly $? 0

# keytab readable by root only: kinkd stays root and says why
chmod 0600 "$T/alpha.keytab"
start_kinkd alpha "$T/alpha.conf" || { fail restart alpha; exit 1; }
check_eq kept-root-uid "$(uid_of alpha)" 0
check kept-root-logged grep -q "not dropping privileges to nobody: keytab" \
    "$T/alpha.log"
check kept-root-works ctl alpha initiate beta
