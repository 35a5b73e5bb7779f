# Throwaway Samba Active Directory domain controller as a test realm (host
# tier).  Source it:
#
#	. tests/lib/realm_ad.sh
#	ad_start "$dir"             # DC up, its KDC on free loopback ports
#	ad_keytab alpha "$dir/alpha.keytab"
#	ad_set alpha msDS-SupportedEncryptionTypes=4
#	...                          # ad_stop (also as realm_stop) when done
#
# The domain is $REALM (default KINK.TEST, NetBIOS name KINK), so that the
# host tier's principals kink/<name>.test@KINK.TEST are the same as with
# the MIT realm.  Each host is a computer account <NAME>$ as a join would
# make it (msDS-SupportedEncryptionTypes 0x1C: RC4, AES128, AES256) with
# servicePrincipalName kink/<NAME>.test and userPrincipalName
# kink/<NAME>.test@REALM (AD answers an AS-REQ for a UPN, never for a bare
# SPN, and kinkd gets its TGT under its principal).  Accounts: alpha,
# beta, gamma.  Groups: kinkfew1..kinkfew8 (empty; ad_join_groups puts a
# host in them) and AD_BIG_GROUPS groups kinkbig<i> that each hold the
# group kinkhub, so a host put in kinkhub is, transitively, in all of them
# (its PAC lists every one).
#
# Provisioning (samba-tool domain provision, the accounts, the groups, the
# keytabs) is slow; its result is cached as a tar under $AD_CACHE (default
# tests/cache, gitignored), keyed by the Samba version and AD_RECIPE (bump
# it when the recipe below changes).  A later ad_start only unpacks it.
# The DC runs in the foreground (samba -i, single process model) with only
# the kdc service: accounts are changed offline on sam.ldb with samba-tool
# and Samba's python bindings, which the running KDC sees at once (ldb
# locking).  Nothing outside DIR (and the cache) is touched: smb.conf,
# private dir, state, locks, pid files, sockets and logs are all in DIR.
#
# Exports KRB5_CONFIG, KRB5CCNAME, KRB5RCACHEDIR, REALM, AD_DIR, AD_PORT,
# AD_SMBCONF; AD_TIMES gets "provision=<s> start=<s>" for the reports.

: "${REALM:=KINK.TEST}"
AD_NETBIOS=KINK
AD_RECIPE=1
: "${AD_BIG_GROUPS:=2000}"
AD_TOP=${HOST_TOP:-$(pwd)}
: "${AD_CACHE:=$AD_TOP/tests/cache}"
AD_PY=/usr/bin/python3		# Samba's bindings are Debian's python3's
AD_ADMINPW='Kink-Test-Adm1n!'
AD_HOSTS="alpha beta gamma"

# realm_free_port (and nothing else) from the MIT realm's helper.
. "$AD_TOP/tests/lib/realm.sh"

ad_version() {
	samba -V 2>/dev/null | awk '{ print $2; exit }'
}

ad_lower() { printf '%s' "$1" | tr 'A-Z' 'a-z'; }

# ad_smbconf DIR PORT KPASSWDPORT: the DC's own smb.conf, everything in DIR.
ad_smbconf() {
	cat > "$1/etc/smb.conf" <<-EOC
	[global]
	 netbios name = DC1
	 workgroup = $AD_NETBIOS
	 realm = $REALM
	 server role = active directory domain controller
	 server services = kdc
	 interfaces = 127.0.0.1
	 bind interfaces only = yes
	 krb5 port = $2
	 kpasswd port = $3
	 private dir = $1/private
	 state directory = $1/state
	 cache directory = $1/cache
	 lock directory = $1/lock
	 pid directory = $1/run
	 ncalrpc dir = $1/run/ncalrpc
	 winbindd socket directory = $1/run/winbindd
	 ntp signd socket directory = $1/run/ntp_signd
	 binddns dir = $1/bind-dns
	 log file = $1/log.%m
	 logging = file
	 log level = 1
	 idmap_ldb:use rfc2307 = yes
	EOC
}

