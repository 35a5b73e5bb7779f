# Throwaway MIT Kerberos realm for the krb, host and vm tiers.  Source it:
#
#	. tests/lib/realm.sh
#	realm_start "$dir"          # KDC up on a free loopback port
#	realm_addprinc kink/alpha.test [-e aes128-cts-hmac-sha1-96:normal]
#	realm_ktadd kink/alpha.test "$dir/alpha.keytab"
#	...                          # realm_stop runs on EXIT (trap)
#
# REALM_CLOCKSKEW (seconds, default 300) goes into krb5.conf's clockskew;
# REALM_KDC_EXTRA (lines) into kdc.conf's realm block, REALM_KRB5_EXTRA
# into krb5.conf's [libdefaults].
# Exports KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5RCACHEDIR, KRB5CCNAME,
# REALM (the realm name), REALM_DIR, REALM_PORT.  Nothing outside DIR is
# touched; no system KDC or krb5.conf is used.  Set REALM_NO_TRAP=1 to manage
# realm_stop yourself (it is idempotent).

: "${REALM:=KINK.TEST}"

# A loopback port free for both UDP and TCP.
realm_free_port() {
	_p=0
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		_p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		if [ -z "$(ss -Hlnu "sport = :$_p" 2>/dev/null)" ] &&
		    [ -z "$(ss -Hlnt "sport = :$_p" 2>/dev/null)" ]; then
			echo "$_p"
			return 0
		fi
	done
	return 1
}

realm_start() {
	REALM_DIR=$1
	mkdir -p "$REALM_DIR/rcache" || return 1
	REALM_PORT=$(realm_free_port) || { echo "realm: no free port" >&2; return 1; }
	cat > "$REALM_DIR/kdc.conf" <<-EOC
	[kdcdefaults]
	 kdc_ports = $REALM_PORT
	 kdc_tcp_ports = $REALM_PORT
	 kdc_listen = 127.0.0.1:$REALM_PORT
	 kdc_tcp_listen = 127.0.0.1:$REALM_PORT
	[realms]
	 $REALM = {
	  database_name = $REALM_DIR/principal
	  key_stash_file = $REALM_DIR/stash
	  acl_file = $REALM_DIR/kadm5.acl
	  max_life = 10h
	  max_renewable_life = 1d
	  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal des3-cbc-sha1:normal aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal
	${REALM_KDC_EXTRA:-}
	 }
	[logging]
	 kdc = FILE:$REALM_DIR/kdc.log
	 admin_server = FILE:$REALM_DIR/kadmin.log
	EOC
	# des3 is deprecated in MIT 1.20 and out of its DEFAULT lists, but it
	# is a KINK etype racoon2 uses; the tests ask for it explicitly.
	cat > "$REALM_DIR/krb5.conf" <<-EOC
	[libdefaults]
	 default_realm = $REALM
	 dns_lookup_kdc = false
	 dns_lookup_realm = false
	 rdns = false
	 allow_weak_crypto = true
	 allow_des3 = true
	 permitted_enctypes = DEFAULT des3-cbc-sha1
	 default_tgs_enctypes = DEFAULT des3-cbc-sha1
	 default_tkt_enctypes = DEFAULT des3-cbc-sha1
	 kdc_timesync = 0
	 clockskew = ${REALM_CLOCKSKEW:-300}
	${REALM_KRB5_EXTRA:-}
	[realms]
	 $REALM = {
	  kdc = 127.0.0.1:$REALM_PORT
	 }
	EOC
	: > "$REALM_DIR/kadm5.acl"
	export KRB5_CONFIG="$REALM_DIR/krb5.conf"
	export KRB5_KDC_PROFILE="$REALM_DIR/kdc.conf"
	export KRB5RCACHEDIR="$REALM_DIR/rcache"
	export KRB5CCNAME="FILE:$REALM_DIR/ccache"
	export REALM REALM_DIR REALM_PORT
	[ "${REALM_NO_TRAP:-}" = 1 ] || trap 'realm_stop' EXIT INT TERM
	kdb5_util -r "$REALM" create -s \
	    -P "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
	    > "$REALM_DIR/kdb5_util.log" 2>&1 ||
	    { echo "realm: kdb5_util create failed:" >&2;
	      cat "$REALM_DIR/kdb5_util.log" >&2; return 1; }
	krb5kdc -n -r "$REALM" -P "$REALM_DIR/kdc.pid" \
	    > "$REALM_DIR/krb5kdc.out" 2>&1 &
	REALM_KDC_PID=$!
	export REALM_KDC_PID
	_i=0
	while [ $_i -lt 600 ]; do	# up to 30 s on a loaded machine; returns as soon as both ports listen
		if [ -n "$(ss -Hlnu "sport = :$REALM_PORT" 2>/dev/null)" ] &&
		    [ -n "$(ss -Hlnt "sport = :$REALM_PORT" 2>/dev/null)" ]; then
			return 0
		fi
		kill -0 "$REALM_KDC_PID" 2>/dev/null || break
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "realm: krb5kdc did not come up:" >&2
	cat "$REALM_DIR/krb5kdc.out" "$REALM_DIR/kdc.log" >&2 2>/dev/null
	return 1
}

# realm_addprinc NAME [-e ENCTYPES] [more kadmin addprinc options]
realm_addprinc() {
	_n=$1
	shift
	kadmin.local -r "$REALM" -q "addprinc -randkey $* $_n@$REALM" \
	    > "$REALM_DIR/kadmin.out" 2>&1 &&
	    kadmin.local -r "$REALM" -q "getprinc $_n@$REALM" 2>/dev/null |
	    grep -q "^Principal: $_n@$REALM" ||
	    { echo "realm: addprinc $_n failed:" >&2;
	      cat "$REALM_DIR/kadmin.out" >&2; return 1; }
}

# realm_ktadd PRINC KEYTAB: export the current keys (kvno unchanged).
realm_ktadd() {
	kadmin.local -r "$REALM" -q "ktadd -k $2 -norandkey $1@$REALM" \
	    > "$REALM_DIR/kadmin.out" 2>&1 && [ -s "$2" ] ||
	    { echo "realm: ktadd $1 failed:" >&2;
	      cat "$REALM_DIR/kadmin.out" >&2; return 1; }
}

# realm_kadmin QUERY: any other kadmin.local query (setstr, cpw, modprinc).
realm_kadmin() {
	kadmin.local -r "$REALM" -q "$*" > "$REALM_DIR/kadmin.out" 2>&1
}

realm_stop() {
	if [ -n "${REALM_KDC_PID:-}" ]; then
		kill "$REALM_KDC_PID" 2>/dev/null
		wait "$REALM_KDC_PID" 2>/dev/null
		REALM_KDC_PID=
	fi
}
