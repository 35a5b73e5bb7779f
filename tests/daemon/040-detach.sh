#!/bin/bash
# Without -d kinkd detaches (fork before the krb worker thread and the
# event loop exist), keeps working, and stops on SIGTERM.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 040-detach
host_realm alpha beta || exit 1
write_conf alpha v4
write_conf beta v4
start_kinkd beta "$T/beta.conf" || { fail start beta; exit 1; }
mkdir -p "$T/alpha.rc"
KRB5CCNAME="FILE:$T/alpha.ccache" KRB5RCACHEDIR="$T/alpha.rc" \
    "$KINKD" -f "$T/alpha.conf" -s "$(sock_of alpha)"
check_eq parent-exit $? 0
check answers wait_until "$HOST_WAIT" "$KINKCTL" -s "$(sock_of alpha)" show stats
pid=$(ss -Hlxp 2>/dev/null | awk -v s="$(sock_of alpha)" '$0 ~ s' |
    grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
check pid-found test -n "$pid"
check initiate ctl alpha initiate beta
check pairwise sa_pair_ok alpha beta
[ -n "$pid" ] && kill -TERM "$pid"
check stops wait_until "$HOST_WAIT" proc_gone "$pid"
# on-shutdown flush tells the peer: beta's side goes too (DELETE)
check beta-told-by-delete wait_until "$HOST_WAIT" sa_count_is beta 0
