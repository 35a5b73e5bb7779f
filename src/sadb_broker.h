/*
 * The engine's sadb backend under privilege separation: a proxy to the
 * broker over a SOCK_SEQPACKET socketpair (docs/arch/privsep.md).
 */
#ifndef KINK_SADB_BROKER_H
#define KINK_SADB_BROKER_H

#include "sadb.h"

/*
 * Waits for the broker's hello (the real backend's name, which
 * sadb_backend() then returns); NULL if the broker could not open it.
 * The handle owns fd.
 */
struct sadb *sadb_broker_new(struct event_base *, int fd, sadb_upcall_cb,
	    void *arg);

#endif
