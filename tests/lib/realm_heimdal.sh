# Throwaway Heimdal Kerberos realm, the Heimdal twin of tests/lib/realm.sh
# (same semantics, functions prefixed hrealm_).  Source it:
#
#	. tests/lib/realm_heimdal.sh
#	hrealm_start "$dir"          # Heimdal kdc up on a free loopback port
#	hrealm_addprinc kink/alpha.test [-e aes128-cts-hmac-sha1-96:normal]
#	hrealm_ktadd kink/alpha.test "$dir/alpha.keytab"
#	...                           # hrealm_stop runs on EXIT (trap)
#
# With HREALM_AS_REALM=1 it also defines realm_start, realm_addprinc,
# realm_ktadd, realm_kadmin and realm_stop as these, so a script written
# for realm.sh runs against Heimdal unchanged.
#
# Debian's heimdal-kdc conflicts with krb5-kdc (the MIT KDC the other
# tiers run), so unless Heimdal's kdc is installed, heimdal-kdc and
# heimdal-clients are fetched once with `apt-get download` and unpacked
# (dpkg-deb -x) into HREALM_CACHE (default tests/cache/heimdal, gitignored);
# their shared libraries are ordinary packages that install beside MIT's
# (tests/deps.sh).  The database is Heimdal's own (`kadmin -l init`),
# without a master key; only the kdc binary and kadmin are used.
#
# Exports KRB5_CONFIG, KRB5RCACHEDIR, KRB5CCNAME, REALM, REALM_DIR,
# REALM_PORT and HREALM_KDC_PID.  The krb5.conf it writes is read by both
# libraries (the KDC's settings are in its [kdc] section, which MIT
# ignores).  REALM_CLOCKSKEW as in realm.sh.  Set REALM_NO_TRAP=1 to run
# hrealm_stop yourself (it is idempotent).  Nothing outside DIR (and the
# cache) is written.

: "${REALM:=KINK.TEST}"
: "${HREALM_CACHE:=$(pwd)/tests/cache/heimdal}"

# hrealm_bins: set HREALM_KDC and HREALM_KADMIN, unpacking the packages
# into the cache on first use.
hrealm_bins() {
	if [ -x /usr/lib/heimdal-servers/kdc ] && [ -x /usr/bin/kadmin.heimdal ]; then
		HREALM_KDC=/usr/lib/heimdal-servers/kdc
		HREALM_KADMIN=/usr/bin/kadmin.heimdal
		return 0
	fi
	HREALM_KDC=$HREALM_CACHE/root/usr/lib/heimdal-servers/kdc
	HREALM_KADMIN=$HREALM_CACHE/root/usr/bin/kadmin.heimdal
	[ -x "$HREALM_KDC" ] && [ -x "$HREALM_KADMIN" ] && return 0
	_hd=$(mktemp -d "${TMPDIR:-/tmp}/kinkd-heimdal-deb.XXXXXX") || return 1
	if ! (cd "$_hd" && apt-get download heimdal-kdc heimdal-clients \
	    > download.log 2>&1); then
		echo "hrealm: apt-get download heimdal-kdc heimdal-clients failed:" >&2
		tail -n 3 "$_hd/download.log" >&2
		rm -rf "$_hd"
		return 1
	fi
	mkdir -p "$_hd/root"
	for _deb in "$_hd"/*.deb; do
		dpkg-deb -x "$_deb" "$_hd/root" ||
		    { echo "hrealm: dpkg-deb -x $_deb failed" >&2;
		      rm -rf "$_hd"; return 1; }
	done
	# Whole or not at all: a second test never sees half a cache.
	mkdir -p "$HREALM_CACHE" && rm -rf "$HREALM_CACHE/root" &&
	    mv "$_hd/root" "$HREALM_CACHE/root" && ls "$_hd"/*.deb |
	    sed 's|.*/||' > "$HREALM_CACHE/packages"
	rm -rf "$_hd"
	if ! [ -x "$HREALM_KDC" ] || ! [ -x "$HREALM_KADMIN" ]; then
		echo "hrealm: no kdc/kadmin in the unpacked packages" >&2
		return 1
	fi
	if ldd "$HREALM_KDC" "$HREALM_KADMIN" | grep -q 'not found'; then
		echo "hrealm: Heimdal libraries missing (sh tests/deps.sh):" >&2
		ldd "$HREALM_KDC" "$HREALM_KADMIN" | grep 'not found' >&2
		return 1
	fi
}

