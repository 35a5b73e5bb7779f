#!/bin/sh
# The codecs are pure: they turn octets or text into structures and back,
# and call only libc and each other.  That is what lets them be fuzzed,
# unit-tested and reused (kinkctl links the control codec, the tests the
# wire codec) without a KDC, an event loop or a daemon around them.  The
# objects below may therefore import no krb5_*, no libevent (event_*,
# evutil_*, evbuffer_*, bufferevent_*), no log_* (the daemon's logger) and
# no symbol that any other object of src/ defines.  Read from the objects
# (nm), so a call hidden behind a macro counts too.
#
# PURE is the list; an object named there that was not built is a failure
# (a renamed codec must be renamed here, not silently dropped).  Each must
# define at least one global function, so an empty listing cannot pass.
set -u
: "${B:=build}"
: "${CC:=cc}"
PURE="buf.o addr.o sa_rec.o wire.o wire_names.o isakmp.o ctl_msg.o conf_lex.o conf_tok.o conf_parse.o conf_suite.o conf_check.o conf.o conf_dump.o kern_alg.o pfkey_msg.o xfrm_msg.o ratelim.o broker_msg.o broker_check.o hostid_name.o"
name=check_pure_nm

# check DIR "OBJ...": one FAIL line per object that breaks the rule.
check() {
	dir=$1 r=0
	if ! all=$(nm -P -A "$dir"/*.o 2>&1); then
		echo "FAIL $name: nm $dir/*.o: $all"
		return 1
	fi
	for o in $2; do
		if [ ! -f "$dir/$o" ]; then
			echo "FAIL $name: $dir/$o not built (listed as pure)"
			r=1
			continue
		fi
		bad=$(printf '%s\n' "$all" | awk -v o="$o" -v pure=" $2 " '
		{
			f = $1; sub(/:$/, "", f); sub(/.*\//, "", f)
			if ($3 == "U" || $3 == "w" || $3 == "v") {
				if (f == o)
					imp[$2] = 1
			} else if ($3 ~ /^[A-Z]$/) {
				if (f == o && $3 == "T")
					api = 1
				if (index(pure, " " f " ") == 0)
					def[$2] = f
				else
					pdef[$2] = 1
			}
		}
		END {
			if (!api)
				print "!"
			for (s in imp) {
				t = s; sub(/^_/, "", t)
				if (t ~ /^(krb5|event|evutil|evbuffer|bufferevent|log)_/)
					print s
				else if ((s in def) && !(s in pdef))
					print s " (" def[s] ")"
			}
		}' | LC_ALL=C sort | awk '
		$0 == "!" { api = "defines no global function"; next }
		{ l = l " " $0 }
		END {
			if (l != "")
				printf "imports%s%s", l, api != "" ? "; " : ""
			printf "%s", api
		}')
		if [ -n "$bad" ]; then
			echo "FAIL $name: $o $bad"
			r=1
		fi
	done
	return $r
}

rc=0

# Self-test: p.o uses Kerberos, libevent, the logger, a daemon object and
# another pure object; q.o is pure; e.o defines nothing global.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_pure_nm.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
src() { printf '%s\n' "$2" > "$tmp/$1.c"; }
src p 'int krb5_init_context(void *), event_base_new(void), log_warnx(const char *);
int d_f(void), q_f(void);
int p_f(void) { return krb5_init_context(0) + event_base_new() + log_warnx("") + d_f() + q_f(); }'
src q '#include <string.h>
int q_f(void) { return (int)strlen("q"); }'
src d 'int log_warnx(const char *s) { return *s; } int d_f(void) { return 1; }'
src e 'static int e_f(void) { return 0; } int (*e_p)(void) = e_f;'
for f in p q d e; do
	if ! "$CC" -c -o "$tmp/$f.o" "$tmp/$f.c" 2> "$tmp/cc.err"; then
		echo "FAIL ${name}_selftest: $CC: $(cat "$tmp/cc.err")"
		exit 1
	fi
done
got=$(check "$tmp" "p.o q.o e.o gone.o")
r=$? ok=1
for want in "FAIL $name: p.o imports .*krb5_init_context" \
    "FAIL $name: p.o imports .*event_base_new" \
    "FAIL $name: p.o imports .*log_warnx" \
    "FAIL $name: p.o imports .*d_f (d.o)" \
    "FAIL $name: e.o defines no global function" \
    "FAIL $name: $tmp/gone.o not built"; do
	if ! printf '%s\n' "$got" | grep -q -- "$want"; then
		ok=0
	fi
done
if [ $ok = 1 ] && [ $r -ne 0 ] && ! printf '%s\n' "$got" | grep -q -e 'q_f' -e ' q\.o'; then
	echo "PASS ${name}_selftest"
else
	echo "FAIL ${name}_selftest: want p.o (krb5, libevent, log, d.o), e.o and gone.o refused, q.o accepted; got:"
	printf '%s\n' "$got" | sed 's/^/    /'
	rc=1
fi

if check "$B/src" "$PURE"; then
	echo "PASS $name"
else
	rc=1
fi
exit $rc
