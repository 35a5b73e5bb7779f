#!/bin/sh
# Generates ./configure and config.h.in from configure.ac, as autoconf
# projects do in a clone (release tarballs ship them).  kinkd uses autoconf
# alone, no automake, so autoreconf is not needed: autoheader + autoconf.
set -e
cd "$(dirname "$0")"
for t in autoconf autoheader; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "autogen.sh: $t not found: apt-get install autoconf" >&2
		exit 1
	}
done
autoheader
autoconf
echo "autogen.sh: now run ./configure (e.g. --prefix=/usr --sysconfdir=/etc)"