# A loopback port free for both UDP and TCP (as realm.sh's).
hrealm_free_port() {
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

hrealm_kadmin_l() {
	"$HREALM_KADMIN" -l -c "$REALM_DIR/krb5.conf" -r "$REALM" "$@"
}

hrealm_start() {
	REALM_DIR=$1
	mkdir -p "$REALM_DIR/rcache" || return 1
	hrealm_bins || return 1
	REALM_PORT=$(hrealm_free_port) || { echo "hrealm: no free port" >&2; return 1; }
	# Keys as a Heimdal site makes them by default: aes256 and aes128
	# (Heimdal 7.8 has no RFC 8009 enctypes).
	cat > "$REALM_DIR/krb5.conf" <<-EOC
	[libdefaults]
	 default_realm = $REALM
	 dns_lookup_kdc = false
	 dns_lookup_realm = false
	 rdns = false
	 kdc_timesync = 0
	 clockskew = ${REALM_CLOCKSKEW:-300}
	[realms]
	 $REALM = {
	  kdc = 127.0.0.1:$REALM_PORT
	 }
	[kadmin]
	 default_keys = aes256-cts-hmac-sha1-96:pw-salt aes128-cts-hmac-sha1-96:pw-salt
	[kdc]
	 database = {
	  dbname = sqlite:$REALM_DIR/heimdal.db
	  realm = $REALM
	  acl_file = $REALM_DIR/kadmind.acl
	  log_file = $REALM_DIR/iprop.log
	 }
	 addresses = 127.0.0.1
	 ports = $REALM_PORT
	 max-request = 65536
	[logging]
	 kdc = FILE:$REALM_DIR/kdc.log
	 default = FILE:$REALM_DIR/heimdal.log
	EOC
	: > "$REALM_DIR/kadmind.acl"
	export KRB5_CONFIG="$REALM_DIR/krb5.conf"
	export KRB5RCACHEDIR="$REALM_DIR/rcache"
	export KRB5CCNAME="FILE:$REALM_DIR/ccache"
	export REALM REALM_DIR REALM_PORT
	[ "${REALM_NO_TRAP:-}" = 1 ] || trap 'hrealm_stop' EXIT INT TERM
	hrealm_kadmin_l init --realm-max-ticket-life=10h \
	    --realm-max-renewable-life=1d "$REALM" \
	    > "$REALM_DIR/init.log" 2>&1 ||
	    { echo "hrealm: kadmin -l init failed:" >&2;
	      cat "$REALM_DIR/init.log" >&2; return 1; }
	"$HREALM_KDC" -c "$REALM_DIR/krb5.conf" --addresses=127.0.0.1 \
	    --ports="$REALM_PORT" > "$REALM_DIR/kdc.out" 2>&1 &
	HREALM_KDC_PID=$!
	export HREALM_KDC_PID
	_i=0
	while [ $_i -lt 600 ]; do	# up to 30 s, as realm.sh
		if [ -n "$(ss -Hlnu "sport = :$REALM_PORT" 2>/dev/null)" ] &&
		    [ -n "$(ss -Hlnt "sport = :$REALM_PORT" 2>/dev/null)" ]; then
			return 0
		fi
		kill -0 "$HREALM_KDC_PID" 2>/dev/null || break
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "hrealm: Heimdal kdc did not come up:" >&2
	cat "$REALM_DIR/kdc.out" "$REALM_DIR/kdc.log" >&2 2>/dev/null
	return 1
}

# hrealm_addprinc NAME [-e ENCTYPES] [Heimdal `kadmin add` options]: a
# random key per default_keys; -e (realm.sh's MIT syntax, comma or space
# separated "enctype[:salt]") keeps only those enctypes.
hrealm_addprinc() {
	_n=$1
	shift
	_keep=
	if [ "${1:-}" = -e ]; then
		_keep=$(printf '%s' "$2" | tr ',' ' ' | sed 's/:[a-z0-9-]*//g')
		shift 2
	fi
	hrealm_kadmin_l add --random-key --use-defaults "$@" "$_n@$REALM" \
	    > "$REALM_DIR/kadmin.out" 2>&1 || {
		echo "hrealm: addprinc $_n failed:" >&2
		cat "$REALM_DIR/kadmin.out" >&2; return 1; }
	if [ -n "$_keep" ]; then
		for _e in aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96; do
			case " $_keep " in *" $_e "*) continue ;; esac
			hrealm_kadmin_l del_enctype "$_n@$REALM" "$_e" \
			    >> "$REALM_DIR/kadmin.out" 2>&1 || {
				echo "hrealm: del_enctype $_n $_e failed:" >&2
				cat "$REALM_DIR/kadmin.out" >&2; return 1; }
		done
	fi
	hrealm_kadmin_l get -s "$_n@$REALM" 2>/dev/null | grep -q "^$_n[@ ]" ||
	    { echo "hrealm: $_n not in the database after add:" >&2;
	      cat "$REALM_DIR/kadmin.out" >&2; return 1; }
}

# hrealm_ktadd PRINC KEYTAB: export the current keys (kvno unchanged; a
# Heimdal ext_keytab never re-keys).
hrealm_ktadd() {
	hrealm_kadmin_l ext_keytab -k "$2" "$1@$REALM" \
	    > "$REALM_DIR/kadmin.out" 2>&1 && [ -s "$2" ] ||
	    { echo "hrealm: ktadd $1 failed:" >&2;
	      cat "$REALM_DIR/kadmin.out" >&2; return 1; }
}

# hrealm_kadmin ARGS: any other `kadmin -l` command (Heimdal syntax:
# modify, cpw, del_enctype ...).
hrealm_kadmin() {
	hrealm_kadmin_l "$@" > "$REALM_DIR/kadmin.out" 2>&1
}

hrealm_stop() {
	if [ -n "${HREALM_KDC_PID:-}" ]; then
		kill "$HREALM_KDC_PID" 2>/dev/null
		wait "$HREALM_KDC_PID" 2>/dev/null
		HREALM_KDC_PID=
	fi
}

if [ "${HREALM_AS_REALM:-}" = 1 ]; then
	realm_start() { hrealm_start "$@"; }
	realm_addprinc() { hrealm_addprinc "$@"; }
	realm_ktadd() { hrealm_ktadd "$@"; }
	realm_kadmin() { hrealm_kadmin "$@"; }
	realm_stop() { hrealm_stop "$@"; }
fi

# `sh tests/lib/realm_heimdal.sh fetch`: fill the cache now, for a tier
# about to enter a network namespace (tests/host/run.sh).
case "$0:${1:-}" in
*realm_heimdal.sh:fetch) hrealm_bins ;;
esac
