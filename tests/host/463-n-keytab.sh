#!/bin/bash
# kinkd -n checks what the daemon will need besides the file: the keytab
# is readable and holds the principal's key (its keys listed as klist -k
# lists them, kvno and enctype, on stderr), and the "set user" account
# exists.  A missing, unreadable or foreign keytab is an error naming the
# keytab; a missing account is a warning, an error under
# strict-privileges (in the file or -S).  No KDC: ktutil makes the keytab.
HOST_NEEDS="$KINKD"
. tests/lib/host.sh
host_init 463-n-keytab
P="kink/alpha.test@$HOST_REALM"
host_keytab "$T/k.keytab" "$P" 3 ||
    { fail setup "ktutil: $(tr '\n' ' ' < "$T/ktutil.out")"; exit 1; }

conf() {	# conf PRINCIPAL KEYTAB [line]: $T/c.conf
	printf 'set principal "%s"\nset keytab "%s"\nset backend null\nset port %s\nset user "nosuchuser463"\n%s\n' \
	    "$1" "$2" "$HOST_PORT" "${3:-}" > "$T/c.conf"
}
n() {	# n NAME [kinkd options]: kinkd -n on $T/c.conf, $T/NAME.{out,err}
	local name=$1
	shift
	"$KINKD" -n "$@" -f "$T/c.conf" > "$T/$name.out" 2> "$T/$name.err"
}

conf "$P" "$T/k.keytab"
n ok
check_eq ok/exit $? 0
check_eq ok/stdout "$(cat "$T/ok.out")" ""
want=$(klist -ke "$T/k.keytab" | awk -v kt="$T/k.keytab" '$1 ~ /^[0-9]+$/ {
	e = $3; gsub(/[()]/, "", e); sub(/^DEPRECATED:/, "", e); print "keytab " kt ": " $2 " kvno " $1 " " e }')
check_eq ok/keys-as-klist "$(grep '^keytab ' "$T/ok.err")" "$want"
check_eq ok/two-keys "$(grep -c "^keytab $T/k.keytab: $P kvno 3 aes" "$T/ok.err")" 2
check ok/user-warning grep -q -x "kinkd: warning: user nosuchuser463 does not exist: kinkd would keep running as root" "$T/ok.err"
check_eq ok/last-line "$(tail -n 1 "$T/ok.err")" "configuration OK"

conf "$P" "$T/none.keytab"
n missing
check_eq missing/exit $? 1
check missing/named grep -q "^kinkd: keytab $T/none.keytab: cannot read it: " "$T/missing.err"
check missing/not-ok sh -c "! grep -q 'configuration OK' '$T/missing.err'"

# under systemd (ExecStartPre: stderr is the journal) at priority err,
# as the file's errors, so "journalctl -p err" shows why the start failed
: > "$T/journal.err"
JOURNAL_STREAM=$(stat -c %d:%i "$T/journal.err") "$KINKD" -n -f "$T/c.conf" \
    2>> "$T/journal.err"
check missing/journal-err grep -q "^<3>kinkd: keytab $T/none.keytab: cannot read it: " "$T/journal.err"
check missing/journal-user-warning grep -q "^<4>kinkd: warning: user nosuchuser463 does not exist" "$T/journal.err"

printf 'not a keytab\n' > "$T/junk.keytab"
conf "$P" "$T/junk.keytab"
n junk
check_eq junk/exit $? 1
check junk/named grep -q "^kinkd: keytab $T/junk.keytab: cannot read it: " "$T/junk.err"

conf "kink/other.test@$HOST_REALM" "$T/k.keytab"
n foreign
check_eq foreign/exit $? 1
check foreign/named grep -q "^kinkd: keytab $T/k.keytab holds no key for kink/other.test@$HOST_REALM " "$T/foreign.err"
check foreign/not-ok sh -c "! grep -q 'configuration OK' '$T/foreign.err'"

# strict-privileges: the missing account is an error, from the file or -S
conf "$P" "$T/k.keytab" "set strict-privileges yes"
n strict-file
check_eq strict-file/exit $? 1
check strict-file/error grep -q -x "kinkd: error: user nosuchuser463 does not exist: strict-privileges: kinkd would not start" "$T/strict-file.err"
conf "$P" "$T/k.keytab"
n strict-opt -S
check_eq strict-opt/exit $? 1
check strict-opt/error grep -q "^kinkd: error: user nosuchuser463 does not exist" "$T/strict-opt.err"
# -nv shows the effective setting, -S included
n nv -v
check_eq nv/exit $? 0
check nv/strict-no grep -q -x 'set strict-privileges no' "$T/nv.out"
n nv-s -v -S
check nv-s/strict-yes grep -q -x 'set strict-privileges yes' "$T/nv-s.out"
