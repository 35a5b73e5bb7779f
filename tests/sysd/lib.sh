# sysd tier helpers (sourced by tests/sysd/run.sh after tests/vm/lib.sh).
#
# sysd_rootfs   a Debian 12 root filesystem (mmdebstrap) with systemd, a
#               KDC and the libraries the package needs, cached in
#               $VM_CACHE as a cpio archive whose name carries a hash of
#               the recipe, so a changed package list builds a new one;
#               sets SYSD_ROOTFS.  The guest boots it as its initramfs;
#               the files of one run go into a second, small archive
#               appended to it (the kernel unpacks both, in order).

# What the guest needs: systemd as PID 1 and its tools, modprobe for the
# kernel's on-demand crypto modules, ip/ping for the two hosts, one MIT
# KDC (kadmin.local is in krb5-admin-server) and krb5-user's kinit/klist
# for an admin's checks.  The kinkd package's own dependencies are only
# installed here so that "apt-get install ./kinkd.deb" works offline.
SYSD_PKGS="systemd kmod iproute2 iputils-ping procps krb5-kdc \
krb5-admin-server krb5-user libkrb5-3 libk5crypto3 libgssapi-krb5-2 \
libevent-2.1-7 libbsd0 libssl3 libsystemd0"
# Documentation and translations only make the guest's memory image larger.
SYSD_DPKGOPT="--dpkgopt=path-exclude=/usr/share/man/* \
--dpkgopt=path-exclude=/usr/share/locale/* \
--dpkgopt=path-exclude=/usr/share/info/* \
--dpkgopt=path-exclude=/usr/share/doc/* \
--dpkgopt=path-include=/usr/share/doc/*/copyright"

sysd_rootfs() {
	h=$(echo "bookworm apt $SYSD_PKGS $SYSD_DPKGOPT" | sha256sum | cut -c1-12)
	SYSD_ROOTFS=$VM_CACHE/sysdroot-bookworm-$h.cpio
	[ -s "$SYSD_ROOTFS" ] && return 0
	command -v mmdebstrap > /dev/null ||
	    { vm_fail sysd-rootfs "mmdebstrap not installed (tests/deps.sh)"; return 1; }
	mkdir -p "$VM_CACHE" || return 1
	d=$VM_CACHE/sysdroot.tmp.$$
	rm -rf "$d"
	echo "sysd: building $SYSD_ROOTFS with mmdebstrap (once)"
	# shellcheck disable=SC2086
	if ! mmdebstrap --variant=apt --format=directory $SYSD_DPKGOPT \
	    --include="$(echo $SYSD_PKGS | tr ' ' ,)" \
	    bookworm "$d" > "$d.log" 2>&1; then
		tail -n 20 "$d.log" | sed 's/^/    /'
		rm -rf "$d" "$d.log"
		vm_fail sysd-rootfs "mmdebstrap failed"
		return 1
	fi
	sysd_cpio "$d" "$SYSD_ROOTFS.tmp" &&
	    mv "$SYSD_ROOTFS.tmp" "$SYSD_ROOTFS"
	rc=$?
	rm -rf "$d" "$d.log" "$SYSD_ROOTFS.tmp"
	[ $rc -eq 0 ] || vm_fail sysd-rootfs "cpio of the root failed"
}

# sysd_cpio DIR OUT: DIR's tree as an uncompressed newc archive (the
# kernel unpacks it faster than TCG decompresses anything).
sysd_cpio() {
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$2"
}
