# VM tier helpers (sourced by tests/vm/run.sh; POSIX sh).
#
# vm_kernel      fetch Debian's cloud kernel once (apt-get download), unpack
#                it and keep only the modules IPsec tests load, under
#                tests/vm/cache/ (gitignored); sets VM_KDIR, VM_KVER.
# vm_initramfs   build a cpio archive: busybox, the real iproute2 `ip`, the
#                given programs with every shared library ldd names (ASan
#                builds pull libasan/libubsan in), the module subset, the
#                guest scripts, and /init (tests/vm/init.sh).
# vm_boot        boot it under qemu (TCG: a nested KVM guest hangs here)
#                with a time limit; the console goes to a file.
# vm_report      turn the console transcript into PASS/FAIL lines.
#
# The guest writes markers on its console: "VM-BEGIN name", then the
# script's own PASS/FAIL lines, then "VM-END name rc"; "VM-DONE" last.
# A script without VM-END, or with rc != 0 and no FAIL line, is a FAIL;
# a boot without VM-DONE is a FAIL.  Nothing is PASS unless the guest
# printed it.

VM_CACHE=${VM_CACHE:-tests/vm/cache}
VM_META=${VM_META:-linux-image-cloud-amd64}

vm_fail() {
	echo "FAIL $1: $2"
	return 1
}

# Module directories copied into the guest: ESP/AH, PF_KEY, XFRM netlink,
# veth, the bridge (the site scenario's hosts share one), and the crypto
# templates the kernel loads on demand (authenc, gcm, seqiv, echainiv,
# ghash...).
VM_MODDIRS="kernel/net/ipv4 kernel/net/ipv6 kernel/net/key kernel/net/xfrm
kernel/crypto kernel/lib kernel/arch/x86/crypto kernel/drivers/net/veth.ko
kernel/net/bridge/bridge.ko kernel/net/802/stp.ko kernel/net/llc/llc.ko"

vm_kernel_pkg() {
	apt-cache depends "$VM_META" 2>/dev/null |
	    sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' |
	    head -n 1
}

