#!/bin/sh
# Soak bench (figures, and the soak's own verdicts): boots the VM tier's
# guest with only tests/vm/110-soak.sh, for SOAK_SECS (default 600) of
# faults instead of the CI run's 100, and prints the guest's figures line
#   soak secs=N exchanges=N rekeys=N failures=N gap_s_a2b=X gap_s_b2a=X
#     ping_loss_pct=X sa_a=N sa_b=N rss_kb_start=N rss_kb_end=N ...
# then its PASS/FAIL lines.  Exit status: the VM run's.
#
#	sh tests/bench/soak.sh                 (B=build: no sanitizers, -O2)
#	B=build-san SOAK_SECS=300 sh tests/bench/soak.sh
set -u
: "${B:=build}"
: "${SOAK_SECS:=600}"
${MAKE:-make} -s B="$B" "$B/kinkd" "$B/kinkctl" "$B/tests/kinkd-test" ||
    exit 1
out=$(mktemp "${TMPDIR:-/tmp}/kinkd-soak.XXXXXX")
trap 'rm -f "$out"' EXIT INT TERM
B="$B" VM_ONLY=110 VM_APPEND="soak_secs=$SOAK_SECS" \
    VM_TIMEOUT=$((SOAK_SECS + 400)) sh tests/vm/run.sh > "$out" 2>&1
rc=$?
sed -n 's/^  | \(soak secs=.*\)/\1/p' "$out"
grep -E '^(PASS|FAIL) ' "$out"
grep -E '^vm: guest ran' "$out"
exit $rc
