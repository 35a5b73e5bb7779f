#!/bin/bash
# Notify payloads in a CREATE (RFC 4430 5.5): every one is ignored in a
# request, so the CREATE succeeds; an error type (here 9999, a private
# one no implementation sends) is logged with its number and name, a
# status type (INITIAL-CONTACT) only at debug level.
. tests/lib/host.sh
host_init 531-notify-request
host_realm alpha beta || exit 1
host_pair v4 || { fail start "daemons did not start"; exit 1; }

inject alpha "send-notify 9999"
require error/inject-read wait_until "$HOST_WAIT" test ! -e "$(sock_of alpha).inject"
check error/create-ok ctl alpha initiate beta
check error/logged wait_until "$HOST_WAIT" grep -q \
    'CREATE carries error Notify 9999 PRIVATE: ignored in a request' "$T/beta.log"
check error/sas wait_until "$HOST_WAIT" sa_count_is beta 2

inject alpha "send-notify 24578"
require status/inject-read wait_until "$HOST_WAIT" test ! -e "$(sock_of alpha).inject"
check status/create-ok ctl alpha initiate beta
check status/logged wait_until "$HOST_WAIT" grep -q \
    'CREATE carries status Notify 24578 INITIAL-CONTACT$' "$T/beta.log"
check_eq status/not-as-error "$(grep -c 'error Notify 24578' "$T/beta.log")" 0
check status/sas wait_until "$HOST_WAIT" sa_count_is beta 4
