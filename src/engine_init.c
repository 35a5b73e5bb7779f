/*
 * Setting an engine up and tearing it down.  Apart from engine.c because
 * it names every exchange type (to register them), which engine.c, used
 * by all of them, must not.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "peer.h"
#include "sarec.h"
#include "site.h"
#include "xact.h"

void
engine_init(struct kink_engine *en)
{
	TAILQ_INIT(&en->en_peers);
	RB_INIT(&en->en_peer_names);
	RB_INIT(&en->en_peer_princs);
	RB_INIT(&en->en_sas);
	RB_INIT(&en->en_sa_spis);
	RB_INIT(&en->en_sa_pairs);
	TAILQ_INIT(&en->en_xacts);
	TAILQ_INIT(&en->en_ackwait);
	TAILQ_INIT(&en->en_verifying);
	RB_INIT(&en->en_xact_xids);
	RB_INIT(&en->en_xact_serials);
	/*
	 * EPOCH (RFC 4430 3.7): random rather than the start time, so a
	 * restart within the same second is still seen as one.  XIDs start
	 * at random too, so a restarted kinkd does not hit the peer's reply
	 * cache with an old XID.
	 */
	do {
		en->en_epoch = arc4random();
	} while (en->en_epoch == 0);
	en->en_next_xid = arc4random();
	xact_register(en, &xact_create_ops);
	xact_register(en, &xact_delete_ops);
	xact_register(en, &xact_status_ops);
	xact_register(en, &xact_gettgt_ops);
}

void
engine_fini(struct kink_engine *en)
{
	struct kink_peer *pe;

	en->en_stopping = 1;
	xact_input_fini(en);
	site_fini(en);
	xact_abort_peer(en, NULL, "shutting down");
	while ((pe = TAILQ_FIRST(&en->en_peers)) != NULL) {
		/* Shutdown already flushed or kept them; forget the rest. */
		sarec_forget_all(en);
		xact_peer_remove(pe, "peer removed");
	}
	sarec_forget_all(en);
}
