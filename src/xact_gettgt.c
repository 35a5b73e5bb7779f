/*
 * GETTGT (RFC 4430 sections 3.1, 6.6), responder side: the request is
 * unauthenticated, so it is answered without creating any state, at a
 * bounded rate, and only for a configured peer (by source address) whose
 * policy allows User-to-User; everyone else gets KINK_U2UDENIED.  Sending
 * GETTGT (the initiator's User-to-User path) is not implemented.
 */
#include <sys/socket.h>

#include "conf.h"
#include "kink.h"
#include "kinkd.h"
#include "krb.h"
#include "log.h"
#include "net.h"
#include "stats.h"
#include "wire.h"
#include "xact.h"

void
gettgt_respond(struct kinkd *kd, const struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	struct conf_peer *cp;
	struct kink_builder kb;
	struct buf msg, tgt;
	char a[NET_ADDRSTRLEN];
	int allow;

	if (xact_ratelimit(kd)) {
		stats_inc(STAT_DROP_UNAUTH);
		return;
	}
	buf_init(&msg, KINK_MAX_MSG);
	buf_init(&tgt, KINK_MAX_MSG);
	cp = conf_peer_by_addr(kd->kd_conf, (const struct sockaddr *)from);
	allow = cp != NULL && cp->p_u2u &&
	    krb_get_tgt(kd->kd_krb, &tgt) == 0;
	log_info("xid 0x%08x from %s: GETTGT %s", m->m_xid,
	    net_ntop((const struct sockaddr *)from, a, sizeof(a)),
	    allow ? "answered with our TGT" : "denied");
	wire_build_begin(&kb, &msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC,
	    m->m_xid, 0);
	if (allow)
		wire_build_tgt_rep(&kb, tgt.b_data, tgt.b_len);
	else
		wire_build_error(&kb, KINK_U2UDENIED);
	wire_build_finish(&kb, NULL);
	if (kb.kb_err == 0 && net_send(kd->kd_net, to, from, msg.b_data,
	    msg.b_len) == 0 && !allow)
		stats_inc(STAT_ERR_SENT);
	buf_free(&msg);
	buf_free(&tgt);
}
