#!/bin/bash
# Privilege separation (-P) with the null backend: the pid kinkd started
# with is the broker, its child the engine.  The engine runs with no
# capability, no new privileges and seccomp on; the broker keeps
# CAP_NET_ADMIN only.  A CREATE still installs a pair on both sides.  A
# request for a policy or an SA outside the configuration is refused by
# the broker, with a log line, and changes nothing; a system call outside
# the engine's allowlist kills the engine (SIGSYS), and the broker logs it
# and exits with status 1 (init restarts the service).  Beta's engine runs
# as nobody: the broker, which has no CAP_KILL, passes SIGTERM on over the
# socket, and the pair stops with status 0.  `show policies` gets the
# kernel's answer through the broker (SPD_GET).  The engine cannot open a
# file for writing (EROFS).
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 250-privsep
host_realm alpha beta || exit 1

engine_of() { pgrep -P "$(cat "$T/$1.pid")" | head -n 1; }
status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

if [ "$(id -u)" != 0 ] || [ "$(awk 'NR == 1 { print $3 }' /proc/self/uid_map)" != 4294967295 ]; then
	fail setup "needs real root (not a user namespace) to switch to uid 65534"
	exit 1
fi
# nobody must reach the keytab and its replay cache directory
chmod 0711 "$T"
mkdir -p "$T/beta.rc" && chmod 1777 "$T/beta.rc"
chmod 0644 "$T/beta.keytab"
write_conf alpha v4 && EXTRA='set user "nobody"' write_conf beta v4 ||
    { fail conf; exit 1; }
start_kinkd alpha "$T/alpha.conf" -P && start_kinkd beta "$T/beta.conf" -P ||
    { fail start "daemons did not start with -P"; exit 1; }
eng=$(engine_of alpha)
check engine-is-a-child test -n "$eng"
check_eq engine-capeff "$(status_of "$eng" CapEff)" 0000000000000000
check_eq engine-capprm "$(status_of "$eng" CapPrm)" 0000000000000000
check_eq engine-capbnd "$(status_of "$eng" CapBnd)" 0000000000000000
check_eq engine-seccomp "$(status_of "$eng" Seccomp)" 2
check_eq engine-nonewprivs "$(status_of "$eng" NoNewPrivs)" 1
check engine-logged grep -q "privsep: engine sandboxed" "$T/alpha.log"
# bit 12: cap_net_admin, and nothing else
check_eq broker-capeff "$(status_of "$(cat "$T/alpha.pid")" CapEff)" \
    0000000000001000
beng=$(engine_of beta)
check_eq beta-engine-nobody "$(status_of "$beng" Uid | cut -f1)" 65534
check_eq beta-broker-root "$(status_of "$(cat "$T/beta.pid")" Uid | cut -f1)" 0
check initiate ctl alpha initiate beta
check pairwise sa_pair_ok alpha beta
check_eq backend-named "$(ctlj alpha show self | jq -r .backend)" null
# the SPD query goes through the broker: the kernel's answer, not unknown
pol_kernel() { ctlj alpha show policies | jq -c '[.policies[].dirs[].kernel] | unique'; }
check_eq spd-get-proxied "$(pol_kernel)" '["yes"]'
# the test build's knobs reach the broker's backend (its test hook)
inject alpha "refuse spd-get"
check knob-through-broker wait_until "$HOST_WAIT" is = '["unknown"]' pol_kernel
inject alpha "refuse none"
check knob-undone wait_until "$HOST_WAIT" is = '["yes"]' pol_kernel

# out of the configuration: refused by the broker, logged, nothing added
inject alpha privsep-spd
check spd-refused wait_until "$HOST_WAIT" grep -q \
    "privsep: broker refused SPD_ADD from the engine: SPD entry reqid 1073741808 is not a configured policy" \
    "$T/alpha.log"
check spd-engine-told wait_until "$HOST_WAIT" grep -q \
    "sadb add foreign SPD entry: Operation not permitted" "$T/alpha.log"
inject alpha privsep-sa
check sa-refused wait_until "$HOST_WAIT" grep -q \
    "privsep: broker refused ADD from the engine: SA spi 0x7e570001 reqid [0-9]*: remote address not configured for the peer" \
    "$T/alpha.log"
check sa-engine-told wait_until "$HOST_WAIT" grep -q \
    "sadb add foreign SA: Operation not permitted" "$T/alpha.log"
check_eq still-two-sas "$(sa_count alpha)" 2
check_eq two-refusals "$(grep -c "broker refused" "$T/alpha.log")" 2
check engine-alive kill -0 "$eng"
# no writable filesystem: an open for writing fails as on a read-only mount
inject alpha privsep-write
check write-refused wait_until "$HOST_WAIT" grep -q \
    "privsep-write: open for writing failed (Read-only file system)" "$T/alpha.log"
check write-nothing-made test ! -e "$(sock_of alpha).written"
check engine-alive-after-write kill -0 "$eng"

# a policy added by a reload: the broker reads the file itself and allows it
for h in alpha beta; do
	me=$(addr_of v4 $h) them=$(addr_of v4 "$(other_of $h)")
	awk -v p="	policy \"udp\" esp transport from $me to $them proto udp transforms { esp enc aes-128-cbc auth hmac-sha1 } lifetime 1h" \
	    '$0 == "}" { print p } { print }' "$T/$h.conf" > "$T/$h.conf.new" &&
	    mv "$T/$h.conf.new" "$T/$h.conf"
done
check reload-alpha ctl alpha reload
check reload-beta ctl beta reload
check initiate-new-policy ctl alpha initiate beta udp
check_eq four-sas "$(sa_count alpha)" 4
check_eq new-policy-not-refused "$(grep -c "broker refused" "$T/alpha.log")" 2

# a forbidden system call: the engine dies by SIGSYS, the broker exits 1
bpid=$(cat "$T/alpha.pid")
inject alpha privsep-syscall
check engine-killed wait_until "$HOST_WAIT" proc_gone "$eng"
check broker-exits wait_until "$HOST_WAIT" proc_gone "$bpid"
wait "$bpid"
check_eq broker-status $? 1
check broker-logged grep -q \
    "privsep: the engine (pid $eng) was killed by its seccomp filter" \
    "$T/alpha.log"
check_eq no-syscall-return "$(grep -c "privsep-syscall: mknodat returned" "$T/alpha.log")" 0
# beta is untouched by alpha's end
check beta-alive daemon_alive beta
# SIGTERM to beta's broker reaches its engine (uid 65534) over the socket
stop_kinkd beta
check_eq beta-stops-cleanly $? 0
check beta-engine-gone proc_gone "$beng"
check beta-stopped-logged grep -q "kinkd stopped" "$T/beta.log"
host_cleanup
