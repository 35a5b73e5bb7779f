#!/bin/sh
# Package tier: the Debian package as an admin meets it.
#  - dpkg-buildpackage -us -uc -b on a copy of the tree builds kinkd_*.deb;
#    lintian reports no error;
#  - it is built without the sanitizers also under "make check SAN=1";
#  - the package holds the programs, the man pages, the unit, the sysusers
#    entry, the bash completion and the docs; /etc/kinkd.conf is its only
#    conffile;
#  - in a Debian 12 root filesystem (mmdebstrap, cached in tests/vm/cache/
#    like the VM tier's kernel) dpkg installs it: the maintainer scripts
#    create _kinkd, the unit is installed but not enabled, the installed
#    kinkd accepts the installed kinkd.conf; an upgrade keeps the admin's
#    edited kinkd.conf and the unit's enablement; remove keeps kinkd.conf;
#    purge removes it and the unit's enablement.
# Prints PASS/FAIL lines; exits 1 if any failed.  Environment:
# PKG_CACHE (default tests/vm/cache), PKG_KEEP=1 keeps the work directory.
set -u
top=$(pwd)
cache=${PKG_CACHE:-$top/tests/vm/cache}
fails=0
tmp=$(mktemp -d /tmp/kinkd-pkg.XXXXXX) || exit 1
root=$tmp/root
cleanup() {
	for m in proc; do
		mountpoint -q "$root/$m" 2>/dev/null && umount "$root/$m"
	done
	[ -n "${PKG_KEEP:-}" ] && { echo "kept $tmp"; return; }
	rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
finish() { [ "$fails" -eq 0 ]; exit $?; }

for t in dpkg-buildpackage lintian mmdebstrap; do
	if ! command -v "$t" >/dev/null 2>&1; then
		fail pkg-tools "$t not installed (sh tests/deps.sh installs it)"
		finish
	fi
done

# --- build -----------------------------------------------------------
. tests/lib/deb.sh
if deb_build "$tmp"; then
	pass pkg-build
else
	case $DEB_ERR in
	dpkg-buildpackage*) fail pkg-build "$DEB_ERR"; finish ;;
	esac
fi
# README's "./autogen.sh; ./configure; make" ran in the build (debian/rules):
# make built the programs and nothing for the tests.
if [ -x "$tmp/src/build/kinkd" ] && [ -x "$tmp/src/build/kinkctl" ] &&
    [ ! -e "$tmp/src/build/tests" ]; then
	pass pkg-make-programs-only
else
	fail pkg-make-programs-only "build/: $(ls "$tmp/src/build" 2>&1 | tr '\n' ' ')"
fi
if [ -n "$DEB_ERR" ]; then
	fail pkg-build "$DEB_ERR"
	finish
fi
deb=$DEB
changes=$DEB_CHANGES

lintian --no-tag-display-limit "$changes" > "$tmp/lintian.out" 2>&1
if grep -q '^E: ' "$tmp/lintian.out"; then
	fail pkg-lintian "$(grep '^E: ' "$tmp/lintian.out" | head -n 5 | tr '\n' ' ')"
else
	pass pkg-lintian
	w=$(grep -c '^W: ' "$tmp/lintian.out")
	[ "$w" -eq 0 ] || echo "lintian warnings: $w"
	grep '^W: ' "$tmp/lintian.out" | head -n 10
fi

# --- contents --------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' > "$tmp/contents"
missing=
for f in /usr/sbin/kinkd /usr/sbin/kinkctl \
    /usr/share/man/man8/kinkd.8.gz /usr/share/man/man8/kinkctl.8.gz \
    /usr/share/man/man5/kinkd.conf.5.gz /lib/systemd/system/kinkd.service \
    /usr/lib/sysusers.d/kinkd.conf /etc/kinkd.conf \
    /usr/share/bash-completion/completions/kinkctl \
    /usr/share/kinkd/kinkctl.schema.json \
    /usr/share/doc/kinkd/copyright /usr/share/doc/kinkd/README.gz \
    /usr/share/doc/kinkd/examples/kinkd.conf; do
	grep -qx "$f" "$tmp/contents" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass pkg-contents
