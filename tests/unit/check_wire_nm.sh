#!/bin/sh
# The wire codec is pure: wire.o and wire_names.o may reference buf helpers
# and libc only.  Fails if either names any krb5_* or event_* symbol (defined
# or undefined), which would mean the codec grew a Kerberos or libevent
# dependency and could no longer be fuzzed or tested on its own.
: "${B:=build}"
name=check_wire_nm
for o in "$B/src/wire.o" "$B/src/wire_names.o"; do
	if [ ! -f "$o" ]; then
		echo "FAIL $name: $o not built"
		exit 1
	fi
	if ! syms=$(nm "$o" 2>&1); then
		echo "FAIL $name: nm $o: $syms"
		exit 1
	fi
	bad=$(printf '%s\n' "$syms" | awk '{ print $NF }' |
	    grep -E '^_?(krb5|event|evutil|evbuffer|bufferevent)_' | tr '\n' ' ')
	if [ -n "$bad" ]; then
		echo "FAIL $name: $o references $bad"
		exit 1
	fi
	# Sanity: nm saw the codec itself, so an empty listing cannot pass.
	if ! printf '%s\n' "$syms" | grep -Eq ' T (wire_parse|wire_strerror)$'; then
		echo "FAIL $name: $o does not define the wire API"
		exit 1
	fi
done
echo "PASS $name"
