#!/bin/sh
# Install what kinkd needs to build and to run every test tier, on Debian 12
# as root.  Only missing packages are installed; a second run does nothing.
set -eu

BUILD="make gcc libc6-dev autoconf pkg-config binutils libkrb5-dev \
libevent-dev libbsd-dev libssl-dev clang libclang-rt-14-dev"
TEST="krb5-kdc krb5-admin-server krb5-user valgrind iproute2 mandoc procps jq openssl \
libcap2-bin systemd groff-base faketime universal-ctags"
VM="qemu-system-x86 busybox-static cpio kmod"

missing=
for p in $BUILD $TEST $VM; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The KDC packages' postinst would start system daemons; tests run their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -q --no-install-recommends $missing
