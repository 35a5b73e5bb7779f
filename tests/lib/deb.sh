# Builds kinkd's Debian package from the tree, as an admin would build it
# (README): the pkg tier checks it, the sysd tier installs it in a guest.
#
#	. tests/lib/deb.sh
#	deb_build "$tmp" || { echo "$DEB_ERR"; ...; }
#
# deb_build WORK: copies what git tracks (or the whole tree outside git)
# without build output to WORK/src, so the build sees a clean clone and
# writes nothing here; runs dpkg-buildpackage -us -uc -b there (log in
# WORK/build.log); sets DEB and DEB_CHANGES (files in WORK).  On failure
# returns 1 with DEB_ERR saying why.  Run from the top of the tree.
deb_build() {
	_w=$1
	DEB= DEB_CHANGES= DEB_ERR=
	mkdir "$_w/src" || { DEB_ERR="cannot create $_w/src"; return 1; }
	if git rev-parse --git-dir >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard |
		    cpio -0pdm --quiet "$_w/src"
	else
		tar --exclude='./build*' --exclude=./tests/vm/cache -cf - . |
		    tar -C "$_w/src" -xf -
	fi
	# The unit tier runs in its own tier; here only the package is built.
	# As an admin builds it: "make check SAN=1" passes SAN=1 (and B) to
	# every make below it through the environment and MAKEFLAGS, and the
	# package would link libasan, which no installed system has.
	if ! (cd "$_w/src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    -u SAN -u B -u VALGRIND -u OPT -u CFLAGS DEB_BUILD_OPTIONS=nocheck \
	    nice dpkg-buildpackage -us -uc -b > "$_w/build.log" 2>&1); then
		DEB_ERR="dpkg-buildpackage failed: $(tail -n 5 "$_w/build.log" | tr '\n' ' ')"
		return 1
	fi
	DEB=$(ls "$_w"/kinkd_*_*.deb 2>/dev/null | head -n 1)
	DEB_CHANGES=$(ls "$_w"/kinkd_*.changes 2>/dev/null | head -n 1)
	if [ -z "$DEB" ] || [ -z "$DEB_CHANGES" ]; then
		DEB_ERR="no kinkd_*.deb / .changes in $(ls "$_w" | tr '\n' ' ')"
		return 1
	fi
}
