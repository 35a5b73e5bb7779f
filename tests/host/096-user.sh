#!/bin/bash
# "set user" naming an account that does not exist: kinkd (started as
# root, or as root of the tier's user namespace) says so in one line at
# the default level, keeps running as root, and negotiates.  The drop
# itself is checked on a real kernel in tests/vm/060-privdrop.sh.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 096-user
host_realm alpha beta || exit 1
if [ "$(id -u)" != 0 ]; then
	fail setup "needs uid 0 (the tier's namespace gives it)"
	exit 1
fi

EXTRA='set user "nosuchuser"' write_conf alpha v4
write_conf beta v4
HOST_VERBOSE= start_kinkd alpha "$T/alpha.conf" &&
    HOST_VERBOSE= start_kinkd beta "$T/beta.conf" ||
    { fail start "daemons did not start"; exit 1; }
check logged grep -q "user nosuchuser does not exist: kinkd keeps running as root" "$T/alpha.log"
check_eq stays-root "$(uid_of alpha)" 0
check initiate ctl alpha initiate beta
check pairwise wait_until "$HOST_WAIT" sa_pair_ok alpha beta
stop_kinkd alpha
check_eq stops-cleanly $? 0
