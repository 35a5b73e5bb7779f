#!/bin/sh
# Debian 12 packages kinkd needs, by use; installs the missing ones (as
# root).  A second run does nothing.
#
#   sh tests/deps.sh            everything: build, tests, VM tier, package
#   sh tests/deps.sh runtime    what the installed kinkd needs to run
#   sh tests/deps.sh build      what "./autogen.sh && ./configure && make" needs
#   sh tests/deps.sh bench      the comparison bench only (strongSwan, strace):
#                               never part of "all", so CI never installs it
#   sh tests/deps.sh list WHICH print a list (runtime build test vm pkg bench)
set -eu

# The libraries kinkd and kinkctl link against (README names them).
RUNTIME="libkrb5-3 libk5crypto3 libevent-2.1-7 libbsd0 libssl3 libsystemd0 libseccomp2"
BUILD="make gcc libc6-dev autoconf pkg-config binutils libkrb5-dev \
libevent-dev libbsd-dev libssl-dev libsystemd-dev libseccomp-dev"
# The Heimdal build (./configure --with-krb5=heimdal, make KRB5=heimdal;
# the heimdal tier): headers and libraries beside MIT's, no conflict.
BUILD="$BUILD heimdal-multidev"
# The Heimdal KDC of tests/lib/realm_heimdal.sh: heimdal-kdc conflicts with
# krb5-kdc, so the test unpacks it (apt-get download); these are the shared
# libraries its kdc and kadmin need, which install beside MIT's.
HEIMDAL_KDC_LIBS="libasn1-8-heimdal libgssapi3-heimdal libhcrypto5-heimdal \
libhdb9-heimdal libheimbase1-heimdal libheimntlm0-heimdal libhx509-5-heimdal \
libkadm5clnt7-heimdal libkadm5srv8-heimdal libkdc2-heimdal libkrb5-26-heimdal \
libroken19-heimdal libsl0-heimdal libwind0-heimdal libcap-ng0 libedit2"
# Test tiers: a real KDC, a DNS server, namespaces, the docs checks, the fuzzers (clang);
# Samba's AD DC as a second KDC (tests/lib/realm_ad.sh: provisioning needs
# the templates in samba-ad-provision and the sysvol ACL module in
# samba-vfs-modules; no winbind).
TEST="krb5-kdc krb5-admin-server krb5-user valgrind iproute2 mandoc procps jq \
openssl libcap2-bin systemd groff-base faketime clang libclang-rt-14-dev \
bash-completion universal-ctags python3-jsonschema dnsmasq-base \
samba samba-ad-provision samba-dsdb-modules samba-vfs-modules \
$HEIMDAL_KDC_LIBS"
VM="qemu-system-x86 busybox-static cpio kmod"
# The package and sysd tiers: build the .deb, lint it, Debian roots to install
# it in (the sysd tier boots one with qemu: the VM list too).
PKG="dpkg-dev debhelper lintian mmdebstrap"
# tests/bench/compare.sh and syscalls.sh: strongSwan's charon and swanctl,
# kernel-libipsec (in the extra plugins) so charon needs no kernel ESP, its
# OpenSSL crypto plugin (the standard plugins) as Debian installs it, strace.
# The starter's services stay masked: the bench runs charon by hand.
BENCH="strongswan-charon strongswan-swanctl libcharon-extra-plugins \
libstrongswan-standard-plugins strace"

case ${1:-all} in
runtime) want=$RUNTIME ;;
build) want=$BUILD ;;
all) want="$RUNTIME $BUILD $TEST $VM $PKG" ;;
bench) want=$BENCH ;;
list)
	case ${2:-} in
	runtime) echo "$RUNTIME" ;; build) echo "$BUILD" ;; test) echo "$TEST" ;;
	vm) echo "$VM" ;; pkg) echo "$PKG" ;; bench) echo "$BENCH" ;;
	*) echo "usage: deps.sh list runtime|build|test|vm|pkg|bench" >&2; exit 2 ;;
	esac
	exit 0 ;;
*) echo "usage: deps.sh [runtime|build|all|bench|list WHICH]" >&2; exit 2 ;;
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
if [ "${1:-all}" = bench ] && command -v systemctl >/dev/null; then
	# charon must never run as a service here: it would take UDP 500/4500
	# and the host's XFRM state away from the test tiers
	systemctl mask --now strongswan-starter.service strongswan.service \
	    ipsec.service >/dev/null 2>&1 || true
fi