# ad_py CODE ARGS...: Samba's python with a SamDB on this DC as `db`.
ad_py() {
	_code=$1
	shift
	"$AD_PY" - "$AD_SMBCONF" "$@" <<-EOP
	import sys, ldb
	from samba.param import LoadParm
	from samba.auth import system_session
	from samba.samdb import SamDB
	lp = LoadParm(); lp.load(sys.argv[1])
	db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
	args = sys.argv[2:]
	def dn_of(name):
	    r = db.search(base=db.domain_dn(), scope=ldb.SCOPE_SUBTREE,
	        expression="(sAMAccountName=%s)" % ldb.binary_encode(name),
	        attrs=["dn"])
	    if len(r) != 1:
	        sys.exit("no account %s" % name)
	    return r[0].dn
	$_code
	EOP
}

# ad_set HOST ATTR=VALUE...: replace attributes of HOST's computer account.
ad_set() {
	_h=$1
	shift
	ad_py '
m = ldb.Message(); m.dn = dn_of(args[0] + "$")
for a in args[1:]:
    k, v = a.split("=", 1)
    m[k] = ldb.MessageElement(v, ldb.FLAG_MOD_REPLACE, k)
db.modify(m)' "$_h" "$@"
}

# ad_join_groups HOST GROUP...: HOST's account into each group (one
# transaction; the KDC puts them in the next PAC it makes).
ad_join_groups() {
	ad_py '
me = str(dn_of(args[0] + "$"))
db.transaction_start()
for g in args[1:]:
    m = ldb.Message(); m.dn = dn_of(g)
    m["member"] = ldb.MessageElement(me, ldb.FLAG_MOD_ADD, "member")
    db.modify(m)
db.transaction_commit()' "$@"
}

# ad_keytab HOST FILE: the keytab exported at provisioning (every key of
# kink/HOST.test: aes256, aes128, rc4).
ad_keytab() {
	cp "$AD_DIR/keytabs/$1.keytab" "$2" && [ -s "$2" ]
}

# The recipe: provision, the three hosts, the groups, the keytabs.  Into
# $1 (a fresh directory), smb.conf already written.
ad_provision() {
	_d=$1
	# provision writes its own smb.conf into --targetdir; ours replaces
	# it (same domain, every path in the directory, only the kdc service)
	samba-tool domain provision --realm="$REALM" --domain="$AD_NETBIOS" \
	    --server-role=dc --dns-backend=NONE --use-rfc2307 \
	    --adminpass="$AD_ADMINPW" --host-name=dc1 --targetdir="$_d/prov" \
	    > "$_d/provision.log" 2>&1 || return 1
	for _x in private state bind-dns; do
		rm -rf "${_d:?}/$_x"
		mv "$_d/prov/$_x" "$_d/$_x" || return 1
	done
	rm -rf "$_d/prov"
	_dom=$(ad_lower "$REALM")
	for _h in $AD_HOSTS; do
		samba-tool computer create "$_h" \
		    --service-principal-name="kink/$_h.test" \
		    -s "$AD_SMBCONF" -H "$_d/private/sam.ldb" \
		    >> "$_d/provision.log" 2>&1 || return 1
		# 0x1C as a Windows join sets it: without the attribute AD
		# treats a computer as RC4-only and exports only its RC4 key
		ad_set "$_h" msDS-SupportedEncryptionTypes=28 \
		    "userPrincipalName=kink/$_h.test@$REALM" \
		    "dNSHostName=$_h.$_dom" >> "$_d/provision.log" 2>&1 ||
		    return 1
		# new keys now that AES is allowed
		samba-tool user setpassword "$_h\$" --random-password \
		    -s "$AD_SMBCONF" -H "$_d/private/sam.ldb" \
		    >> "$_d/provision.log" 2>&1 || return 1
	done
	ad_py '
db.transaction_start()
base = "CN=Users," + str(db.domain_dn())
def group(name, members=()):
    m = {"dn": "CN=%s,%s" % (name, base), "objectClass": "group",
         "sAMAccountName": name}
    if members:
        m["member"] = list(members)
    db.add(m)
group("kinkhub")
hub = "CN=kinkhub," + base
for i in range(1, 9):
    group("kinkfew%d" % i)
for i in range(1, int(args[0]) + 1):
    group("kinkbig%d" % i, [hub])
db.transaction_commit()' "$AD_BIG_GROUPS" >> "$_d/provision.log" 2>&1 ||
	    return 1
	mkdir -p "$_d/keytabs"
	for _h in $AD_HOSTS; do
		samba-tool domain exportkeytab "$_d/keytabs/$_h.keytab" \
		    --principal="kink/$_h.test" -s "$AD_SMBCONF" \
		    >> "$_d/provision.log" 2>&1 &&
		    [ -s "$_d/keytabs/$_h.keytab" ] || return 1
	done
}

