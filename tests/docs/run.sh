#!/bin/sh
# Docs tier: the files a package ships.
#  - man pages: mandoc -Tlint clean; every keyword of the conf lexer's
#    table (tests/tools/conf_keywords) is an .Ic of a tagged list item in
#    kinkd.conf.5; every kinkctl command of its token tables
#    (tests/tools/ctl_commands) has a list item in kinkctl.8 whose .Cm words
#    hold all its keywords; every option in kinkd's and kinkctl's usage
#    text is documented; every monitor event type is listed.
#  - make install into a DESTDIR: the layout, the installed kinkd -n
#    accepting the installed example, a second install keeping an edited
#    kinkd.conf, the unit passing systemd-analyze verify, uninstall.
# Prints PASS/FAIL lines; exits 1 if any failed.  Environment: B, MAKE.
set -u
: "${B:=build}"
: "${MAKE:=make}"
top=$(pwd)
fails=0
tmp=$(mktemp -d /tmp/kinkd-docs.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }

# mandoc -Tlint, every level (style included), minus what depends on the
# machine rather than the page: whether referenced pages are installed and
# whether the system's mandoc.db is current.
lint() {
	mandoc -Tlint "$1" 2>&1 |
	    grep -v -e 'referenced manual not found' -e 'mandoc\.db'
}

# items MACRO FILE: one line per item of a ".Bl -tag" list (nested ones
# too), holding the words that follow MACRO on the .It line and on the
# lines of an ".It Xo" ... ".Xc" block.  A word is in MACRO's scope until
# the next macro name (Ar, Op, No, ...).
items() {
	awk -v kind="$1" '
	function scan(first,    i, w) {
		for (i = first; i <= NF; i++) {
			w = $i
			if (i == 1)
				sub(/^\./, "", w)
			if (w == kind) {
				inscope = 1
				continue
			}
			if (w ~ /^[A-Z][a-z][a-z]?$/) {
				inscope = 0
				continue
			}
			if (inscope)
				line = line " " w
		}
	}
	function flush() {
		if (open)
			print substr(line, 2)
		open = 0
		line = ""
	}
	/^\.\\"/ { next }
	/^\.Bl/ { flush(); tag[++sp] = ($0 ~ /-tag/); next }
	/^\.El/ { flush(); if (sp > 0) sp--; next }
	/^\.It/ {
		flush()
		if (sp == 0 || !tag[sp])
			next
		open = 1
		inscope = 0
		scan(2)
		xo = ($0 ~ / Xo$/)
		if (!xo)
			flush()
		next
	}
	xo && /^\.Xc/ { xo = 0; flush(); next }
	xo && /^\./ { inscope = 0; scan(1); next }
	END { flush() }
	' "$2"
}

# --- the pages --------------------------------------------------------
for m in man/kinkd.8 man/kinkd.conf.5 man/kinkctl.8; do
	name=lint-$(basename "$m")
	if [ ! -f "$m" ]; then
		fail "$name" "$m missing"
	elif ! command -v mandoc >/dev/null; then
		fail "$name" "mandoc not installed (tests/deps.sh)"
	elif out=$(lint "$m") && [ -n "$out" ]; then
		fail "$name" "$(echo "$out" | head -n 5 | tr '\n' ' ')"
	else
		pass "$name"
	fi
	# man(1) on Debian renders with groff: its warnings too.
	name=groff-$(basename "$m")
	if [ ! -f "$m" ]; then
		fail "$name" "$m missing"
	elif ! command -v groff >/dev/null; then
		fail "$name" "groff not installed (tests/deps.sh: groff-base)"
	elif out=$(groff -mdoc -Tutf8 -ww -z "$m" 2>&1) && [ -n "$out" ]; then
		fail "$name" "$(echo "$out" | head -n 5 | tr '\n' ' ')"
	else
		pass "$name"
	fi
done

# Each conf keyword as an .Ic word of a tagged item.
tool=$B/tests/tools/conf_keywords
if [ ! -x "$tool" ]; then
	fail conf-keywords-documented "$tool not built"