else
	fail pkg-contents "missing:$missing"
fi
# Nothing built for the tests ends up in the package.
if grep -E 'kinkd-test|/tests/' "$tmp/contents" >/dev/null; then
	fail pkg-no-test-files "$(grep -E 'kinkd-test|/tests/' "$tmp/contents" | tr '\n' ' ')"
else
	pass pkg-no-test-files
fi
# Built as an admin builds it, also under "make check SAN=1".
if dpkg-deb -f "$deb" Depends | grep -qE 'libasan|libubsan'; then
	fail pkg-no-sanitizer "Depends: $(dpkg-deb -f "$deb" Depends)"
else
	pass pkg-no-sanitizer
fi
dpkg-deb -e "$deb" "$tmp/ctrl"
if [ "$(cat "$tmp/ctrl/conffiles" 2>/dev/null)" = /etc/kinkd.conf ]; then
	pass pkg-conffiles
else
	fail pkg-conffiles "conffiles: $(tr '\n' ' ' < "$tmp/ctrl/conffiles" 2>/dev/null)"
fi

# --- install, upgrade, remove, purge in a Debian 12 root --------------
if [ "$(id -u)" != 0 ]; then
	fail pkg-root "installing into a root filesystem needs root"
	finish
fi
rootfs=$cache/pkgroot-bookworm.tar
# mmdebstrap picks its output format from the name: the partial file ends
# in .tar too, or it would become a directory.
part=$cache/pkgroot-bookworm.part.tar
if [ ! -f "$rootfs" ] || [ ! -s "$rootfs" ]; then
	rm -rf "$rootfs" "$part"
	mkdir -p "$cache"
	echo "pkg: building $rootfs with mmdebstrap (once)"
	if ! mmdebstrap --variant=apt \
	    --include=systemd,libkrb5-3,libevent-2.1-7,libbsd0,libssl3 \
	    bookworm "$part" > "$tmp/mmdebstrap.log" 2>&1 || [ ! -f "$part" ]; then
		fail pkg-rootfs "mmdebstrap failed: $(tail -n 3 "$tmp/mmdebstrap.log" | tr '\n' ' ')"
		rm -rf "$part"
		finish
	fi
	mv "$part" "$rootfs"
fi
mkdir "$root"
tar -C "$root" -xf "$rootfs" || { fail pkg-rootfs "cannot unpack $rootfs"; finish; }
mount -t proc proc "$root/proc" || { fail pkg-rootfs "cannot mount proc"; finish; }
in_root() { chroot "$root" "$@"; }

cp "$deb" "$root/tmp/kinkd.deb"
if in_root dpkg -i /tmp/kinkd.deb > "$tmp/install.log" 2>&1; then
	pass pkg-install
else
	fail pkg-install "dpkg -i: $(tail -n 5 "$tmp/install.log" | tr '\n' ' ')"
	finish
fi
if in_root getent passwd _kinkd > "$tmp/pw" &&
    grep -q '/usr/sbin/nologin$' "$tmp/pw"; then
	pass pkg-user-created
else
	fail pkg-user-created "no _kinkd with nologin after install: $(cat "$tmp/pw")"
fi
wants=$root/etc/systemd/system/multi-user.target.wants/kinkd.service
if [ ! -e "$wants" ] && [ ! -L "$wants" ]; then
	pass pkg-not-enabled
else
	fail pkg-not-enabled "kinkd.service enabled on installation"
fi
# Fresh from the package there is no keytab: the unit's check (kinkd -n
# -S) fails naming it, and nothing else in the file.
in_root /usr/sbin/kinkd -n -S -f /etc/kinkd.conf > "$tmp/n0.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] &&
    grep -q '^kinkd: keytab /etc/kinkd.keytab: cannot read it: ' "$tmp/n0.out" &&
    ! grep -q ':[0-9]*:[0-9]*: ' "$tmp/n0.out"; then
	pass pkg-fresh-names-keytab
