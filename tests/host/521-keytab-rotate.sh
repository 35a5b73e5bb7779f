#!/bin/bash
# Key rotation with a running responder (v4): beta's key is changed in the
# KDC and the new key (new kvno) appended to beta's keytab with kadmin's
# ktadd.  beta re-reads the file within a second or so, without a
# restart or reload; alpha, restarted so that it asks for a new ticket,
# gets one under the new kvno, and its CREATE verifies with the new key.
# kinkctl reload re-reads it too.
. tests/lib/host.sh
host_init 521-keytab-rotate
host_realm alpha beta || exit 1

host_pair v4 || { fail start "daemons did not start"; exit 1; }
require first-create ctl alpha initiate beta
check beta-2-sas wait_until "$HOST_WAIT" sa_count_is beta 2
pid=$(cat "$T/beta.pid")
old=$(spis beta)

kvno() { kadmin.local -r "$HOST_REALM" -q "getprinc kink/beta.test" 2>/dev/null |
    awk '/^Key: vno/ { sub(",", "", $3); print $3; exit }'; }
k0=$(kvno)
require rotate realm_kadmin "ktadd -k $T/beta.keytab kink/beta.test@$HOST_REALM"
k1=$(kvno)
check new-kvno test -n "$k1" -a "$k1" != "$k0"
check reread wait_until "$HOST_WAIT" is -ge 1 \
    log_count beta "keytab .*beta.keytab re-read"

# a ticket under the new key: alpha starts afresh (no cached ticket)
restart_kinkd alpha "$T/alpha.conf" || { fail restart-alpha "alpha did not come back"; exit 1; }
require create-new-key ctl alpha initiate beta
check beta-new-pair wait_until "$HOST_WAIT" new_pair_at beta "$old"
check new-pair-agrees pair_agrees_new "$old"
check_eq beta-not-restarted "$(cat "$T/beta.pid")" "$pid"
check_eq no-krb-drop "$(stat_get beta drop_krb)" 0

# kinkctl reload re-reads the keytab before it answers (the watch may
# also have, a moment earlier: at least one more re-read either way)
n=$(log_count beta "keytab .*beta.keytab re-read")
require rotate-2 realm_kadmin "ktadd -k $T/beta.keytab kink/beta.test@$HOST_REALM"
require reload ctl beta reload
check reload-rereads is -ge $((n + 1)) \
    log_count beta "keytab .*beta.keytab re-read"
stop_kinkd alpha
stop_kinkd beta