elif ! "$tool" > "$tmp/kw" || [ "$(wc -l < "$tmp/kw")" -lt 40 ]; then
	fail conf-keywords-documented "$tool printed $(wc -l < "$tmp/kw") keywords"
else
	items Ic man/kinkd.conf.5 | tr ' ' '\n' | sort -u > "$tmp/ic"
	missing=$(sort -u "$tmp/kw" | comm -23 - "$tmp/ic" | tr '\n' ' ')
	if [ -n "$missing" ]; then
		fail conf-keywords-documented "not an .Ic list item in kinkd.conf.5: $missing"
	else
		pass conf-keywords-documented
	fi
fi

# Each kinkctl command: one item whose .Cm words hold all its keywords.
tool=$B/tests/tools/ctl_commands
if [ ! -x "$tool" ]; then
	fail ctl-commands-documented "$tool not built"
elif ! "$tool" > "$tmp/cmds" || [ "$(sort -u "$tmp/cmds" | wc -l)" -lt 10 ]; then
	fail ctl-commands-documented "$tool printed $(sort -u "$tmp/cmds" | wc -l) commands"
else
	items Cm man/kinkctl.8 > "$tmp/cm"
	missing=$(sort -u "$tmp/cmds" | while read -r cmd; do
		awk -v cmd="$cmd" '
		BEGIN { n = split(cmd, want, " ") }
		{
			delete have
			for (i = 1; i <= NF; i++)
				have[$i] = 1
			ok = 1
			for (i = 1; i <= n; i++)
				if (!(want[i] in have))
					ok = 0
			if (ok)
				found = 1
		}
		END { exit !found }' "$tmp/cm" || printf '"%s" ' "$cmd"
	done)
	if [ -n "$missing" ]; then
		fail ctl-commands-documented "no .It Cm item in kinkctl.8 for: $missing"
	else
		pass ctl-commands-documented
	fi
fi

# Options: the letters of the usage text the real binaries print.
usage_flags() {
	"$@" 2>&1 | grep -o -- '\[-[A-Za-z]\+\|[[ ]-[A-Za-z]\( \|$\)' |
	    sed 's/^[[ ]*-//; s/ $//' | fold -w1 | sort -u
}
for prog in kinkd kinkctl; do
	name=$prog-options-documented
	page=man/$prog.8
	if [ ! -x "$B/$prog" ]; then
		fail "$name" "$B/$prog not built"
		continue
	fi
	if [ "$prog" = kinkd ]; then
		usage_flags "$B/kinkd" -@ > "$tmp/flags"
	else
		usage_flags "$B/kinkctl" > "$tmp/flags"
	fi
	if [ "$(wc -l < "$tmp/flags")" -lt 3 ]; then
		fail "$name" "cannot read the options from $prog's usage text"
		continue
	fi
	missing=
	for f in $(cat "$tmp/flags"); do
		grep -Eq "(^\.|[[:space:]])Fl $f([[:space:]]|$)" "$page" ||
		    missing="$missing -$f"
	done
	# kinkd's options are each a list item of their own.
	if [ "$prog" = kinkd ]; then
		for f in $(cat "$tmp/flags"); do
			grep -q "^\.It Fl $f\([[:space:]]\|$\)" "$page" ||
			    missing="$missing -$f(no .It)"
		done
	fi
	if [ -n "$missing" ]; then
		fail "$name" "not in $page:$missing"
	else
		pass "$name"
	fi
done

# -h/--help prints the usage on stdout and exits 0 (the page promises it,
# and a bad option still exits 2); -V/--version prints "prog VERSION".
ver=$(sed -n 's/^AC_INIT(\[kinkd\], \[\([^]]*\)\].*/\1/p' configure.ac)
for prog in kinkd kinkctl; do
	name=$prog-help-version
	if [ ! -x "$B/$prog" ]; then
		fail "$name" "$B/$prog not built"
		continue
	fi
	bad=
	for o in -h --help; do
		out=$("$B/$prog" "$o" 2>"$tmp/err"); rc=$?
		[ "$rc" = 0 ] || bad="$bad [$o exit $rc]"
		case $out in "usage: $prog "*) ;; *) bad="$bad [$o stdout: $(echo "$out" | head -n 1)]" ;; esac
		[ -s "$tmp/err" ] && bad="$bad [$o stderr: $(head -n 1 "$tmp/err")]"
	done
	for o in -V --version; do
		out=$("$B/$prog" -s /nonexistent "$o" 2>&1); rc=$?
		[ "$rc" = 0 ] && [ "$out" = "$prog $ver" ] ||
		    bad="$bad [$o: exit $rc, \"$out\", want \"$prog $ver\"]"
	done
	"$B/$prog" -@ >/dev/null 2>&1; rc=$?
	[ "$rc" = 2 ] || bad="$bad [-@ exit $rc, want 2]"
	if [ -n "$bad" ]; then
		fail "$name" "$bad"
	else
		pass "$name"
	fi
