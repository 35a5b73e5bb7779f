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

/*
 * The test build's null-backend knobs under -P: the engine's handle is
 * this proxy, so a knob goes to the broker, whose test-build hook (struct
 * broker_args ba_test) applies it to the real backend; a broker without
 * the hook refuses it (EPERM through cb).  knob: SBK_TEST_*, arg its
 * argument; ev non-NULL: have the backend emit that event instead.  -1
 * with EOPNOTSUPP when sd is not a broker proxy.
 */
#define SBK_TEST_REFUSE_GCM	1	/* arg: on */
#define SBK_TEST_REFUSE_ADD	2	/* arg: directions, as sadb_null */
#define SBK_TEST_REFUSE_SPD_GET	3	/* arg: on */
#define SBK_TEST_KERNEL_ADD	4	/* sa: added as if by another tool */
int	sadb_broker_test(struct sadb *, uint32_t knob, uint32_t arg,
	    const struct sadb_event *ev, const struct kink_sa *sa,
	    sadb_done_cb, void *);

#endif
