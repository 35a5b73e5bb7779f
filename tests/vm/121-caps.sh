# Kernel capabilities (RFC 4430 needs nothing of this; it keeps kinkd from
# proposing what the kernel cannot install).  3DES is made unavailable:
# its modules unloaded and module autoloading pointed at /bin/false, so
# that neither PF_KEY's SADB_REGISTER lists nor the crypto API (AF_ALG)
# can bring it back; `ip xfrm state add` with cbc(des3_ede) failing is the
# independent check of that.  Both peers' policy asks for 3des first and
# aes-128-cbc second.  For pfkey and xfrm:
#  - `kinkd -n` warns about the 3des suite, exit 0;
#  - at start the 3des suite is skipped (one line naming cbc(des3_ede)
#    and where that was learnt), the kernel's algorithms logged;
#  - `kinkctl show self` lists them (text and JSON), without 3DES;
#  - a CREATE proposes only AES: the kernel SAs are cbc(aes).
# Autoloading is restored at the end for the scenarios after this one.
. /tests/guest.sh
. /tests/kinkd.sh

XF="transforms { esp enc 3des auth hmac-sha1, esp enc aes-128-cbc auth hmac-sha1 }"

run() {
	t=caps-$1
	case $1 in pfkey) src=SADB_REGISTER ;; *) src=AF_ALG ;; esac
	hosts_up || { fail $t "netns/veth setup"; return; }
	start_kdc
	write_conf alpha $1 $A4 beta $B4 \
	    "policy \"ping\" esp transport from $A4 to $B4 proto icmp $XF lifetime 1h"
	write_conf beta $1 $B4 alpha $A4 \
	    "policy \"ping\" esp transport from $B4 to $A4 proto icmp $XF lifetime 1h"
	/usr/sbin/ip netns exec A env KRB5_CONFIG=$W/krb5-A.conf \
	    kinkd-test -n -f $W/alpha.conf > $W/n.out 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'kinkd: warning: peer beta policy ping suite 1: the kernel has no cbc(des3_ede) (AF_ALG): kinkd would skip it' $W/n.out; then
		pass $t-n-warns
	else
		fail $t-n-warns "exit $rc: $(cat $W/n.out)"
	fi
	start_both $t || return
	if grep -q "peer beta policy ping: suite 3des/hmac-sha1 skipped: the kernel has no cbc(des3_ede) ($src)" $W/alpha.log &&
	    grep -q "kernel algorithms ($src): encryption .*cbc(aes)" $W/alpha.log; then
		pass $t-start-skips
	else
		fail $t-start-skips "no skip line naming cbc(des3_ede) from $src"
		show_logs
	fi
	kinkctl -s $W/alpha.sock show self > $W/self.out 2>&1
	if grep -q "^kernel_algs $src\$" $W/self.out &&
	    grep -q '^kernel_enc .*cbc(aes)' $W/self.out &&
	    ! grep -q 'des3_ede' $W/self.out &&
	    grep -q '^kernel_auth .*hmac(sha1)' $W/self.out; then
		pass $t-show-self
	else
		fail $t-show-self "$(cat $W/self.out)"
	fi
	kinkctl -j -s $W/alpha.sock show self > $W/self.json 2>&1
	if grep -q "\"kernel_algs\":\"$src\"" $W/self.json &&
	    grep -q '"kernel_enc":\[[^]]*"cbc(aes)"' $W/self.json &&
	    grep -q '"kernel_auth":\["' $W/self.json; then
		pass $t-show-self-json
	else
		fail $t-show-self-json "$(cat $W/self.json)"
	fi
	if kinkctl -s $W/alpha.sock initiate beta > $W/initiate.out 2>&1 &&
	    wait_until 30 sa_count_is A 2 &&
	    ip -n A xfrm state | grep -q 'enc cbc(aes)' &&
	    ! ip -n A xfrm state | grep -q des3; then
		pass $t-aes-installed
	else
		fail $t-aes-installed "$(cat $W/initiate.out)"
		show_logs
	fi
	teardown $t
}

if ! setup_realm; then
	fail caps-realm "realm setup failed"
	exit 1
fi
# What the scenario uses is loaded before autoloading stops: AF_ALG's
# modules, and AES-CBC with HMAC-SHA1 through one SA added and removed.
hosts_up
modprobe -a af_alg algif_skcipher algif_hash algif_aead 2>/dev/null
ip -n A xfrm state add src $A4 dst $B4 proto esp spi 0x101 mode transport \
    enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff \
    auth 'hmac(sha1)' 0x00112233445566778899aabbccddeeff00112233 &&
    ip -n A xfrm state delete src $A4 dst $B4 proto esp spi 0x101 ||
    fail caps-aes-preload "cbc(aes)/hmac(sha1) SA refused"
echo /bin/false > /proc/sys/kernel/modprobe
rmmod des3_ede_x86_64 des_generic 2>/dev/null
rmmod des_generic 2>/dev/null
if ip -n A xfrm state add src $A4 dst $B4 proto esp spi 0x100 mode transport \
    enc 'cbc(des3_ede)' 0x00112233445566778899aabbccddeeff0011223344556677 \
    auth 'hmac(sha1)' 0x00112233445566778899aabbccddeeff00112233 2>/dev/null; then
	fail caps-no-3des "the kernel still installs 3DES: $(lsmod | grep -i des)"
	hosts_down
else
	hosts_down
	pass caps-no-3des
	run xfrm
	run pfkey
fi
echo /bin/modprobe > /proc/sys/kernel/modprobe
exit $FAILED
