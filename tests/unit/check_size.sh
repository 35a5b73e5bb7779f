#!/bin/sh
# Sizes a reader can hold in their head: no file of src/ or include/ over
# MAX_FILE lines, no function over MAX_FUNC lines (from the line that
# names it to its closing brace; the return type above it, BSD style, is
# not counted).  Function extents come from universal-ctags (its end:
# field), which follows the C syntax rather than guessing from column-0
# braces.  A file is reported as `file (N lines)`, a function as
# `file:function (N lines)`; the bounds are MAX_FILE and MAX_FUNC below.
#
# A self-test on generated files (a function one line over the bound, one
# exactly at it, a file one line over) runs first, so the check cannot
# pass because it measures nothing.
set -u
MAX_FILE=1500
MAX_FUNC=120
name=check_size

# check FILE...: one FAIL line per file or function over its bound.
check() {
	r=0
	for f in "$@"; do
		n=$(wc -l < "$f")
		if [ "$n" -gt "$MAX_FILE" ]; then
			echo "FAIL $name: $f ($n lines)"
			r=1
		fi
	done
	out=$(ctags -x --c-kinds=f --language-force=C --fields=+ne \
	    --_xformat='%F %N %n %e' "$@") || {
		echo "FAIL $name: ctags failed: $out"
		return 1
	}
	bad=$(printf '%s\n' "$out" | awk -v max="$MAX_FUNC" -v name="$name" '
	NF == 0 { next }
	$4 !~ /^[0-9]+$/ { print "FAIL " name ": " $1 ":" $2 " (no end line from ctags)"; next }
	$4 - $3 + 1 > max {
		print "FAIL " name ": " $1 ":" $2 " (" $4 - $3 + 1 " lines)"
	}' | LC_ALL=C sort)
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad"
		r=1
	fi
	# Sanity: ctags saw functions at all.
	if [ -z "$(printf '%s\n' "$out" | awk 'NF')" ]; then
		echo "FAIL $name: ctags found no function in $*"
		r=1
	fi
	return $r
}

if ! ctags --version 2>/dev/null | grep -q 'Universal Ctags'; then
	echo "FAIL $name: universal-ctags not installed (tests/deps.sh)"
	exit 1
fi

rc=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_size.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# body NAME N: a BSD-style function of N lines from its name to its brace.
body() {
	printf 'static int\n%s(int a)\n{\n' "$1"
	i=3
	while [ $i -lt "$2" ]; do
		printf '\ta += %d;\n' $i
		i=$((i + 1))
	done
	printf '}\n\n'
}
{ body at_bound "$MAX_FUNC"; body over_bound $((MAX_FUNC + 1)); } > "$tmp/f.c"
{
	printf '/* %d lines */\nint\nsmall(void)\n{\n\treturn 0;\n}\n' $((MAX_FILE + 1))
	i=6
	while [ $i -le "$MAX_FILE" ]; do
		echo
		i=$((i + 1))
	done
} > "$tmp/big.c"
want="FAIL $name: $tmp/big.c ($((MAX_FILE + 1)) lines)
FAIL $name: $tmp/f.c:over_bound ($((MAX_FUNC + 1)) lines)"
got=$(check "$tmp/f.c" "$tmp/big.c")
if [ $? -ne 0 ] && [ "$got" = "$want" ]; then
	echo "PASS ${name}_selftest"
else
	echo "FAIL ${name}_selftest: want"
	printf '%s\n' "$want" "got" "$got" | sed 's/^/    /'
	rc=1
fi

if check src/*.c src/*.h include/*.h; then
	echo "PASS $name"
else
	rc=1
fi
exit $rc
