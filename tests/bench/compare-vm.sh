#!/bin/sh
# where=vm of tests/bench/compare.sh: one qemu boot of the VM tier's kernel
# (tests/vm/lib.sh) with an initramfs of its own: the VM tier's busybox,
# ip, KDC and realm helpers, the $B build of kinkd, kinkctl and the two
# bench drivers, charon and swanctl with the plugins they load, perf, and
# tests/bench/compare-guest.sh as the only script.  Prints the guest's
# "compare" and "profile" lines.  Not part of the VM tier or of make check.
#
#	VM_N=200 VM_ROUNDS=3 sh tests/bench/compare-vm.sh
set -u
: "${B:=build}"
: "${VM_TIMEOUT:=2400}"
: "${VM_N:=200}"
: "${VM_ROUNDS:=3}"
. tests/vm/lib.sh

for t in qemu-system-x86_64 cpio timeout ldd; do
	command -v "$t" >/dev/null ||
	    { echo "compare-vm: $t not found (tests/deps.sh installs it)"; exit 1; }
done
vm_kernel >/dev/null || exit 1
${MAKE:-make} -s B="$B" "$B/tests/kinkd-test" "$B/kinkctl" \
    "$B/tests/bench/bench_create" "$B/tests/bench/bench_vici" || exit 1

progs="$B/tests/kinkd-test $B/kinkctl $B/tests/bench/bench_create
$B/tests/bench/bench_vici $(command -v swanctl)"
for p in krb5kdc kdb5_util kadmin.local ss perf; do
	p=$(command -v "$p") && progs="$progs $p"
done
# charon and its plugins where swan.sh and charon look for them
plugins=/usr/lib/ipsec/charon
for p in random nonce openssl kdf pem pkcs1 x509 kernel-netlink \
    socket-default vici; do
	plugins="$plugins /usr/lib/ipsec/plugins/libstrongswan-$p.so"
done
VM_PLUGINS="$(ls /usr/lib/x86_64-linux-gnu/krb5/plugins/*/*.so \
    /usr/lib/x86_64-linux-gnu/libverto-*.so* 2>/dev/null) $plugins"
VM_EXTRA="tests/lib/realm.sh:/tests/realm.sh"
export VM_PLUGINS VM_EXTRA
work=$(mktemp -d "${TMPDIR:-/tmp}/kinkvm-compare.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/g"
cp tests/vm/guest.sh tests/vm/kinkd.sh tests/bench/swan.sh "$work/g/"
# the guest's /init runs NNN-*.sh; the parameters ride in the script
{ echo "VM_N=$VM_N VM_ROUNDS=$VM_ROUNDS SWAN_LOG=${SWAN_LOG:-0}"
  cat tests/bench/compare-guest.sh; } \
    > "$work/g/010-compare.sh"
vm_initramfs "$work/initrd" "$work/g" $progs || exit 1
echo "# vm: initramfs $(du -h "$work/initrd" | cut -f1), kernel $VM_KVER"
start=$(date +%s)
vm_boot "$work/initrd" "$work/console" "$VM_TIMEOUT"
qrc=$?
echo "# vm: guest ran $(( $(date +%s) - start ))s (qemu exit $qrc)"
tr -d '\r' < "$work/console" > "$work/console.txt"
grep -E '^(compare|profile|# |FAIL )' "$work/console.txt"
grep -q '^compare where=vm' "$work/console.txt" || {
	echo "compare-vm: no result; the console's end:"
	tail -n 30 "$work/console.txt" | sed 's/^/#   /'
	exit 1
}