done

# Monitor event types, from the headers that define them.
grep -h '^#define \(CTL\|SAREC\)_EV_[A-Z_]*[[:space:]]*"' include/ctl.h src/sarec.h |
    sed 's/^[^"]*"\([^"]*\)".*/\1/' | grep -v '^subscribed$' | sort -u > "$tmp/ev"
if [ "$(wc -l < "$tmp/ev")" -lt 5 ]; then
	fail ctl-events-documented "found $(wc -l < "$tmp/ev") event types in the headers"
else
	items Cm man/kinkctl.8 | tr ' ' '\n' | sort -u > "$tmp/cmw"
	missing=$(comm -23 "$tmp/ev" "$tmp/cmw" | tr '\n' ' ')
	if [ -n "$missing" ]; then
		fail ctl-events-documented "not an .It Cm item in kinkctl.8: $missing"
	else
		pass ctl-events-documented
	fi
fi

# kinkctl's bash completion (etc/kinkctl.bash-completion) offers every
# command word of kinkctl's token tables and every monitor event type,
# driven through bash-completion as an interactive shell would.
comp() {	# the words typed so far, the last one being completed
	bash -c '. /usr/share/bash-completion/bash_completion
	    . etc/kinkctl.bash-completion
	    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
	    _kinkctl kinkctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	    printf "%s\n" "${COMPREPLY[@]}"' comp "$@" 2>&1 | sort -u | tr '\n' ' '
}
if [ ! -f /usr/share/bash-completion/bash_completion ]; then
	fail completion "bash-completion not installed (tests/deps.sh)"
elif [ ! -x "$tool" ]; then
	fail completion "$tool not built"
else
	missing=
	"$tool" | sort -u > "$tmp/cmds"
	while read -r w1 w2 w3 _; do
		case " $(comp kinkctl "") " in *" $w1 "*) ;; *) missing="$missing [$w1]" ;; esac
		[ -n "$w2" ] || continue
		case " $(comp kinkctl "$w1" "") " in *" $w2 "*) ;; *) missing="$missing [$w1 $w2]" ;; esac
		[ -n "$w3" ] || continue
		case " $(comp kinkctl "$w1" "$w2" "") " in *" $w3 "*) ;; *) missing="$missing [$w1 $w2 $w3]" ;; esac
	done < "$tmp/cmds"
	got=$(comp kinkctl monitor -e "")
	for e in $(cat "$tmp/ev"); do
		case " $got " in *" $e "*) ;; *) missing="$missing [monitor -e $e]" ;; esac
	done
	# A prefix completes to the one command it names.
	[ "$(comp kinkctl -j ini)" = "initiate " ] || missing="$missing [ini -> $(comp kinkctl -j ini)]"
	if [ -n "$missing" ]; then
		fail completion "not offered:$missing"
	else
		pass completion
	fi
fi

# keytab_for CONF: CONF.kt, a copy of CONF whose keytab (made by ktutil,
# no KDC) holds the principal kinkd -nv shows for CONF: kinkd -n checks
# the keytab too, and an example's /etc/kinkd.keytab is not this host's.
keytab_for() {
	local p
	p=$("$B/kinkd" -nv -f "$1" 2>/dev/null | sed -n 's/^set principal "\(.*\)"$/\1/p')
	[ -n "$p" ] || return 1
	printf 'addent -password -p %s -k 1 -e aes256-cts-hmac-sha1-96\nkink-docs\nwkt %s\n' \
	    "$p" "$1.keytab" | ktutil > /dev/null 2>&1 || return 1
	{ cat "$1"; printf '\nset keytab "%s"\n' "$1.keytab"; } > "$1.kt"
	chmod 644 "$1.kt"
}

