#!/bin/sh
# VM tier: a real Linux kernel (Debian's cloud image, which has af_key,
# esp4/esp6, xfrm_user and veth as modules) booted under qemu TCG with an
# initramfs holding busybox, iproute2's ip, the project's binaries from $B
# and the guest scripts tests/vm/NNN-*.sh.  One boot runs every script;
# the guest prints PASS/FAIL lines on the console, which are the results.
#
# Environment: B (build dir), VM_ONLY="010 020" (those scripts only),
# VM_TIMEOUT (seconds for the whole boot), VM_KEEP=1 (keep console log).
set -u
: "${B:=build}"
: "${VM_TIMEOUT:=1800}"
. tests/vm/lib.sh

for t in qemu-system-x86_64 cpio timeout ldd; do
	command -v "$t" >/dev/null ||
	    { echo "FAIL vm-tools: $t not found (tests/deps.sh installs it)"; exit 1; }
done
vm_kernel || exit 1

progs=
for p in "$B"/tests/vm/test_* "$B"/kinkd "$B"/tests/kinkd-test "$B"/kinkctl; do
	[ -x "$p" ] && progs="$progs $p"
done
# The KDC side for the kinkd scenarios (tests/lib/realm.sh in the guest),
# with the database plugin kdb5_util and krb5kdc load at run time; the
# site scenario's DNS server (tests/lib/dns.sh).
for p in krb5kdc kdb5_util kadmin.local ss dnsmasq; do
	p=$(command -v "$p") && progs="$progs $p"
done
# libverto picks its event-loop module at run time, as dlopen()s.
VM_PLUGINS=$(ls /usr/lib/x86_64-linux-gnu/krb5/plugins/*/*.so \
    /usr/lib/x86_64-linux-gnu/libverto-*.so* 2>/dev/null)
VM_EXTRA="tests/lib/realm.sh:/tests/realm.sh tests/lib/dns.sh:/tests/dns.sh etc/kinkd.conf:/etc/kinkd.conf"
export VM_PLUGINS VM_EXTRA
work=$(mktemp -d "${TMPDIR:-/tmp}/kinkvm-run.XXXXXX")
vm_initramfs "$work/initrd" tests/vm $progs || exit 1
echo "vm: initramfs $(du -h "$work/initrd" | cut -f1), kernel $VM_KVER"
start=$(date +%s)
vm_boot "$work/initrd" "$work/console" "$VM_TIMEOUT" "${VM_ONLY:-}"
qrc=$?
echo "vm: guest ran $(( $(date +%s) - start ))s (qemu exit $qrc)"
vm_report "$work/console" "$qrc"
rc=$?
if [ "${VM_KEEP:-}" = 1 ]; then
	echo "vm: console in $work/console.txt"
	rm -f "$work/initrd"
else
	rm -rf "$work"
fi
exit $rc
