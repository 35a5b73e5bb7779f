#!/bin/bash
# What an admin asks first: which kinkd is this, who does it think it is,
# where does it listen.  `kinkctl version` (ours and the daemon's) and
# `kinkctl show self`, text and JSON, against a live daemon.
. tests/lib/host.sh
host_init 460-show-self
host_realm alpha beta || exit 1
host_pair v4 || { fail start "daemons did not start"; exit 1; }

ver=$(sed -n 's/^AC_INIT(\[kinkd\], \[\([^]]*\)\].*/\1/p' configure.ac)
check version-known test -n "$ver"

ctl alpha version > "$T/version.out" 2> "$T/version.err"
check_eq version/exit $? 0
check_eq version/text "$(cat "$T/version.out")" "kinkctl $ver
kinkd $ver"
ctlj alpha version > "$T/version.json" 2>&1
check_eq version/json "$(jq -c . "$T/version.json")" \
    "{\"kinkctl\":\"$ver\",\"kinkd\":\"$ver\"}"

ctlj alpha show self > "$T/self.json" 2> "$T/self.err"
check_eq self-json/exit $? 0
check_eq self/version "$(jq -r .self.version "$T/self.json")" "$ver"
check_eq self/principal "$(jq -r .self.principal "$T/self.json")" \
    "kink/alpha.test@$HOST_REALM"
check_eq self/keytab "$(jq -r .self.keytab "$T/self.json")" "$T/alpha.keytab"
check_eq self/config "$(jq -r .self.config "$T/self.json")" \
    "$(realpath "$T/alpha.conf")"
check_eq self/socket "$(jq -r .self.socket "$T/self.json")" "$(sock_of alpha)"
check_eq self/backend "$(jq -r .self.backend "$T/self.json")" null
check_eq self/pid "$(jq -r .self.pid "$T/self.json")" "$(cat "$T/alpha.pid")"
check_eq self/uptime-number "$(jq -r '.self.uptime_s | type' "$T/self.json")" number
check_eq self/listen "$(jq -c .self.listen "$T/self.json")" \
    "[\"$(addr_of v4 alpha) port $HOST_PORT\"]"

ctl alpha show self > "$T/self.out" 2>&1
check_eq self-text/exit $? 0
check self-text/principal grep -q -x "principal  kink/alpha.test@$HOST_REALM" "$T/self.out"
check self-text/listen grep -q -x "listen     $(addr_of v4 alpha) port $HOST_PORT" "$T/self.out"
# ten facts, besides the keys and the TGT's end (464)
check_eq self-text/lines "$(grep -v -c '^\(key\|tgt_expires\) ' "$T/self.out")" 10
