# A real kernel refusing an SA: esp4 unloaded (and module autoloading
# pointed at /bin/false, so the kernel cannot bring it back), the guest
# kernel answers every ESP state add with an error while it still takes
# the SPD entries.  alpha's `kinkctl initiate beta` must exit 1 with the
# kernel's reason; beta, whose kernel refused too, answers with an
# authenticated KINK_ERROR; no SA in either kernel nor in either
# daemon's records.  pfkey and xfrm.  esp4 and autoloading are restored
# at the end for the scenarios after this one.
. /tests/guest.sh
. /tests/kinkd.sh

XF="transforms { esp enc aes-128-cbc auth hmac-sha1 }"

# kinkd's own records: lines of `kinkctl show sa` after the header.
rec_count() { kinkctl -s $W/$1.sock show sa 2>/dev/null | awk 'NR > 1' | wc -l; }
rec_count_is() { [ "$(rec_count $1)" -eq $2 ]; }

run() {
	t=kinkd-$1-refused
	hosts_up || { fail $t "netns/veth setup"; return; }
	if ip -n A xfrm state add src $A4 dst $B4 proto esp spi 0x100 \
	    mode transport enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff \
	    auth 'hmac(sha1)' 0x00112233445566778899aabbccddeeff00112233 \
	    2>/dev/null; then
		fail $t-kernel "the kernel still installs ESP states"
		hosts_down
		return
	fi
	pass $t-kernel-refuses-esp
	start_kdc
	write_conf alpha $1 $A4 beta $B4 \
	    "policy \"ping\" esp transport from $A4 to $B4 proto icmp $XF lifetime 1h"
	write_conf beta $1 $B4 alpha $A4 \
	    "policy \"ping\" esp transport from $B4 to $A4 proto icmp $XF lifetime 1h"
	start_both $t || return
	if wait_spd; then
		pass $t-spd-installed
	else
		fail $t-spd-installed "no outbound policy in the kernel"
	fi
	kinkctl -s $W/alpha.sock initiate beta > $W/initiate.out 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'kernel refused SA esp' $W/initiate.out; then
		pass $t-initiate-fails
	else
		fail $t-initiate-fails "exit $rc: $(cat $W/initiate.out)"
		show_logs
	fi
	if wait_until 30 grep -q 'answered KINK_ERROR KINK_INTERR' $W/beta.log; then
		pass $t-beta-error
	else
		fail $t-beta-error "beta did not answer the refusal with KINK_ERROR"
	fi
	if grep -q 'peer beta: kernel refused SA esp in spi 0x[0-9a-f]* from' $W/alpha.log &&
	    grep -q 'peer alpha: kernel refused SA esp in spi 0x[0-9a-f]* from' $W/beta.log; then
		pass $t-refusal-logged
	else
		fail $t-refusal-logged "no refusal line naming the SA"
	fi
	if wait_until 30 rec_count_is alpha 0 && wait_until 30 rec_count_is beta 0 &&
	    [ "$(sa_count A)" -eq 0 ] && [ "$(sa_count B)" -eq 0 ]; then
		pass $t-nothing-left
	else
		fail $t-nothing-left "records alpha $(rec_count alpha) beta $(rec_count beta), kernel A $(sa_count A) B $(sa_count B)"
	fi
	teardown $t
}

if ! setup_realm; then
	fail kinkd-refused-realm "realm setup failed"
	exit 1
fi
echo /bin/false > /proc/sys/kernel/modprobe
if ! rmmod esp4; then
	fail kinkd-refused-rmmod "esp4 cannot be unloaded: no real refusal to provoke"
	echo /bin/modprobe > /proc/sys/kernel/modprobe
	exit 1
fi
run xfrm
run pfkey
echo /bin/modprobe > /proc/sys/kernel/modprobe
modprobe esp4 || fail kinkd-refused-restore "esp4 did not load again"
exit $FAILED