# The configuration examples of kinkd.conf.5 (the .Bd -literal blocks after
# an '.\" example-conf' comment) are files kinkd -n accepts, given a
# keytab for their principal.
if [ ! -x "$B/kinkd" ]; then
	fail conf-examples-valid "$B/kinkd not built"
else
	awk -v dir="$tmp" '
	/^\.\\" example-conf/ { want = 1; next }
	want && /^\.Bd -literal/ { n++; f = dir "/example" n ".conf"; printf "" > f; inb = 1; want = 0; next }
	inb && /^\.Ed/ { inb = 0; close(f); next }
	inb { gsub(/\\e/, "\\"); print > f }
	' man/kinkd.conf.5
	bad= n=0
	for f in "$tmp"/example*.conf; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		chmod 644 "$f"
		if ! keytab_for "$f"; then
			bad="$bad $(basename "$f"): no keytab for its principal"
			continue
		fi
		"$B/kinkd" -n -f "$f.kt" > "$f.out" 2>&1 ||
		    bad="$bad $(basename "$f"): $(head -n 3 "$f.out" | tr '\n' ' ')"
	done
	if [ "$n" -lt 2 ]; then
		fail conf-examples-valid "found $n marked examples in kinkd.conf.5"
	elif [ -n "$bad" ]; then
		fail conf-examples-valid "kinkd -n refuses$bad"
	else
		pass conf-examples-valid
	fi
fi

# --- make install -----------------------------------------------------
d=$tmp/root
if $MAKE -s install B="$B" DESTDIR="$d" PREFIX=/usr sysconfdir=/etc \
    > "$tmp/install.out" 2>&1; then
	pass install-runs
else
	fail install-runs "make install exited $?: $(tail -n 3 "$tmp/install.out" | tr '\n' ' ')"
fi
cat "$tmp/install.out"
missing=
for f in usr/sbin/kinkd usr/sbin/kinkctl usr/share/man/man8/kinkd.8 \
    usr/share/man/man8/kinkctl.8 usr/share/man/man5/kinkd.conf.5 \
    etc/kinkd.conf etc/kinkd.conf.example usr/share/kinkd/kinkctl.schema.json \
    usr/lib/systemd/system/kinkd.service usr/lib/sysusers.d/kinkd.conf; do
	[ -f "$d/$f" ] || missing="$missing $f"
done
for f in usr/sbin/kinkd usr/sbin/kinkctl; do
	[ -f "$d/$f" ] && [ ! -x "$d/$f" ] && missing="$missing $f(not executable)"
done
if [ -n "$missing" ]; then
	fail install-layout "missing under DESTDIR:$missing"
else
	pass install-layout
fi

out=
for m in "$d"/usr/share/man/man5/kinkd.conf.5 "$d"/usr/share/man/man8/kinkd.8 \
    "$d"/usr/share/man/man8/kinkctl.8; do
	[ -f "$m" ] && out="$out$(lint "$m")"
done
if [ -n "$out" ]; then
	fail install-man-lint "$(echo "$out" | head -n 3 | tr '\n' ' ')"
elif [ ! -f "$d/usr/share/man/man8/kinkd.8" ]; then
	fail install-man-lint "pages not installed"
else
	pass install-man-lint
fi

# The installed daemon checks the installed example (kinkd -n): as
# installed, without a keytab, it fails naming the keytab (what a fresh
# install tells the admin); with a keytab for its principal it is fine.
kinkd=$d/usr/sbin/kinkd
if [ ! -x "$kinkd" ]; then
	fail install-kinkd-n "no installed kinkd ($B/kinkd not built?)"
elif [ ! -f "$d/etc/kinkd.conf" ]; then
	fail install-kinkd-n "no installed kinkd.conf"
