/* Kernel events (sadb upcalls) into exchanges; see upcall.c. */
#ifndef KINK_UPCALL_H
#define KINK_UPCALL_H

struct sadb_event;

/* The sadb upcall: ACQUIRE, EXPIRE (arg = struct kink_engine). */
void	upcall_sadb(const struct sadb_event *, void *);

#endif
