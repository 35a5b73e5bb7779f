#!/bin/bash
# `show sa` never holds the loop: a listing of thousands of SAs goes out
# in chunks between other events, and pauses while its client does not
# read.  With beta's listing held open by a client that reads nothing,
# alpha's CREATE with beta completes and `show stats` answers; the log
# shows the CREATE answered after the listing began and before it ended.
# Then the client reads: every record arrives (the two new SAs too, made
# after the listing began), in more than one pass, then END.
. tests/lib/host.sh
host_init 510-show-sa-stream
host_realm alpha beta || exit 1

N=4000		# pairs: 8000 records, well over the listing's buffer bound
host_pair v4 || { fail start "daemons did not start"; exit 1; }
inject beta "fill-sas alpha $N"
require fill wait_until "$HOST_WAIT" sa_count_is beta $((2 * N))

listed0=$(log_count beta 'control: show sa [0-9]*: listing')
ended0=$(log_count beta 'control: show sa [0-9]*: [0-9]* records in')
# A control client that asks for the listing and reads nothing until
# $T/go exists, then counts the SA records up to END.
python3 - "$(sock_of beta)" "$T/go" > "$T/slow.out" 2>&1 <<'EOF' &
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
# version 1, SHOW_SA (1), no flags, payload: empty peer string; seq 7
s.sendall(struct.pack('>BBHII', 1, 1, 0, 2, 7) + b'\0\0')
limit = time.time() + 300
while not os.path.exists(sys.argv[2]):
    if time.time() > limit:
        sys.exit('never told to read')
    time.sleep(0.05)
buf, n, end = b'', 0, None
def need(k):
    global buf
    while len(buf) < k:
        d = s.recv(65536)
        if not d:
            sys.exit('eof after %d records' % n)
        buf += d
while end is None:
    need(12)
    v, t, f, ln, seq = struct.unpack('>BBHII', buf[:12])
    need(12 + ln)
    buf = buf[12 + ln:]
    if t == 64:
        n += 1
    elif t in (126, 127):
        end = 'end' if t == 126 else 'error'
print(n, end)
EOF
slow=$!
HOST_BG="$HOST_BG $slow"
require listing-begun wait_until "$HOST_WAIT" \
    is = $((listed0 + 1)) log_count beta 'control: show sa [0-9]*: listing'
gen=$(grep -o 'control: show sa [0-9]*: listing' "$T/beta.log" | tail -n 1 |
    awk '{print $4}' | tr -d :)

monitor_start beta
ctl alpha initiate beta > "$T/initiate.out" 2>&1
check_eq create/exit $? 0
check create/beta-sa-add wait_until "$HOST_WAIT" is = 2 event_count beta sa-add
ctl beta show stats > /dev/null 2>&1
check_eq stats-during-listing $? 0
# Still open: the CREATE was answered between its start and its end.
check_eq listing-still-open \
    "$(log_count beta 'control: show sa [0-9]*: [0-9]* records in')" "$ended0"
check_eq create-inside-listing "$(awk -v g="show sa $gen: " '
	index($0, g) && /listing/ { begun = 1 }
	begun && index($0, g) && /records in/ { print "after"; exit }
	begun && /answered CREATE/ { print "inside"; exit }' "$T/beta.log")" inside

touch "$T/go"
wait "$slow"
check_eq slow/exit $? 0
check_eq slow/records "$(cat "$T/slow.out")" "$((2 * N + 2)) end"
ended=$(grep "control: show sa $gen: " "$T/beta.log" | grep 'records in')
check_eq listing-count "$(echo "$ended" | awk '{print $(NF-4)}')" $((2 * N + 2))
check listing-passes test "$(echo "$ended" | awk '{print $(NF-1)}')" -gt 1
monitor_stop beta
stop_kinkd alpha
stop_kinkd beta