else
	kt=$(sed -n 's/^#define KINKD_KEYTAB "\(.*\)"$/\1/p' config.h)
	"$kinkd" -n -f "$d/etc/kinkd.conf" > "$tmp/n0.out" 2>&1
	rc=$?
	if [ "$rc" -ne 1 ]; then
		fail install-kinkd-n-no-keytab "kinkd -n exited $rc without the keytab $kt: $(head -n 5 "$tmp/n0.out" | tr '\n' ' ')"
	elif ! grep -q "^kinkd: keytab $kt: cannot read it: " "$tmp/n0.out"; then
		fail install-kinkd-n-no-keytab "no error naming $kt: $(head -n 3 "$tmp/n0.out" | tr '\n' ' ')"
	elif grep -q ':[0-9]*:[0-9]*: ' "$tmp/n0.out"; then
		fail install-kinkd-n-no-keytab "a file error besides the keytab: $(head -n 3 "$tmp/n0.out" | tr '\n' ' ')"
	else
		pass install-kinkd-n-no-keytab
	fi
	cp "$d/etc/kinkd.conf" "$tmp/installed.conf"
	chmod 644 "$tmp/installed.conf"
	if ! keytab_for "$tmp/installed.conf"; then
		fail install-kinkd-n "no keytab made for the installed example's principal"
	else
		"$kinkd" -n -f "$tmp/installed.conf.kt" > "$tmp/n.out" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ]; then
			fail install-kinkd-n "kinkd -n exited $rc: $(head -n 5 "$tmp/n.out" | tr '\n' ' ')"
		elif ! grep -q 'configuration OK' "$tmp/n.out"; then
			fail install-kinkd-n "kinkd -n exited 0 without 'configuration OK': $(head -n 3 "$tmp/n.out" | tr '\n' ' ')"
		else
			pass install-kinkd-n
		fi
	fi
	# -n must really check: a broken copy is refused.
	cp "$d/etc/kinkd.conf" "$tmp/broken.conf"
	echo 'peer "x" { bogus }' >> "$tmp/broken.conf"
	chmod 644 "$tmp/broken.conf"
	if "$kinkd" -n -f "$tmp/broken.conf" > "$tmp/nb.out" 2>&1; then
		fail install-kinkd-n-refuses "kinkd -n accepted a broken file"
	elif ! grep -q 'broken.conf:[0-9]*:[0-9]*: ' "$tmp/nb.out"; then
		fail install-kinkd-n-refuses "no file:line:col error: $(head -n 2 "$tmp/nb.out" | tr '\n' ' ')"
	else
		pass install-kinkd-n-refuses
	fi
fi

# A second install keeps an edited kinkd.conf and refreshes the example.
if [ -f "$d/etc/kinkd.conf" ]; then
	echo '# edited by the administrator' >> "$d/etc/kinkd.conf"
	cp "$d/etc/kinkd.conf" "$tmp/edited.conf"
	echo '# stale' >> "$d/etc/kinkd.conf.example"
	if ! $MAKE -s install B="$B" DESTDIR="$d" PREFIX=/usr sysconfdir=/etc \
	    > "$tmp/install2.out" 2>&1; then
		fail install-keeps-config "second make install failed: $(tail -n 3 "$tmp/install2.out" | tr '\n' ' ')"
	elif ! cmp -s "$d/etc/kinkd.conf" "$tmp/edited.conf"; then
		fail install-keeps-config "the edited kinkd.conf was overwritten"
	elif ! cmp -s "$d/etc/kinkd.conf.example" etc/kinkd.conf; then
		fail install-keeps-config "kinkd.conf.example is not the current etc/kinkd.conf"
	elif ! grep -q 'keeping the existing' "$tmp/install2.out"; then
		fail install-keeps-config "no message about the kept kinkd.conf"
	else
		pass install-keeps-config
	fi
else
	fail install-keeps-config "no installed kinkd.conf to edit"
fi

# The unit: the installed paths, and systemd's own check.
unit=$d/usr/lib/systemd/system/kinkd.service
if [ ! -f "$unit" ]; then
	fail unit-paths "no installed unit"
	fail unit-verify "no installed unit"
