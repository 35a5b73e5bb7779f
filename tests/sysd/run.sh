#!/bin/sh
# sysd tier: kinkd as an admin runs it, under systemd.  A Debian 12 guest
# (root filesystem from Debian's packages, tests/sysd/lib.sh) boots with
# systemd as PID 1 under the VM tier's qemu and kernel; the kinkd package
# built from this tree (tests/lib/deb.sh, as the pkg tier builds it) is
# installed with apt, and the scenarios tests/sysd/NNN-*.sh run in order
# from a unit, printing PASS/FAIL lines on the console like the VM tier.
#
# The whole root is the initramfs and systemd its /init: no block device,
# file system or module is needed to reach it, and the kernel unpacks an
# uncompressed archive in a few seconds even under TCG.  The cached root
# archive is followed by a small one with this run's files (the package,
# the kernel's modules, the scenarios and the unit that runs them).
#
# Environment: SYSD_ONLY="010 030" (those scripts only; 010 installs the
# package and 020 makes the realm, later ones need them), SYSD_TIMEOUT
# (seconds for the whole boot), SYSD_KEEP=1 (keep the console log).
set -u
: "${SYSD_TIMEOUT:=600}"
. tests/vm/lib.sh
. tests/sysd/lib.sh
. tests/lib/deb.sh

for t in qemu-system-x86_64 cpio timeout dpkg-buildpackage mmdebstrap; do
	command -v "$t" >/dev/null ||
	    { echo "FAIL sysd-tools: $t not found (tests/deps.sh installs it)"; exit 1; }
done
[ "$(id -u)" = 0 ] ||
    { echo "FAIL sysd-root: building the guest's root needs root"; exit 1; }
vm_kernel || exit 1
sysd_rootfs || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/kinksysd.XXXXXX") || exit 1
cleanup() {
	if [ "${SYSD_KEEP:-}" = 1 ]; then
		echo "sysd: console in $work/console.txt"
		rm -rf "$work/initrd" "$work/src" "$work/over"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

start=$(date +%s)
if ! deb_build "$work"; then
	echo "FAIL sysd-deb: $DEB_ERR"
	exit 1
fi
echo "sysd: built $(basename "$DEB") in $(( $(date +%s) - start ))s"

# This run's files.  Only paths under usr/ for the merged /usr: an entry
# "lib" in this archive would replace the root's lib -> usr/lib link.
o=$work/over
mkdir -p "$o/usr/lib/modules" "$o/srv" "$o/tests" \
    "$o/etc/systemd/system/multi-user.target.wants"
cp -a "$VM_KDIR/lib/modules/$VM_KVER" "$o/usr/lib/modules/"
cp "$DEB" "$o/srv/kinkd.deb"
cp tests/sysd/[0-9][0-9][0-9]-*.sh tests/sysd/guest.sh tests/sysd/common.sh \
    "$o/tests/"
cat > "$o/etc/systemd/system/sysd-test.service" <<EOU
[Unit]
Description=kinkd sysd tier scenarios
After=multi-user.target

[Service]
Type=simple
ExecStart=/bin/sh /tests/guest.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
EOU
ln -s ../sysd-test.service "$o/etc/systemd/system/multi-user.target.wants/"
# No one logs in; kadmind is not needed (kadmin.local works on the
# database directly); timers would only start work under test.
for u in getty@.service serial-getty@.service krb5-admin-server.service \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
    fstrim.timer e2scrub_all.timer systemd-pstore.service; do
	ln -s /dev/null "$o/etc/systemd/system/$u"
done
echo kinksysd > "$o/etc/hostname"
sysd_cpio "$o" "$work/over.cpio" || { echo "FAIL sysd-initramfs: cpio failed"; exit 1; }
cat "$SYSD_ROOTFS" "$work/over.cpio" > "$work/initrd" ||
    { echo "FAIL sysd-initramfs: cannot write $work/initrd"; exit 1; }
echo "sysd: initramfs $(du -h "$work/initrd" | cut -f1), kernel $VM_KVER"

start=$(date +%s)
# The guest's root is in its memory: 2 GiB holds it unpacked next to the
# archive until the kernel frees that.
VM_INIT=/lib/systemd/systemd VM_MEM=${SYSD_MEM:-2048} \
VM_APPEND="systemd.show_status=0 systemd.log_level=warning" \
    vm_boot "$work/initrd" "$work/console" "$SYSD_TIMEOUT" "${SYSD_ONLY:-}"
qrc=$?
echo "sysd: guest ran $(( $(date +%s) - start ))s (qemu exit $qrc)"
vm_report "$work/console" "$qrc"