# ad_start DIR: the DC from the cache (provisioned into it first when the
# cache has no tree for this Samba version and recipe).
ad_start() {
	AD_DIR=$1
	AD_SMBCONF=$AD_DIR/etc/smb.conf
	export AD_DIR AD_SMBCONF REALM
	_ver=$(ad_version)
	[ -n "$_ver" ] || { echo "realm_ad: samba not installed (tests/deps.sh)" >&2; return 1; }
	_tar="$AD_CACHE/ad-$_ver-r$AD_RECIPE-g$AD_BIG_GROUPS.tar"
	mkdir -p "$AD_DIR/etc" "$AD_DIR/lock" "$AD_DIR/run" "$AD_DIR/cache" ||
	    return 1
	AD_PORT=$(realm_free_port) && _kpw=$(realm_free_port) ||
	    { echo "realm_ad: no free port" >&2; return 1; }
	export AD_PORT
	ad_smbconf "$AD_DIR" "$AD_PORT" "$_kpw"
	_t0=$(date +%s.%N)
	if [ -s "$_tar" ]; then
		tar -C "$AD_DIR" -xf "$_tar" || return 1
	else
		if ! ad_provision "$AD_DIR"; then
			echo "realm_ad: provisioning failed:" >&2
			tail -n 20 "$AD_DIR/provision.log" >&2
			return 1
		fi
		mkdir -p "$AD_CACHE" &&
		    tar -C "$AD_DIR" -cf "$_tar.$$" private state \
		    bind-dns keytabs && mv "$_tar.$$" "$_tar" ||
		    { rm -f "$_tar.$$"; echo "realm_ad: cannot write $_tar" >&2; }
	fi
	_t1=$(date +%s.%N)
	cat > "$AD_DIR/krb5.conf" <<-EOC
	[libdefaults]
	 default_realm = $REALM
	 dns_lookup_kdc = false
	 dns_lookup_realm = false
	 rdns = false
	 allow_weak_crypto = true
	 permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 arcfour-hmac
	 default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 arcfour-hmac
	 default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 arcfour-hmac
	 kdc_timesync = 0
	[realms]
	 $REALM = {
	  kdc = 127.0.0.1:$AD_PORT
	 }
	EOC
	mkdir -p "$AD_DIR/rcache"
	export KRB5_CONFIG="$AD_DIR/krb5.conf"
	export KRB5RCACHEDIR="$AD_DIR/rcache"
	export KRB5CCNAME="FILE:$AD_DIR/ccache"
	samba -i -M single -s "$AD_SMBCONF" > "$AD_DIR/samba.out" 2>&1 &
	AD_PID=$!
	export AD_PID
	_i=0
	while [ $_i -lt 1200 ]; do	# up to 60 s on a loaded machine
		if [ -n "$(ss -Hlnu "sport = :$AD_PORT" 2>/dev/null)" ] &&
		    [ -n "$(ss -Hlnt "sport = :$AD_PORT" 2>/dev/null)" ]; then
			AD_TIMES=$(awk -v a="$_t0" -v b="$_t1" -v c="$(date +%s.%N)" \
			    'BEGIN { printf "tree=%.1fs start=%.1fs", b - a, c - b }')
			export AD_TIMES
			return 0
		fi
		kill -0 "$AD_PID" 2>/dev/null || break
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "realm_ad: samba did not come up:" >&2
	tail -n 20 "$AD_DIR/samba.out" "$AD_DIR"/log.* >&2 2>/dev/null
	return 1
}

ad_stop() {
	if [ -n "${AD_PID:-}" ]; then
		kill "$AD_PID" 2>/dev/null
		wait "$AD_PID" 2>/dev/null
		AD_PID=
	fi
}

# tests/lib/host.sh's cleanup stops "the realm" by this name.
realm_stop() { ad_stop; }