else
	fail pkg-fresh-names-keytab "kinkd -n exited $rc: $(tail -n 3 "$tmp/n0.out" | tr '\n' ' ')"
fi
# The admin adds the host's key (here made by ktutil for the example's
# principal), readable by _kinkd: the installed kinkd accepts the
# installed kinkd.conf, strict privileges included (_kinkd can take over).
princ=$(in_root /usr/sbin/kinkd -nv -f /etc/kinkd.conf 2>/dev/null |
    sed -n 's/^set principal "\(.*\)"$/\1/p')
printf 'addent -password -p %s -k 2 -e aes256-cts-hmac-sha1-96\nkink-pkg\nwkt %s\n' \
    "$princ" "$tmp/host.keytab" | ktutil > "$tmp/ktutil.out" 2>&1
cp "$tmp/host.keytab" "$root/etc/kinkd.keytab" 2>/dev/null
in_root chgrp _kinkd /etc/kinkd.keytab 2>/dev/null
chmod 0640 "$root/etc/kinkd.keytab" 2>/dev/null
if in_root /usr/sbin/kinkd -n -S -f /etc/kinkd.conf > "$tmp/n.out" 2>&1 &&
    grep -q "^keytab /etc/kinkd.keytab: $princ kvno 2 aes256-cts-hmac-sha1-96$" "$tmp/n.out"; then
	pass pkg-installed-config-ok
else
	fail pkg-installed-config-ok "kinkd -n -S: $(tail -n 3 "$tmp/n.out" | tr '\n' ' ')"
fi
rm -f "$root/etc/kinkd.keytab"

# The admin edits the config and enables the service; then an upgrade
# (the same package under a higher version) arrives.
echo "# edited by the admin" >> "$root/etc/kinkd.conf"
in_root systemctl enable kinkd.service > "$tmp/enable.log" 2>&1 ||
    fail pkg-enable "systemctl enable: $(tr '\n' ' ' < "$tmp/enable.log")"
dpkg-deb -R "$deb" "$tmp/v2"
sed -i 's/^Version: .*/&+upgrade1/' "$tmp/v2/DEBIAN/control"
dpkg-deb -b "$tmp/v2" "$root/tmp/kinkd2.deb" > /dev/null
if in_root dpkg -i /tmp/kinkd2.deb > "$tmp/upgrade.log" 2>&1; then
	pass pkg-upgrade
else
	fail pkg-upgrade "dpkg -i: $(tail -n 5 "$tmp/upgrade.log" | tr '\n' ' ')"
fi
if grep -q '^# edited by the admin$' "$root/etc/kinkd.conf" &&
    [ ! -e "$root/etc/kinkd.conf.dpkg-new" ]; then
	pass pkg-upgrade-keeps-config
else
	fail pkg-upgrade-keeps-config "the admin's kinkd.conf was replaced"
fi
if [ -L "$wants" ]; then
	pass pkg-upgrade-keeps-enabled
else
	fail pkg-upgrade-keeps-enabled "kinkd.service no longer enabled"
fi

if in_root dpkg -r kinkd > "$tmp/remove.log" 2>&1 &&
    [ ! -e "$root/usr/sbin/kinkd" ] && [ -f "$root/etc/kinkd.conf" ]; then
	pass pkg-remove-keeps-config
else
	fail pkg-remove-keeps-config "after dpkg -r: kinkd $(ls "$root/usr/sbin/kinkd" 2>&1), conf $(ls "$root/etc/kinkd.conf" 2>&1)"
fi
if in_root dpkg -P kinkd > "$tmp/purge.log" 2>&1 &&
    [ ! -e "$root/etc/kinkd.conf" ] && [ ! -e "$wants" ] && [ ! -L "$wants" ]; then
	pass pkg-purge
else
	fail pkg-purge "after dpkg -P: conf $(ls "$root/etc/kinkd.conf" 2>&1), wants $(ls -l "$wants" 2>&1)"
fi
finish
