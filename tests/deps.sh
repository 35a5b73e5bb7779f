#!/bin/sh
# Debian 12 packages kinkd needs, by use; installs the missing ones (as
# root).  A second run does nothing.
#
#   sh tests/deps.sh            everything: build, tests, VM tier, package
#   sh tests/deps.sh runtime    what the installed kinkd needs to run
#   sh tests/deps.sh build      what "./autogen.sh && ./configure && make" needs
#   sh tests/deps.sh list WHICH print a list (runtime build test vm pkg)
set -eu

# The libraries kinkd and kinkctl link against (README names them).
RUNTIME="libkrb5-3 libk5crypto3 libevent-2.1-7 libbsd0 libssl3 libsystemd0 libseccomp2"
BUILD="make gcc libc6-dev autoconf pkg-config binutils libkrb5-dev \
libevent-dev libbsd-dev libssl-dev libsystemd-dev libseccomp-dev"
# Test tiers: a real KDC, namespaces, the docs checks, the fuzzers (clang).
TEST="krb5-kdc krb5-admin-server krb5-user valgrind iproute2 mandoc procps jq \
openssl libcap2-bin systemd groff-base faketime clang libclang-rt-14-dev \
bash-completion universal-ctags python3-jsonschema"
VM="qemu-system-x86 busybox-static cpio kmod"
# The package and sysd tiers: build the .deb, lint it, Debian roots to install
# it in (the sysd tier boots one with qemu: the VM list too).
PKG="dpkg-dev debhelper lintian mmdebstrap"

case ${1:-all} in
runtime) want=$RUNTIME ;;
build) want=$BUILD ;;
all) want="$RUNTIME $BUILD $TEST $VM $PKG" ;;
list)
	case ${2:-} in
	runtime) echo "$RUNTIME" ;; build) echo "$BUILD" ;; test) echo "$TEST" ;;
	vm) echo "$VM" ;; pkg) echo "$PKG" ;;
	*) echo "usage: deps.sh list runtime|build|test|vm|pkg" >&2; exit 2 ;;
	esac
	exit 0 ;;
*) echo "usage: deps.sh [runtime|build|all|list WHICH]" >&2; exit 2 ;;
esac

missing=
for p in $want; do
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
