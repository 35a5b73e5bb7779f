#!/bin/bash
# The daemon's config check: `kinkd -n` exits 0 on a good file and prints
# nothing else; `kinkd -nv` prints the normalized config; a bad file makes
# it exit 1 with every error as file:line:col: message on stderr (the
# parser's own unit tests cover the grammar; this is the daemon's
# plumbing: exit status, stream, all errors, -D macros).  A daemon started
# on a bad file refuses to run.  No KDC needed: -n does not talk to it.
. tests/lib/host.sh
HOST_NEEDS="$KINKD"
host_init 070-badconf

# A good file to start from (host.sh's generator), with a macro, and the
# keytab it names (kinkd -n checks it; ktutil, no KDC).
write_conf alpha v4
host_keytab "$T/alpha.keytab" "kink/alpha.test@$HOST_REALM" ||
    { fail setup "ktutil: $(tr '\n' ' ' < "$T/ktutil.out")"; exit 1; }
sed -i 's/^set port .*/set port $kport/' "$T/alpha.conf"

"$KINKD" -n -D kport=9100 -f "$T/alpha.conf" > "$T/n.out" 2> "$T/n.err"
check_eq good-exit $? 0
check good-no-errors sh -c "! grep -q -E ':[0-9]+:[0-9]+: ' '$T/n.err'"
check_eq good-nothing-on-stdout "$(cat "$T/n.out")" ""
"$KINKD" -nv -D kport=9100 -f "$T/alpha.conf" > "$T/nv.out" 2> "$T/nv.err"
check_eq good-nv-exit $? 0
check good-nv-normalized grep -q '^set port 9100$' "$T/nv.out"
check good-nv-peer grep -q '^peer "beta" {' "$T/nv.out"
# normalized output is itself a good config (fixed point)
"$KINKD" -nv -f "$T/nv.out" > "$T/nv2.out" 2> "$T/nv2.err"
check_eq good-nv-fixed-point "$(diff "$T/nv.out" "$T/nv2.out" && echo same)" same
# without -D the macro is undefined
"$KINKD" -n -f "$T/alpha.conf" > /dev/null 2> "$T/nomacro.err"
check_eq nomacro-exit $? 1
check nomacro-message grep -q -E "alpha\.conf:4:[0-9]+: undefined macro \"\\\$kport\"" "$T/nomacro.err"

# bad NAME LINE:COL REGEX CONTENT: CONTENT is the whole file
bad() {
	local name=$1 at=$2 re=$3
	printf '%b' "$4" > "$T/$name.conf"
	"$KINKD" -n -f "$T/$name.conf" > "$T/$name.out" 2> "$T/$name.err"
	check_eq "$name/exit" $? 1
	if grep -q -E "^$T/$name\.conf:$at: $re" "$T/$name.err" ||
	    grep -q -E "(^|/)$name\.conf:$at: $re" "$T/$name.err"; then
		pass "$name/message"
	else
		fail "$name/message" "want $name.conf:$at: /$re/, got: $(head -c 300 "$T/$name.err")"
	fi
}

bad unknown-set 1:5 'expected .*got "prot"' 'set prot 910\n'
bad bad-duration 2:16 'bad duration "fast"' '# comment\nset retransmit fast\n'
bad unterminated 1:12 'unterminated string' 'set keytab "abc\n'
bad no-principal 1:6 'peer "x" has no principal' 'peer "x" {\n\taddress 127.0.0.1\n}\n'
bad bad-enc 2:10 'expected an encryption algorithm.*got "aes-999"' \
    'transforms "t" {\n\tesp enc aes-999 auth hmac-sha1\n}\n'
bad undef-macro 1:10 'undefined macro "\$nope"' 'set port $nope\n'
bad missing-include 1:9 '.*/nonexistent\.conf: No such file or directory' \
    'include "/nonexistent.conf"\n'
bad bad-backend 1:13 'expected .*got "kernel"' 'set backend kernel\n'

# every error of a file is reported, in file order
printf 'set prot 1\nset backend kernel\nset port $nope\n' > "$T/multi.conf"
"$KINKD" -n -f "$T/multi.conf" > /dev/null 2> "$T/multi.err"
check_eq multi/exit $? 1
check_eq multi/all-three "$(grep -o -E 'multi\.conf:[0-9]+:[0-9]+' "$T/multi.err" | sed 's/.*conf://' | tr '\n' ' ')" "1:5 2:13 3:10 "

# a missing file: exit 1, message names it
"$KINKD" -n -f "$T/nonexistent.conf" > /dev/null 2> "$T/missing.err"
check_eq missing-file/exit $? 1
check missing-file/message grep -q "nonexistent.conf" "$T/missing.err"

# usage errors: exit 2 (bad option, -D without '=')
"$KINKD" -Z > /dev/null 2>&1
check_eq bad-option-exit $? 2

# the daemon itself refuses to start on a bad file, with the same message
"$KINKD" -d -f "$T/unknown-set.conf" -s "$T/x.sock" > "$T/d.out" 2>&1 &
dpid=$!
check daemon-refuses wait_until "$HOST_WAIT" proc_gone "$dpid"
wait "$dpid"
drc=$?
check daemon-refuses-nonzero test "$drc" -ne 0
check daemon-refuses-message grep -q -E 'unknown-set\.conf:1:5: ' "$T/d.out"