else
	if grep -q '^ExecStart=/usr/sbin/kinkd -d -S -f /etc/kinkd.conf$' "$unit" &&
	    grep -q '^ExecStartPre=/usr/sbin/kinkd -n -S -f /etc/kinkd.conf$' "$unit" &&
	    grep -q '^StartLimitBurst=3$' "$unit" &&
	    grep -q '^After=network-online.target' "$unit" &&
	    grep -q '^Wants=network-online.target' "$unit" &&
	    grep -q '^Restart=on-failure' "$unit"; then
		pass unit-paths
	else
		fail unit-paths "ExecStart/ExecStartPre/After/Wants/Restart not as expected: $(grep '^\(Exec\|After\|Wants\|Restart\)' "$unit" | tr '\n' ' ')"
	fi
	if ! command -v systemd-analyze >/dev/null; then
		fail unit-verify "systemd-analyze not installed (tests/deps.sh: systemd)"
	else
		# Verify checks that ExecStart exists and the Documentation
		# pages open: point it at the DESTDIR copies.
		sed "s|/usr/sbin/|$d/usr/sbin/|g" "$unit" > "$tmp/kinkd.service"
		out=$(MANPATH="$d/usr/share/man" systemd-analyze verify \
		    "$tmp/kinkd.service" 2>&1)
		rc=$?
		if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
			fail unit-verify "exit $rc: $(echo "$out" | head -n 5 | tr '\n' ' ')"
		else
			pass unit-verify
		fi
	fi
fi

# The sysusers entry creates the account of "set user" (default _kinkd).
su=$d/usr/lib/sysusers.d/kinkd.conf
user=$(sed -n 's/^#define KINKD_USER "\(.*\)"$/\1/p' config.h)
if [ ! -f "$su" ]; then
	fail sysusers-creates-user "no installed sysusers.d/kinkd.conf"
elif ! command -v systemd-sysusers >/dev/null; then
	fail sysusers-creates-user "systemd-sysusers not installed (tests/deps.sh: systemd)"
else
	mkdir -p "$tmp/sysroot/etc"
	out=$(systemd-sysusers --root="$tmp/sysroot" "$su" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || echo "$out" | grep -qiv '^creating '; then
		fail sysusers-creates-user "systemd-sysusers exit $rc: $(echo "$out" | tr '\n' ' ')"
	elif [ -z "$user" ] ||
	    ! grep -q "^$user:x:[0-9]*:[0-9]*:.*:/nonexistent:" "$tmp/sysroot/etc/passwd" ||
	    ! grep -q "^$user:x:[0-9]*:" "$tmp/sysroot/etc/group"; then
		fail sysusers-creates-user "no user/group '$user' (config.h KINKD_USER) in the test root"
	else
		pass sysusers-creates-user
	fi
fi

# Without PREFIX: /usr/local, and the unit's paths follow.
d2=$tmp/root2
if ! $MAKE -s install B="$B" DESTDIR="$d2" > "$tmp/install3.out" 2>&1; then
	fail install-default-prefix "make install exited non-zero: $(tail -n 3 "$tmp/install3.out" | tr '\n' ' ')"
elif [ ! -x "$d2/usr/local/sbin/kinkd" ] ||
    [ ! -f "$d2/usr/local/etc/kinkd.conf" ] ||
    ! grep -q '^ExecStart=/usr/local/sbin/kinkd -d -S -f /usr/local/etc/kinkd.conf$' \
    "$d2/usr/local/lib/systemd/system/kinkd.service"; then
	fail install-default-prefix "layout under /usr/local not as expected: $(cd "$d2" && find . -type f | tr '\n' ' ')"
else
	pass install-default-prefix
fi

# uninstall removes what install put there, except the configuration.
if ! $MAKE -s uninstall B="$B" DESTDIR="$d" PREFIX=/usr sysconfdir=/etc \
    > "$tmp/uninstall.out" 2>&1; then
	fail uninstall "make uninstall failed: $(tail -n 3 "$tmp/uninstall.out" | tr '\n' ' ')"
else
	left=$(cd "$d" && find . -type f | sort | tr '\n' ' ')
	if [ "$left" != "./etc/kinkd.conf " ]; then
		fail uninstall "left behind: $left"
	else
		pass uninstall
	fi
fi

cd "$top"
[ "$fails" -eq 0 ]