vm_kernel() {
	mkdir -p "$VM_CACHE" || { vm_fail vm-kernel "cannot create $VM_CACHE"; return 1; }
	if [ -f "$VM_CACHE/kernel/ok" ]; then
		VM_KDIR=$VM_CACHE/kernel
		VM_KVER=$(cat "$VM_KDIR/ok")
		missing=
		for d in $VM_MODDIRS; do
			[ -e "$VM_KDIR/lib/modules/$VM_KVER/$d" ] || missing="$missing $d"
		done
		[ -z "$missing" ] && return 0
		# A cache made before VM_MODDIRS grew: add what is missing in
		# place (other runs may be reading it; depmod renames its output).
		vm_kernel_add "$missing"
		return
	fi
	command -v apt-get >/dev/null || { vm_fail vm-kernel "apt-get not found: cannot fetch $VM_META"; return 1; }
	command -v depmod >/dev/null || { vm_fail vm-kernel "depmod not found (install kmod: tests/deps.sh)"; return 1; }
	# The meta package names the current ABI's image package.
	pkg=$(vm_kernel_pkg)
	# A fresh container has no package lists yet.
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		echo "vm: apt-get update (no package lists know $VM_META)"
		apt-get update -qq >/dev/null 2>&1
		pkg=$(vm_kernel_pkg)
	fi
	if [ -z "$pkg" ]; then
		vm_fail vm-kernel "apt-cache knows no $VM_META (run apt-get update?)"
		return 1
	fi
	tmp=$VM_CACHE/tmp.$$
	rm -rf "$tmp" && mkdir -p "$tmp/x" || return 1
	if ! (cd "$tmp" && apt-get download "$pkg" >download.log 2>&1); then
		sed 's/^/    /' "$tmp/download.log"
		rm -rf "$tmp"
		vm_fail vm-kernel "apt-get download $pkg failed"
		return 1
	fi
	if ! dpkg-deb -x "$tmp"/*.deb "$tmp/x"; then
		rm -rf "$tmp"
		vm_fail vm-kernel "dpkg-deb -x failed on $pkg"
		return 1
	fi
	kver=$(ls "$tmp/x/lib/modules" | head -n 1)
	out=$tmp/kernel
	mkdir -p "$out/lib/modules/$kver/kernel"
	cp "$tmp/x/boot/vmlinuz-$kver" "$out/vmlinuz" || return 1
	for d in $VM_MODDIRS; do
		[ -e "$tmp/x/lib/modules/$kver/$d" ] || continue
		mkdir -p "$out/lib/modules/$kver/$(dirname "$d")"
		cp -a "$tmp/x/lib/modules/$kver/$d" "$out/lib/modules/$kver/$d"
	done
	cp "$tmp/x/lib/modules/$kver/modules.builtin"* "$out/lib/modules/$kver/" 2>/dev/null
	cp "$tmp/x/lib/modules/$kver/modules.order" "$out/lib/modules/$kver/" 2>/dev/null
	if ! depmod -b "$out" "$kver" 2>"$tmp/depmod.log"; then
		cat "$tmp/depmod.log"
		rm -rf "$tmp"
		vm_fail vm-kernel "depmod -b failed"
		return 1
	fi
	echo "$kver" > "$out/ok"
	rm -rf "$VM_CACHE/kernel"
	mv "$out" "$VM_CACHE/kernel"
	rm -rf "$tmp"
	VM_KDIR=$VM_CACHE/kernel
	VM_KVER=$kver
	echo "vm: cached kernel $pkg ($kver) in $VM_KDIR"
}

# vm_kernel_add "DIR...": copy these module paths of the cached kernel's
# package into the cache and run depmod again.
vm_kernel_add() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/kinkvm-kadd.XXXXXX") || return 1
	pkg=linux-image-$VM_KVER
	if ! (cd "$tmp" && apt-get download "$pkg" >download.log 2>&1) ||
	    ! dpkg-deb -x "$tmp"/*.deb "$tmp/x"; then
		sed 's/^/    /' "$tmp/download.log"
		rm -rf "$tmp"
		vm_fail vm-kernel "cannot fetch $pkg for modules$1"
		return 1
	fi
	for d in $1; do
		src=$tmp/x/lib/modules/$VM_KVER/$d
		[ -e "$src" ] || { rm -rf "$tmp"; vm_fail vm-kernel "$pkg has no $d"; return 1; }
		mkdir -p "$VM_KDIR/lib/modules/$VM_KVER/$(dirname "$d")"
		cp -a "$src" "$VM_KDIR/lib/modules/$VM_KVER/$d" || { rm -rf "$tmp"; return 1; }
	done
	rm -rf "$tmp"
	depmod -b "$VM_KDIR" "$VM_KVER" || { vm_fail vm-kernel "depmod -b failed"; return 1; }
	echo "vm: added$1 to the cached kernel"
}

# Copy a program and its shared libraries (ldd's view) into root $1 (default /usr/bin, ahead of busybox in PATH).
vm_copy_prog() {
	root=$1 prog=$2 dest=${3:-/usr/bin/$(basename "$2")}
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$prog" "$root$dest" || return 1
	ldd "$prog" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' |
	while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# vm_initramfs OUT GUESTDIR PROG...: GUESTDIR holds the guest scripts
# (NNN-*.sh run in order by /init, guest.sh sourced by them); PROGs go to
# /usr/bin.  Extra files: VM_EXTRA="hostpath:guestpath ...";
# VM_PLUGINS: shared objects copied to the same path, with their libraries.
vm_initramfs() {
	out=$1 gdir=$2
	shift 2
	root=$(mktemp -d "${TMPDIR:-/tmp}/kinkvm.XXXXXX") || return 1
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
	    "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/run" \
	    "$root/etc" "$root/var" "$root/usr/lib/modules" "$root/usr/lib64" \
	    "$root/tests"
	# Merged /usr as on Debian 12: libverto finds its modules next to
	# itself, whichever of /lib or /usr/lib ldd named.
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	bb=$(command -v busybox) || { vm_fail vm-initramfs "busybox not found"; return 1; }
	cp "$bb" "$root/bin/busybox"
	vm_copy_prog "$root" "$(command -v ip)" /usr/sbin/ip ||
	    { vm_fail vm-initramfs "cannot copy iproute2 ip"; return 1; }
	for p in "$@"; do
		vm_copy_prog "$root" "$p" ||
		    { vm_fail vm-initramfs "cannot copy $p"; return 1; }
	done
	for p in ${VM_PLUGINS:-}; do	# same path in the guest
		vm_copy_prog "$root" "$p" "$p" ||
		    { vm_fail vm-initramfs "cannot copy $p"; return 1; }
	done
	for e in ${VM_EXTRA:-}; do
		mkdir -p "$root$(dirname "${e#*:}")"
		cp -a "${e%%:*}" "$root${e#*:}"
	done
	cp -a "$VM_KDIR/lib/modules/$VM_KVER" "$root/lib/modules/"
	cp "$gdir"/*.sh "$root/tests/"
	cp tests/vm/init.sh "$root/init"
	chmod 755 "$root/init"
	echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"
	echo "root:x:0:" > "$root/etc/group"
	printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
	(cd "$root" && find . | cpio -o -H newc --quiet) > "$out" ||
	    { rm -rf "$root"; vm_fail vm-initramfs "cpio failed"; return 1; }
	rm -rf "$root"
}

# vm_boot INITRD CONSOLE TIMEOUT [ONLY]: ONLY (space-separated script
# numbers) reaches /init through the kernel command line.  VM_INIT (the
# program the kernel starts, default /init), VM_APPEND (more kernel
# parameters) and VM_MEM (MiB, default 1024) serve the sysd tier.
vm_boot() {
	initrd=$1 console=$2 limit=$3 only=${4:-}
	# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
	# check can miss its ticks and panic ("IO-APIC + timer doesn't work").
	append="console=ttyS0 rdinit=${VM_INIT:-/init} panic=-1 quiet loglevel=3 no_timer_check"
	append="$append${VM_APPEND:+ $VM_APPEND}"
	[ -n "$only" ] && append="$append vm_only=$(echo "$only" | tr ' ' ,)"
	timeout -k 5 "$limit" qemu-system-x86_64 -accel tcg -m "${VM_MEM:-1024}" \
	    -smp "${VM_SMP:-2}" -nographic -no-reboot -nodefaults \
	    -serial stdio -monitor none \
	    -kernel "$VM_KDIR/vmlinuz" -initrd "$initrd" \
	    -append "$append" < /dev/null > "$console" 2>&1
}

# vm_report CONSOLE QEMU_RC: echo the transcript indented (so the tier
# harness does not count its lines twice), then the verdict lines.
vm_report() {
	console=$1 qrc=$2
	tr -d '\r' < "$console" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' > "$console.txt"
	sed 's/^/  | /' "$console.txt"
	rc=0
	awk '
	/^VM-BEGIN / { cur = $2; nfail = 0; next }
	/^VM-END / {
		if ($3 != 0 && nfail == 0)
			printf "FAIL %s: guest script exited %s without a FAIL line\n", $2, $3
		if ($3 != 0) bad = 1
		cur = ""; next
	}
	/^PASS / { print; next }
	/^FAIL / { print; nfail++; bad = 1; next }
	/^VM-DONE/ { done = 1 }
	END {
		if (cur != "") { printf "FAIL %s: guest stopped inside this script\n", cur; bad = 1 }
		if (!done) { print "FAIL vm-boot: the guest did not finish (no VM-DONE)"; bad = 1 }
		exit bad
	}' "$console.txt" || rc=1
	if [ "$qrc" = 124 ]; then
		echo "FAIL vm-timeout: qemu killed after the time limit"
		rc=1
	fi
	return $rc
}
