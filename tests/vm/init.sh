#!/bin/busybox sh
# /init of the VM tier's guest: mount the basics, make the kernel able to
# load crypto modules on demand, run /tests/NNN-*.sh in order between
# VM-BEGIN/VM-END markers, power off.
/bin/busybox --install -s /bin
# Real programs (/usr/bin, /usr/sbin) shadow the busybox applets.
export PATH=/usr/sbin:/usr/bin:/bin:/sbin
echo
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /var/run
ln -s /run /var/run 2>/dev/null
# Without a usermode helper the kernel cannot request "crypto-authenc(...)"
# and SA installs fail with "unable to initialize cryptographic operations".
echo /bin/modprobe > /proc/sys/kernel/modprobe
for m in veth af_key xfrm_user esp4 esp6; do
	modprobe "$m" || echo "vm-init: modprobe $m failed"
done
ip link set lo up
hostname kinkvm
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
only=$(sed -n 's/.*vm_only=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
cd /tests
for s in /tests/[0-9][0-9][0-9]-*.sh; do
	name=$(basename "$s" .sh)
	if [ -n "$only" ]; then
		case " $only " in *" ${name%%-*} "*) ;; *) continue ;; esac
	fi
	echo "VM-BEGIN $name"
	start=$(date +%s)
	sh "$s" 2>&1
	rc=$?
	echo "VM-END $name $rc $(( $(date +%s) - start ))s"
done
echo VM-DONE
sync
poweroff -f
