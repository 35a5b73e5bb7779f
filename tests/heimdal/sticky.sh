#!/bin/sh
# A tree configured with --with-krb5=heimdal stays Heimdal when make runs
# configure again (configure newer than config.mk, as after configure.ac
# changed): the Makefile re-runs it through config.status --recheck, with
# the first run's arguments (--sysconfdir is checked as well).  On a copy
# of what configure needs, not on this tree's own configuration.
set -u
d=$(mktemp -d "${TMPDIR:-/tmp}/kinkd-sticky.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
cp configure config.mk.in config.h.in Makefile "$d"/ && mkdir "$d/src" &&
    : > "$d/src/buf.c" || { echo "FAIL heimdal/sticky: copy"; exit 1; }
cd "$d" || exit 1
if ! ./configure -q --with-krb5=heimdal --sysconfdir=/etc/kinkd-sticky \
    > configure.out 2>&1; then
	echo "FAIL heimdal/sticky: configure --with-krb5=heimdal: $(tail -n 3 configure.out)"
	exit 1
fi
touch -d 2000-01-01 config.mk config.h
${MAKE:-make} -s config.mk > make.out 2>&1
k=$(sed -n 's/^KRB5_DEFAULT = //p' config.mk)
s=$(sed -n 's/^sysconfdir = //p' config.mk)
if [ "$k" = heimdal ] && [ "$s" = /etc/kinkd-sticky ] &&
    [ config.mk -nt configure ]; then
	echo "PASS heimdal/sticky"
else
	echo "FAIL heimdal/sticky: after make re-ran configure: KRB5_DEFAULT '$k', sysconfdir '$s': $(tail -n 3 make.out)"
	exit 1
fi
