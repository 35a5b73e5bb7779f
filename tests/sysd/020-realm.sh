# The two hosts and the realm, set up as an admin would: namespaces alpha
# and beta joined by a veth pair; Debian's krb5-kdc service (its unit put
# into alpha's namespace with a drop-in), a database made with kdb5_util,
# the hosts' keys extracted with kadmin.local into keytabs readable by
# _kinkd (README, "Deploying on real hosts").
. /tests/common.sh

ip netns add alpha && ip netns add beta &&
ip link add va netns alpha type veth peer name vb netns beta &&
ip -n alpha addr add $A4/24 dev va && ip -n beta addr add $B4/24 dev vb &&
ip -n alpha link set lo up && ip -n beta link set lo up &&
ip -n alpha link set va up && ip -n beta link set vb up ||
    { fail sysd-netns "namespaces and veth"; exit 1; }
pass sysd-netns

cat > /etc/krb5.conf <<EOC
[libdefaults]
 default_realm = $REALM
 dns_lookup_kdc = false
 dns_lookup_realm = false
 rdns = false
[realms]
 $REALM = {
  kdc = $A4
 }
EOC
cat > /etc/krb5kdc/kdc.conf <<EOC
[kdcdefaults]
 kdc_ports = 88
 kdc_tcp_ports = 88
[realms]
 $REALM = {
  database_name = /var/lib/krb5kdc/principal
  key_stash_file = /etc/krb5kdc/stash
  acl_file = /etc/krb5kdc/kadm5.acl
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }
[logging]
 kdc = SYSLOG:INFO:DAEMON
EOC
: > /etc/krb5kdc/kadm5.acl
mkdir -p /etc/kinkd
if kdb5_util create -s -r $REALM -P sysd-master-pw > /tmp/kdb.log 2>&1; then
	pass sysd-kdb-create
else
	fail sysd-kdb-create "$(tail -n 3 /tmp/kdb.log)"
	exit 1
fi
ok=1
for h in alpha beta; do
	kadmin.local -r $REALM -q "addprinc -randkey kink/$h.test" > /tmp/kadm.log 2>&1 &&
	kadmin.local -r $REALM -q "ktadd -k /etc/kinkd/$h.keytab kink/$h.test" >> /tmp/kadm.log 2>&1 &&
	chgrp _kinkd /etc/kinkd/$h.keytab && chmod 0640 /etc/kinkd/$h.keytab || ok=0
done
if [ $ok = 1 ]; then
	pass sysd-keytabs
else
	fail sysd-keytabs "$(tail -n 5 /tmp/kadm.log)"
fi

mkdir -p /etc/systemd/system/krb5-kdc.service.d
printf '[Service]\nNetworkNamespacePath=/run/netns/alpha\n' \
    > /etc/systemd/system/krb5-kdc.service.d/netns.conf
systemctl daemon-reload
kdc_listens() { ip netns exec alpha ss -Hlnu 'sport = :88' | grep -q .; }
if systemctl restart krb5-kdc && wait_until 30 kdc_listens; then
	pass sysd-kdc
else
	fail sysd-kdc "krb5-kdc in alpha does not listen on 88"
	systemctl status --no-pager krb5-kdc | sed 's/^/  /'
	exit 1
fi
exit $FAILED
