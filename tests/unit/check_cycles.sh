#!/bin/sh
# The objects of src/ must call each other without cycles: each module is
# then understood, tested and replaced from the bottom up, and a change in
# one cannot come back round to itself through the others.  The graph is
# read from the objects (nm), not from the headers, so it shows what is
# really linked: an edge A -> B when A.o has an undefined symbol that B.o
# defines.  libc and libraries define nothing in src/, so they drop out on
# their own.  Every strongly connected component of more than one object
# is one FAIL line, with a shortest cycle through it and the symbols on
# each of its edges, followed by every edge inside the component.
#
# A self-test on objects compiled here from tiny sources (two cycles and
# an object that only calls into one) runs first, so the check cannot pass
# because it finds nothing.
set -u
: "${B:=build}"
: "${CC:=cc}"
name=check_cycles

# edges OBJ...: "FROM TO SYMBOL" for every symbol FROM imports from TO.
edges() {
	nm -P -A "$@" | awk '
	{
		o = $1; sub(/:$/, "", o); sub(/.*\//, "", o)
		s = $2; t = $3
		if (t == "U" || t == "w" || t == "v")
			imp[++ni] = o " " s
		else if (t ~ /^[A-Z]$/)
			def[s] = def[s] " " o
	}
	END {
		for (i = 1; i <= ni; i++) {
			split(imp[i], f, " ")
			if (!(f[2] in def))
				continue
			n = split(def[f[2]], d, " ")
			for (j = 1; j <= n; j++)
				if (d[j] != f[1])
					print f[1], d[j], f[2]
		}
	}' | LC_ALL=C sort -u
}

# report: reads "FROM TO SYMBOL" lines, prints one FAIL line per cycle
# component and its edges indented below it.
report() {
	awk -v name="$name" '
	function node(x) {
		if (!(x in id)) {
			id[x] = ++nn
			nm[nn] = x
		}
		return id[x]
	}
	{
		a = node($1); b = node($2)
		if (!((a, b) in syms)) {
			syms[a, b] = $3
			reach[a, b] = 1
		} else
			syms[a, b] = syms[a, b] " " $3
	}
	# Shortest cycle through s inside component c (breadth first).
	function cycle(s, c,    q, h, t, u, v, seen, prev, path, sy, k) {
		split("", seen); split("", prev)
		h = 1; t = 1; q[1] = s; seen[s] = 1
		while (h <= t) {
			u = q[h++]
			for (v = 1; v <= nn; v++) {
				if (comp[v] != c || !((u, v) in syms))
					continue
				if (v == s) {
					path = nm[u] " -> " nm[s]
					sy = first(syms[u, s])
					for (k = u; k != s; k = prev[k]) {
						path = nm[prev[k]] " -> " path
						sy = first(syms[prev[k], k]) "; " sy
					}
					return path " (" sy ")"
				}
				if (!(v in seen)) {
					seen[v] = 1
					prev[v] = u
					q[++t] = v
				}
			}
		}
		return "?"
	}
	# At most three symbols of an edge on the FAIL line; all of them below.
	function first(l,    n, f, r, i) {
		n = split(l, f, " ")
		r = f[1]
		for (i = 2; i <= n && i <= 3; i++)
			r = r ", " f[i]
		if (n > 3)
			r = r ", ..."
		return r
	}
	END {
		# Transitive closure: n is a few dozen objects.
		for (k = 1; k <= nn; k++)
			for (i = 1; i <= nn; i++)
				if ((i, k) in reach)
					for (j = 1; j <= nn; j++)
						if ((k, j) in reach)
							reach[i, j] = 1
		nc = 0
		for (i = 1; i <= nn; i++) {
			if (comp[i] || !((i, i) in reach))
				continue
			nc++
			members = ""
			for (j = 1; j <= nn; j++)
				if (j == i || (((i, j) in reach) && ((j, i) in reach))) {
					comp[j] = nc
					members = members " " nm[j]
				}
			print "FAIL " name ": " cycle(i, nc) "; component:" members
			for (a = 1; a <= nn; a++)
				for (b = 1; b <= nn; b++)
					if (comp[a] == nc && comp[b] == nc && ((a, b) in syms))
						print "    " nm[a] " -> " nm[b] ": " syms[a, b]
		}
	}'
}

# check DIR: the report for DIR/*.o; nonzero when a cycle was found.
check() {
	set -- "$1"/*.o
	if [ ! -f "$1" ]; then
		echo "FAIL $name: no objects in ${1%/*}"
		return 1
	fi
	if ! e=$(edges "$@") || [ -z "$e" ]; then
		echo "FAIL $name: no calls between the objects in ${1%/*} (nm failed?)"
		return 1
	fi
	out=$(printf '%s\n' "$e" | report)
	[ -z "$out" ] && return 0
	printf '%s\n' "$out"
	return 1
}

rc=0

# Self-test: a.o <-> b.o, x.o -> y.o -> z.o -> x.o, and c.o -> a.o, which
# is on no cycle.  Sorted names make the report exact.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_cycles.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
src() { printf '%s\n' "$2" > "$tmp/$1.c"; }
src a 'int b_f(void); int a_f(void) { return b_f() + 1; }'
src b 'int a_f(void); int b_f(void) { return a_f() - 1; }'
src c '#include <stdio.h>
int a_f(void); int c_f(void) { return printf("%d", a_f()); }'
src x 'int y_f(void); int x_f(void) { return y_f(); }'
src y 'int z_f(void), z_g(void); int y_f(void) { return z_f() + z_g(); }'
src z 'int x_f(void); int z_f(void) { return x_f(); } int z_g(void) { return 0; }'
for f in a b c x y z; do
	if ! "$CC" -c -o "$tmp/$f.o" "$tmp/$f.c" 2> "$tmp/cc.err"; then
		echo "FAIL ${name}_selftest: $CC: $(cat "$tmp/cc.err")"
		exit 1
	fi
done
want="FAIL $name: a.o -> b.o -> a.o (b_f; a_f); component: a.o b.o
    a.o -> b.o: b_f
    b.o -> a.o: a_f
FAIL $name: x.o -> y.o -> z.o -> x.o (y_f; z_f, z_g; x_f); component: x.o y.o z.o
    x.o -> y.o: y_f
    y.o -> z.o: z_f z_g
    z.o -> x.o: x_f"
got=$(check "$tmp")
if [ $? -ne 0 ] && [ "$got" = "$want" ]; then
	echo "PASS ${name}_selftest"
else
	echo "FAIL ${name}_selftest: want"
	printf '%s\n' "$want" "got" "$got" | sed 's/^/    /'
	rc=1
fi
rm -f "$tmp"/a.o "$tmp"/b.o "$tmp"/x.o
if got=$(check "$tmp"); then
	echo "PASS ${name}_selftest_acyclic"
else
	echo "FAIL ${name}_selftest_acyclic: z.o -> ... reported:"
	printf '%s\n' "$got" | sed 's/^/    /'
	rc=1
fi

# The real objects, the two programs' included.
if check "$B/src"; then
	echo "PASS $name"
else
	rc=1
fi
exit $rc
