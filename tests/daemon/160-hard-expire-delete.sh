#!/bin/bash
# Hard EXPIRE tells the peer (RFC 4430 3.3/3.6): the peer's twin SAs may
# outlive ours (its kernel counts time and bytes on its own), so a hard
# expiry, of an SA of a pair we initiated or answered, sends a DELETE
# naming our inbound SPIs, the expired one included: the peer drops both
# directions.  The expired SA is not deleted from the backend again (no
# sadb error), the rest of the pair goes as after any DELETE.
. tests/lib/host.sh
HOST_NEEDS="$KINKD $KINKCTL"
host_init 160-hard-expire-delete
host_realm alpha beta || exit 1

spi_dir() { jqctl "$1" ".sa[] | select(.dir == \"$2\") | .spi" show sa; }

host_pair v4 || { fail start "daemons did not start"; exit 1; }

# alpha initiated; its inbound SA hard-expires.
check create ctl alpha initiate beta
require sas wait_until "$HOST_WAIT" sa_count_is beta 2
inject alpha "hard $(spi_dir alpha in)"
check init-peer-dropped-twins wait_until "$HOST_WAIT" sa_count_is beta 0
check init-own-gone wait_until "$HOST_WAIT" sa_count_is alpha 0
check init-delete-sent grep -q "initiated DELETE ok" "$T/alpha.log"
check init-beta-answered grep -q "answered DELETE ok" "$T/beta.log"
check_eq init-no-sadb-error "$(stat_get alpha sadb_errors)" 0

# beta answered the CREATE; its outbound SA hard-expires.
check create-2 ctl alpha initiate beta
require sas-2 wait_until "$HOST_WAIT" sa_count_is alpha 2
inject beta "hard $(spi_dir beta out)"
check resp-peer-dropped-twins wait_until "$HOST_WAIT" sa_count_is alpha 0
check resp-own-gone wait_until "$HOST_WAIT" sa_count_is beta 0
check resp-delete-sent grep -q "initiated DELETE ok" "$T/beta.log"
check_eq resp-no-sadb-error "$(stat_get beta sadb_errors)" 0
stop_kinkd alpha
stop_kinkd beta
