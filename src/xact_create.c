/*
 * CREATE (RFC 4430 sections 3.2, 6.3): optimistic two-message exchange
 * and the non-optimistic / PFS three-message one with ACK.
 *
 * Initiator: ticket -> inbound SPIs -> doi proposal; the optimistic
 * inbound SAs are installed before the CREATE leaves (3.2 step 1) -> REPLY:
 * inbound replaced if the answer changed its keys, outbound installed, ACK
 * sent when asked (and, like racoon2, when the answer was not optimistic
 * even without ACKREQ) -> I_AGING regenerates the ACK for a duplicate REPLY.
 *
 * Responder: choice -> inbound SPIs -> inbound SAs installed; outbound
 * too unless an ACK is needed, in which case the REPLY is retransmitted
 * until the ACK comes and the outbound SAs go in then.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "control.h"
#include "isakmp.h"
#include "kern_msg.h"
#include "kink.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "sarec.h"
#include "sadb.h"
#include "stats.h"
#include "wire.h"
#include "xact.h"

struct spi_wait {
	struct kink_engine	*sw_en;
	uint64_t	 sw_serial;
	uint8_t		 sw_proto;
	struct sockaddr_storage sw_src, sw_dst;
};

static void	create_init_send(struct kink_xact *);
static void	create_resp_finish(struct kink_xact *);
static void	create_init_installed(struct kink_xact *);
static void	create_resp_installed(struct kink_xact *);

/* The addresses doi and sadb see: no ports. */
static void
noport(const struct sockaddr_storage *in, struct sockaddr_storage *out)
{
	*out = *in;
	addr_set_port(out, 0);
}

static void
release_spi(struct kink_engine *en, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint8_t proto, uint32_t spi)
{
	struct kink_sa sa;

	memset(&sa, 0, sizeof(sa));
	noport(src, &sa.sa_src);
	noport(dst, &sa.sa_dst);
	sa.sa_proto = proto;
	sa.sa_spi = spi;
	sa.sa_dir = SA_DIR_IN;
	sadb_del(en->en_sadb, &sa, NULL, NULL);
}

static void
create_spi_cb(int err, uint32_t spi, void *arg)
{
	struct spi_wait *sw = arg;
	struct kink_xact *x;
	uint8_t proto = sw->sw_proto;

	if ((x = xact_by_serial(sw->sw_en, sw->sw_serial)) == NULL) {
		/* The exchange ended meanwhile: hand the SPI back. */
		if (err == 0)
			release_spi(sw->sw_en, &sw->sw_src, &sw->sw_dst, proto,
			    spi);
		free(sw);
		return;
	}
	free(sw);
	if (err != 0) {
		stats_inc(STAT_SADB_ERR);
		x->xa_spi_failed = 1;
	} else if (proto == PROTO_IPSEC_ESP)
		x->xa_spis.ds_esp = spi;
	else if (proto == PROTO_IPCOMP)
		x->xa_spis.ds_ipcomp = spi;
	else
		x->xa_spis.ds_ah = spi;
	x->xa_spi_got |= DOI_PROTO_BIT(proto);
	if (x->xa_spi_got != x->xa_spi_want)
		return;
	if (x->xa_spi_failed) {
		xact_fail(x, CTL_ERR_INTERNAL, "the SA backend gave no SPI");
		return;
	}
	if (x->xa_role == XR_INIT)
		create_init_send(x);
	else
		create_resp_finish(x);
}

static int
create_getspi(struct kink_xact *x, unsigned mask)
{
	static const uint8_t protos[] = { PROTO_IPSEC_ESP, PROTO_IPSEC_AH,
	    PROTO_IPCOMP };
	struct sockaddr_storage src, dst;
	struct spi_wait *sw;
	size_t i;

	noport(&x->xa_remote, &src);
	noport(&x->xa_local, &dst);
	x->xa_spi_want = mask;
	x->xa_spi_got = 0;
	if (mask == 0) {
		xact_fail(x, CTL_ERR_INTERNAL, "policy has no protocol");
		return -1;
	}
	for (i = 0; i < sizeof(protos); i++) {
		if ((mask & DOI_PROTO_BIT(protos[i])) == 0)
			continue;
		if ((sw = calloc(1, sizeof(*sw))) == NULL) {
			xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
			return -1;
		}
		sw->sw_en = x->xa_en;
		sw->sw_serial = x->xa_serial;
		sw->sw_proto = protos[i];
		sw->sw_src = src;
		sw->sw_dst = dst;
		if (sadb_getspi(x->xa_en->en_sadb, &src, &dst, protos[i],
		    create_spi_cb, sw) == -1) {
			free(sw);
			xact_fail(x, CTL_ERR_INTERNAL, "sadb getspi failed");
			return -1;
		}
	}
	return 0;
}

/* Remove what a failed exchange left: its SAs and unused SPIs. */
static void
create_cleanup(struct kink_xact *x)
{
	struct kink_engine *en = x->xa_en;

	if (!x->xa_ok && x->xa_pair != 0)
		sarec_pair_del(en, x->xa_pair, "exchange failed");
	if (!x->xa_spis_used) {
		if (x->xa_spis.ds_esp)
			release_spi(en, &x->xa_remote, &x->xa_local,
			    PROTO_IPSEC_ESP, x->xa_spis.ds_esp);
		if (x->xa_spis.ds_ah)
			release_spi(en, &x->xa_remote, &x->xa_local,
			    PROTO_IPSEC_AH, x->xa_spis.ds_ah);
		if (x->xa_spis.ds_ipcomp)
			release_spi(en, &x->xa_remote, &x->xa_local,
			    PROTO_IPCOMP, x->xa_spis.ds_ipcomp);
	}
	x->xa_spis_used = 1;
	x->xa_pair = 0;
}

/* One SA install the exchange waits for; the kernel may refuse it. */
struct inst_wait {
	struct kink_engine	*iw_en;
	uint64_t		 iw_serial;
	char			 iw_peer[64];
	struct kink_sa		 iw_sa;		/* no keys */
};

static const char *
sa_what(const struct kink_sa *sa, char *buf, size_t len)
{
	const char *enc = conf_enc_name(sa->sa_enc, sa->sa_enc_keylen);
	const char *auth = conf_auth_name(sa->sa_auth);
	char a[ADDR_STRLEN];

	if (sa->sa_proto == PROTO_IPCOMP) {
		snprintf(buf, len, "ipcomp %s cpi 0x%04x %s %s (%s)",
		    sa->sa_dir == SA_DIR_IN ? "in" : "out", sa->sa_spi,
		    sa->sa_dir == SA_DIR_IN ? "from" : "to",
		    addr_ntop((const struct sockaddr *)(sa->sa_dir ==
		    SA_DIR_IN ? &sa->sa_src : &sa->sa_dst), a, sizeof(a)),
		    sa->sa_enc == IPCOMP_DEFLATE ? "deflate" : "?");
		return buf;
	}
	snprintf(buf, len, "%s %s spi 0x%08x %s %s (%s%s%s)",
	    sa->sa_proto == PROTO_IPSEC_AH ? "ah" : "esp",
	    sa->sa_dir == SA_DIR_IN ? "in" : "out", sa->sa_spi,
	    sa->sa_dir == SA_DIR_IN ? "from" : "to",
	    addr_ntop((const struct sockaddr *)(sa->sa_dir == SA_DIR_IN ?
	    &sa->sa_src : &sa->sa_dst), a, sizeof(a)),
	    sa->sa_proto == PROTO_IPSEC_AH ? "" : enc != NULL ? enc : "enc ?",
	    sa->sa_proto == PROTO_IPSEC_AH || auth == NULL ? "" : " ",
	    auth != NULL ? auth : "");
	return buf;
}

/* The kernel answered one install; the last answer moves `x` on. */
static void
create_inst_cb(int err, void *arg)
{
	struct inst_wait *iw = arg;
	struct kink_engine *en = iw->iw_en;
	struct kink_sarec *sr;
	struct kink_xact *x;
	void (*next)(struct kink_xact *);
	char what[160];

	sa_what(&iw->iw_sa, what, sizeof(what));
	x = xact_by_serial(en, iw->iw_serial);
	if (err != 0) {
		stats_inc(STAT_SADB_ERR);
		log_warnx("peer %s: kernel refused SA %s: %s", iw->iw_peer,
		    what, strerror(err));
		if ((sr = sarec_find(en, iw->iw_sa.sa_proto, iw->iw_sa.sa_spi,
		    iw->iw_sa.sa_dir)) != NULL) {
			sr->sr_installed = 0;
			sarec_why(sr, "install refused: %s",
			    strerror(err));
		}
		/* The SPI getspi reserved (a larval state) goes back now. */
		if (iw->iw_sa.sa_dir == SA_DIR_IN)
			release_spi(en, &iw->iw_sa.sa_src, &iw->iw_sa.sa_dst,
			    iw->iw_sa.sa_proto, iw->iw_sa.sa_spi);
		if (x != NULL && x->xa_inst_err == 0) {
			x->xa_inst_err = err;
			/* Truncation is fine: the full line was logged. */
			if (snprintf(x->xa_inst_why, sizeof(x->xa_inst_why),
			    "kernel refused SA %s: %s", what,
			    strerror(err)) < 0)
				x->xa_inst_why[0] = '\0';
		}
	} else
		log_debug("peer %s: kernel installed SA %s", iw->iw_peer, what);
	free(iw);
	if (x == NULL || --x->xa_inst_pending > 0 || x->xa_inst_next == NULL)
		return;
	next = x->xa_inst_next;
	x->xa_inst_next = NULL;
	next(x);
}

/*
 * Record and install; the kernel's answers come to create_inst_cb, and
 * x->xa_inst_next runs when the last one is in (set it after this call,
 * and call it at once if nothing is pending).
 */
static void
install(struct kink_xact *x, const struct kink_sa *sa, int n, int replace)
{
	struct kink_sarec *sr;
	struct inst_wait *iw;
	int i;

	for (i = 0; i < n; i++) {
		if ((iw = calloc(1, sizeof(*iw))) == NULL) {
			if (x->xa_inst_err == 0) {
				x->xa_inst_err = ENOMEM;
				strlcpy(x->xa_inst_why, "out of memory",
				    sizeof(x->xa_inst_why));
			}
			continue;
		}
		iw->iw_en = x->xa_en;
		iw->iw_serial = x->xa_serial;
		strlcpy(iw->iw_peer, x->xa_peer->pe_name, sizeof(iw->iw_peer));
		iw->iw_sa = sa[i];
		sa_free_keys(&iw->iw_sa);
		x->xa_inst_pending++;
		if (sarec_add_cb(x->xa_en, x->xa_peer, x->xa_pol.pol_name,
		    x->xa_pol.pol_reqid, x->xa_pair, x->xa_role == XR_INIT,
		    &sa[i], replace, create_inst_cb, iw, &sr) == -1) {
			x->xa_inst_pending--;
			free(iw);
			if (x->xa_inst_err == 0) {
				x->xa_inst_err = EIO;
				strlcpy(x->xa_inst_why, "the SA backend took no "
				    "install request", sizeof(x->xa_inst_why));
			}
		}
	}
}

/* Run `next` once every install of `x` is answered (now, if none is). */
static void
install_then(struct kink_xact *x, void (*next)(struct kink_xact *))
{
	if (x->xa_inst_pending > 0)
		x->xa_inst_next = next;
	else
		next(x);
}

/* T-retrans (RFC 4430 3.6) of our configured retransmissions, rounded up. */
static uint32_t
retrans_secs(struct kink_engine *en)
{
	return (uint32_t)(((uint64_t)xact_cycle_ms(en) + 999) / 1000);
}

static const char *
spi_list(const struct doi_result *r, char *buf, size_t len)
{
	int i;

	buf[0] = '\0';
	for (i = 0; i < r->dr_nsa; i++) {
		char one[64];

		snprintf(one, sizeof(one), "%s%s in 0x%08x out 0x%08x",
		    i ? ", " : "", sa_proto_name(r->dr_in[i].sa_proto),
		    r->dr_in[i].sa_spi, r->dr_out[i].sa_spi);
		strlcat(buf, one, len);
	}
	return buf;
}

/* ---- initiator ---------------------------------------------------------- */

int
xact_create_in_progress(struct kink_engine *en, struct kink_peer *pe,
    const char *pol)
{
	struct kink_xact *x;

	TAILQ_FOREACH(x, &en->en_xacts, xa_entry)
		if (x->xa_peer == pe && x->xa_role == XR_INIT &&
		    x->xa_cmd == KINK_MSGTYPE_CREATE && !x->xa_completed &&
		    strcmp(x->xa_pol.pol_name, pol) == 0)
			return 1;
	return 0;
}

static void
create_init_spi(struct kink_xact *x)
{
	if (xact_state(x, XS_I_GETSPI) == -1)
		return;
	create_getspi(x, doi_policy_protos(&x->xa_pol));
}

int
xact_create_start(struct kink_engine *en, struct kink_peer *pe,
    const struct kink_policy *pol, struct xact_waiter *w, uint32_t rekey)
{
	struct kink_conf *c = en->en_conf;
	struct conf_peer *cp = pe->pe_conf;
	struct kink_xact *x;
	int fam = pol->pol_dst.sel_addr.ss_family, i, ai = -1;

	if (cp == NULL || cp->p_naddrs == 0) {
		log_warnx("peer %s: no address to send a CREATE to",
		    pe->pe_name);
		return -1;
	}
	pe->pe_initiated = 1;	/* dead-peer detection: ours to probe */
	/* The peer address of the policy's family, else the first one. */
	for (i = 0; i < cp->p_naddrs && ai < 0; i++)
		if (cp->p_addrs[i].ss_family == fam)
			ai = i;
	if (ai < 0)
		ai = 0;
	if ((x = xact_new(en, pe, xact_new_xid(en), XR_INIT,
	    KINK_MSGTYPE_CREATE)) == NULL)
		return -1;
	x->xa_pol = *pol;
	x->xa_has_pol = 1;
	x->xa_rekey_pair = rekey;
	x->xa_remote = cp->p_addrs[ai];
	addr_set_port(&x->xa_remote, c->c_port);
	/*
	 * Our address: the peer's "local" setting, else the policy's own
	 * end (tunnel endpoint, or a transport-mode host selector), else what
	 * the routing table picks.
	 */
	if (cp->p_local.ss_family == x->xa_remote.ss_family)
		x->xa_local = cp->p_local;
	else if (pol->pol_mode == ENCAP_MODE_TUNNEL &&
	    pol->pol_tun_local.ss_family == x->xa_remote.ss_family)
		x->xa_local = pol->pol_tun_local;
	else if (pol->pol_mode == ENCAP_MODE_TRANSPORT &&
	    pol->pol_src.sel_addr.ss_family == x->xa_remote.ss_family &&
	    pol->pol_src.sel_plen == (x->xa_remote.ss_family == AF_INET ?
	    32 : 128) && !addr_is_any((const struct sockaddr *)
	    &pol->pol_src.sel_addr))
		x->xa_local = pol->pol_src.sel_addr;
	else if (engine_local_for(en, &x->xa_remote, &x->xa_local) == -1) {
		xact_wait(x, w);
		xact_fail(x, CTL_ERR_FAILED, "no local address towards the "
		    "peer");
		return -1;
	}
	addr_set_port(&x->xa_local, c->c_port);
	xact_wait(x, w);
	engine_event(en, CTL_EV_XACT_START, pe->pe_name, x->xa_xid,
	    "initiator CREATE policy %s%s", pol->pol_name,
	    rekey ? " (rekey)" : "");
	return xact_gettgt_ticket(x, create_init_spi);
}

static void
create_init_send(struct kink_xact *x)
{
	struct sockaddr_storage l, r;

	noport(&x->xa_local, &l);
	noport(&x->xa_remote, &r);
	x->xa_doi = doi_init_new(&x->xa_pol, (struct sockaddr *)&l,
	    (struct sockaddr *)&r, &x->xa_spis);
	if (x->xa_doi != NULL)
		doi_set_retrans(x->xa_doi, retrans_secs(x->xa_en));
	if (x->xa_doi != NULL && x->xa_en->en_hooks != NULL &&
	    x->xa_en->en_hooks->eh_create_notify != NULL)
		doi_set_notify(x->xa_doi, x->xa_en->en_hooks->eh_create_notify(
		    x->xa_en->en_hooks->eh_arg));
	if (x->xa_doi == NULL ||
	    doi_init_proposal(x->xa_doi, &x->xa_qm, &x->xa_first) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build the proposal");
		return;
	}
	x->xa_pair = ++x->xa_en->en_next_pair;
	x->xa_spis_used = 1;
	/* 3.2 step 1: our inbound SA first, so the REPLY's traffic lands. */
	if (doi_init_optimistic(x->xa_doi, xact_prf, x, &x->xa_res) == 0) {
		install(x, x->xa_res.dr_in, x->xa_res.dr_nsa, 0);
		x->xa_opt_in = 1;
	}
	doi_result_clear(&x->xa_res);
	if (xact_build_cmd(x) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build the CREATE");
		return;
	}
	if (xact_state(x, XS_I_CREATE) == -1)
		return;
	xact_send_first(x);
}

/*
 * An authenticated REPLY we refuse.  RFC 4430 3.2: "The initiator MUST
 * always generate an ACK if the ACKREQ bit is set in the KINK header, even
 * if it believes that the responder was in error": the exchange fails, the
 * ACK goes anyway, and I_AGING answers a duplicate REPLY with a fresh ACK
 * so the responder's R_ACKWAIT ends.
 */
static void
create_refused(struct kink_xact *x, const struct kink_msg *m,
    const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->xa_inst_err != 0) {
		/* Our own kernel's refusal is the reason to report first. */
		char both[sizeof(msg)];

		if (snprintf(both, sizeof(both), "%s; %s", x->xa_inst_why,
		    msg) >= 0)
			strlcpy(msg, both, sizeof(msg));
	}
	if (!wire_ackreq(m)) {
		xact_fail(x, CTL_ERR_PEER, "%s", msg);
		return;
	}
	xact_complete(x, 0, CTL_ERR_PEER, "%s; ACK sent (ACKREQ set)", msg);
	xact_send_ack(x);
	xact_state(x, XS_I_AGING);
}

/*
 * RFC 4430 3.2: a responder that cannot do KE answers INVALID-PAYLOAD-TYPE
 * naming KE, and the initiator "MAY retry without a KE payload (as
 * another transaction) if its policy allows that": `pfs G optional`.
 * The new transaction carries the policy without PFS; a rekey asks with
 * KE again, since the peer may have learnt it.  1 if started over.
 */
static int
create_ke_refused(struct kink_xact *x, const struct kink_msg *m,
    const struct doi_error *de)
{
	if (de->de_err != ISAKMP_ERR_PEER_NOTIFY ||
	    de->de_notify != ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE ||
	    de->de_datalen < 1 || de->de_data[0] != ISAKMP_NPTYPE_KE ||
	    x->xa_pol.pol_pfs_group == 0 || wire_ackreq(m))
		return 0;
	if (!x->xa_pol.pol_pfs_optional) {
		log_info(XFMT "the peer refused KE (INVALID-PAYLOAD-TYPE); "
		    "policy %s requires PFS, no retry", XARG(x),
		    x->xa_pol.pol_name);
		return 0;
	}
	log_info(XFMT "the peer refused KE (INVALID-PAYLOAD-TYPE): policy %s "
	    "has pfs optional, retrying without PFS", XARG(x),
	    x->xa_pol.pol_name);
	x->xa_pol.pol_pfs_group = 0;
	xact_restart(x, "peer refused KE");
	return 1;
}

/*
 * The Notify payloads a CREATE or REPLY carried.  In a request every one
 * is ignored (RFC 4430 5.5), but an error type there is unusual enough
 * to say so with its number and name; status types are routine.
 */
static void
log_notifies(struct kink_xact *x, int request)
{
	uint16_t t[ISAKMP_MAX_NOTIFY];
	int n = doi_notifies(x->xa_doi, t, ISAKMP_MAX_NOTIFY);

	for (int i = 0; i < n && i < ISAKMP_MAX_NOTIFY; i++) {
		if (request && t[i] <= ISAKMP_NTYPE_ERROR_MAX)
			log_info(XFMT "CREATE carries error Notify %u %s: "
			    "ignored in a request", XARG(x), t[i],
			    wire_notify_name(t[i]));
		else if (t[i] > ISAKMP_NTYPE_ERROR_MAX)
			log_debug(XFMT "%s carries status Notify %u %s",
			    XARG(x), request ? "CREATE" : "REPLY", t[i],
			    wire_notify_name(t[i]));
	}
}

/*
 * The peer chose a proposal without a protocol we got an SPI for (ESP
 * alone where ESP+IPComp came first): the early inbound SA of that
 * protocol goes, or its reservation is handed back.
 */
static void
drop_unchosen(struct kink_xact *x, const struct doi_result *r)
{
	static const uint8_t protos[] = { PROTO_IPSEC_ESP, PROTO_IPSEC_AH,
	    PROTO_IPCOMP };
	struct kink_engine *en = x->xa_en;
	struct kink_sarec *sr;

	for (size_t k = 0; k < sizeof(protos); k++) {
		uint32_t spi = protos[k] == PROTO_IPSEC_ESP ? x->xa_spis.ds_esp :
		    protos[k] == PROTO_IPSEC_AH ? x->xa_spis.ds_ah :
		    x->xa_spis.ds_ipcomp;
		int chosen = 0;

		for (int i = 0; i < r->dr_nsa; i++)
			if (r->dr_in[i].sa_proto == protos[k])
				chosen = 1;
		if (spi == 0 || chosen)
			continue;
		sr = sarec_find(en, protos[k], spi, SA_DIR_IN);
		if (sr != NULL && sr->sr_pair == x->xa_pair)
			sarec_del(sr, "not in the proposal the peer chose");
		else
			release_spi(en, &x->xa_remote, &x->xa_local, protos[k],
			    spi);
	}
}

static void
create_reply(struct kink_xact *x, const struct kink_msg *m)
{
	struct kink_engine *en = x->xa_en;
	const struct engine_hooks *hooks = en->en_hooks;
	const struct kink_isakmp_pl *ip;
	const char *why;
	struct doi_result *r = &x->xa_res;
	struct doi_error de;
	int i;

	if (x->xa_state == XS_I_AGING) {
		/* Our ACK was lost: a new one, new authenticator (c.2). */
		log_debug(XFMT "duplicate REPLY, ACK regenerated", XARG(x));
		xact_send_ack(x);
		/*
		 * Aging restarts: only a full cycle without a duplicate says
		 * the responder has an ACK (and a rekey's old pair may go).
		 */
		timer_add_ms(&x->xa_timer, xact_cycle_ms(en));
		return;
	}
	if (x->xa_state != XS_I_CREATE || x->xa_inst_next != NULL) {
		/* Not ours to handle, or one REPLY's installs still run. */
		stats_inc(STAT_DROP_STATE);
		return;
	}
	if (m->m_nisakmp == 0) {
		if (wire_has(m, KINK_ERROR))
			create_refused(x, m, "peer answered KINK_ERROR %s",
			    wire_error_name(m->m_error));
		else if (wire_has(m, KINK_KRB_ERROR))
			create_refused(x, m, "peer answered KRB_ERROR");
		else
			create_refused(x, m, "REPLY without KINK_ISAKMP");
		return;
	}
	ip = &m->m_isakmp[0];
	memset(&de, 0, sizeof(de));
	if (hooks != NULL && hooks->eh_create_reply != NULL &&
	    (why = hooks->eh_create_reply(hooks->eh_arg)) != NULL) {
		/* As if doi had refused it: the 3.2 ACK path under test. */
		create_refused(x, m, "%s", why);
		return;
	}
	if (doi_init_reply(x->xa_doi, ip->ip_body.rb_p, ip->ip_body.rb_len,
	    ip->ip_inner_next, xact_prf, x, r, &de) == -1) {
		if (create_ke_refused(x, m, &de))
			return;
		create_refused(x, m, "%s%s (notify %u %s), policy %s",
		    de.de_err == ISAKMP_ERR_PEER_NOTIFY ? "peer refused: " :
		    "bad REPLY: ", isakmp_strerror(de.de_err), de.de_notify,
		    wire_notify_name(de.de_notify), x->xa_pol.pol_name);
		return;
	}
	log_notifies(x, 0);
	drop_unchosen(x, r);
	if (r->dr_resp_life)
		log_info(XFMT "the peer's RESPONDER-LIFETIME lowered the "
		    "lifetime to %u s", XARG(x), r->dr_out[0].sa_life_hard_secs);
	/* racoon2 (notes h.12): a non-optimistic answer gets an ACK anyway. */
	x->xa_inst_ack = wire_ackreq(m) || !r->dr_optimistic;
	if (x->xa_inst_err == 0)
		for (i = 0; i < r->dr_nsa; i++) {
			if (!x->xa_opt_in)
				install(x, &r->dr_in[i], 1, 0);
			else if (r->dr_in_changed)
				install(x, &r->dr_in[i], 1, 1);
			install(x, &r->dr_out[i], 1, 0);
		}
	install_then(x, create_init_installed);
}

/*
 * The kernel refused an SA of ours after the responder installed its
 * pair: the exchange fails with the kernel's reason, the ACK goes if
 * asked (3.2), and a DELETE naming our inbound SPIs takes the responder's
 * pair away, so neither side holds half of it.  What we did install goes
 * with that DELETE (outbound at once, inbound after it).
 */
static void
create_init_undo(struct kink_xact *x)
{
	struct kink_engine *en = x->xa_en;
	uint32_t pair = x->xa_pair;

	doi_result_clear(&x->xa_res);
	xact_complete(x, 0, CTL_ERR_FAILED, "%s; DELETE sent to the peer",
	    x->xa_inst_why);
	x->xa_pair = 0;		/* the DELETE owns the records now */
	if (x->xa_inst_ack) {
		xact_send_ack(x);
		xact_state(x, XS_I_AGING);
	} else
		xact_state(x, XS_FAILED);
	if (xact_delete_start(en, pair, NULL) == -1)
		sarec_pair_del(en, pair, "exchange failed");
}

static void
create_init_installed(struct kink_xact *x)
{
	struct kink_engine *en = x->xa_en;
	struct doi_result *r = &x->xa_res;
	char spis[256];

	if (x->xa_inst_err != 0) {
		create_init_undo(x);
		return;
	}
	stats_inc(r->dr_optimistic ? STAT_CREATE_OPT : STAT_CREATE_NONOPT);
	xact_complete(x, 1, 0, "policy %s, %s%s, %s", x->xa_pol.pol_name,
	    r->dr_optimistic ? "optimistic" : "non-optimistic",
	    r->dr_pfs ? " with PFS" : "", spi_list(r, spis, sizeof(spis)));
	doi_result_clear(r);
	if (x->xa_inst_ack) {
		/*
		 * The old pair of a rekey stays until the responder has our
		 * ACK, i.e. until I_AGING ends quietly (create_aged): were
		 * the ACK lost, the responder would have no outbound SA.
		 */
		xact_send_ack(x);
		xact_state(x, XS_I_AGING);
		return;
	}
	if (x->xa_rekey_pair != 0) {
		/* Both sides hold the new pair already; the old one goes. */
		xact_delete_start(en, x->xa_rekey_pair, NULL);
		x->xa_rekey_pair = 0;
	}
	xact_state(x, XS_DONE);
}

/* I_AGING over with no duplicate REPLY: the responder has our ACK. */
static void
create_aged(struct kink_xact *x)
{
	struct sarec_key k;

	if (x->xa_rekey_pair == 0 || !x->xa_ok)
		return;
	memset(&k, 0, sizeof(k));
	k.k_pair = x->xa_pair;
	/* A responder that gave up DELETEd the new pair: keep the old. */
	if (x->xa_pair != 0 && sarec_next(x->xa_en, NULL, &k) != NULL)
		xact_delete_start(x->xa_en, x->xa_rekey_pair, NULL);
	else
		log_info(XFMT "new pair gone before the ACK settled; the old "
		    "pair stays", XARG(x));
	x->xa_rekey_pair = 0;
}

/* ---- responder ---------------------------------------------------------- */

/*
 * The CREATE's SPI is the peer's inbound SPI: taken if we hold an
 * outbound SA to the peer with it, or will once the ACK of a pair we
 * answered comes (its outbound SAs wait in the transaction until then).
 * Only those waiting for an ACK are walked, not every transaction kept
 * for the reply cache (thousands at a few thousand CREATEs a second).
 */
static int
spi_inuse(void *arg, uint8_t proto, uint32_t spi)
{
	struct kink_xact *x = arg, *o;
	int i;

	if (sarec_find_peer(x->xa_en, x->xa_peer, proto, spi,
	    SA_DIR_OUT) != NULL)
		return 1;
	TAILQ_FOREACH(o, &x->xa_en->en_ackwait, xa_ackwait_entry) {
		if (o == x || o->xa_peer != x->xa_peer)
			continue;
		for (i = 0; i < o->xa_res.dr_nsa; i++)
			if (o->xa_res.dr_out[i].sa_proto == proto &&
			    o->xa_res.dr_out[i].sa_spi == spi)
				return 1;
	}
	return 0;
}

/* Answer a refused CREATE: a Notify, or KINK_ERROR for local trouble. */
static void
create_refuse(struct kink_xact *x, const struct doi_error *de)
{
	struct buf qm;
	uint8_t first = 0;
	uint32_t kerr = 0;

	log_notifies(x, 1);
	buf_init(&qm, KINK_MAX_MSG);
	if (de->de_notify == 0 || doi_notify_build(de, &qm, &first) == -1)
		kerr = KINK_INTERR;
	if (xact_build_reply(x, 0, kerr, &qm, first) == 0) {
		xact_send(x, 0);
		xact_complete(x, 0, CTL_ERR_PEER, "refused: %s (notify %u %s)%s%s",
		    isakmp_strerror(de->de_err), de->de_notify,
		    wire_notify_name(de->de_notify),
		    de->de_text[0] != '\0' ? ": " : "", de->de_text);
		xact_state(x, XS_R_CACHE);
	} else
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build the REPLY");
	buf_free(&qm);
}

static void
create_respond(struct kink_xact *x, const struct kink_msg *m)
{
	const struct kink_policy *pols[CONF_MAX_POLICIES];
	struct conf_peer *cp = x->xa_peer->pe_conf;
	const struct kink_isakmp_pl *ip;
	struct sockaddr_storage l, r;
	struct doi_error de;
	int i, n = 0;

	memset(&de, 0, sizeof(de));
	if (m->m_nisakmp == 0) {
		if (xact_build_reply(x, 0, KINK_PROTOERR, NULL, 0) == 0) {
			xact_send(x, 0);
			xact_complete(x, 0, 0, "CREATE without KINK_ISAKMP");
			xact_state(x, XS_R_CACHE);
		} else
			xact_fail(x, 0, "CREATE without KINK_ISAKMP");
		return;
	}
	ip = &m->m_isakmp[0];
	for (i = 0; cp != NULL && i < cp->p_npolicies &&
	    i < CONF_MAX_POLICIES; i++)
		pols[n++] = &cp->p_policies[i];
	/*
	 * Narrowing lets a wide policy accept IDs that a narrower one names
	 * exactly; the most specific policy must win, as in the kernel's
	 * SPD, so try them in kernel priority order (stable: file order
	 * among equals).
	 */
	for (i = 1; i < n; i++) {
		const struct kink_policy *p = pols[i];
		int j = i;

		for (; j > 0 && kern_pol_priority(pols[j - 1]) >
		    kern_pol_priority(p); j--)
			pols[j] = pols[j - 1];
		pols[j] = p;
	}
	noport(&x->xa_local, &l);
	noport(&x->xa_remote, &r);
	if ((x->xa_doi = doi_resp_new((struct sockaddr *)&l,
	    (struct sockaddr *)&r)) == NULL) {
		xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	doi_resp_set_life_notify(x->xa_doi, cp != NULL && cp->p_resp_life);
	doi_set_retrans(x->xa_doi, retrans_secs(x->xa_en));
	if (doi_resp_choose(x->xa_doi, pols, n, ip->ip_body.rb_p,
	    ip->ip_body.rb_len, ip->ip_inner_next, spi_inuse, x, &de) == -1) {
		create_refuse(x, &de);
		return;
	}
	log_notifies(x, 1);
	if (doi_resp_narrowed(x->xa_doi) != NULL)
		log_info(XFMT "narrowed: %s", XARG(x),
		    doi_resp_narrowed(x->xa_doi));
	if (xact_state(x, XS_R_GETSPI) == -1)
		return;
	create_getspi(x, doi_resp_protos(x->xa_doi));
}

static void
create_resp_finish(struct kink_xact *x)
{
	struct doi_result *r = &x->xa_res;
	struct doi_error de;
	struct buf qm;
	uint8_t first = 0;

	buf_init(&qm, KINK_MAX_MSG);
	memset(&de, 0, sizeof(de));
	if (doi_resp_finish(x->xa_doi, &x->xa_spis, xact_prf, x, &qm, &first,
	    r, &de) == -1) {
		create_refuse(x, &de);
		goto out;
	}
	if (r->dr_policy != NULL) {
		x->xa_pol = *r->dr_policy;
		x->xa_has_pol = 1;
	}
	if (r->dr_resp_life)
		log_info(XFMT "REPLY carries RESPONDER-LIFETIME: %u s",
		    XARG(x), r->dr_in[0].sa_life_hard_secs);
	x->xa_pair = ++x->xa_en->en_next_pair;
	x->xa_spis_used = 1;
	if (xact_build_reply(x, r->dr_ackreq ? KINK_ACKREQ : 0, 0, &qm,
	    first) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build the REPLY");
		goto out;
	}
	/* The REPLY waits for the kernel: an ok is only what it holds. */
	install(x, r->dr_in, r->dr_nsa, 0);
	if (!r->dr_ackreq)
		install(x, r->dr_out, r->dr_nsa, 0);
	install_then(x, create_resp_installed);
out:
	buf_free(&qm);
}

/* What the kernel refused, removed with its pair; the initiator told. */
static void
create_resp_undo(struct kink_xact *x)
{
	sarec_pair_del(x->xa_en, x->xa_pair, "kernel refused the pair");
	x->xa_pair = 0;
	doi_result_clear(&x->xa_res);
	/* An authenticated KINK_ERROR: the initiator removes its side. */
	if (xact_build_reply(x, 0, KINK_INTERR, NULL, 0) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "%s; cannot build the REPLY",
		    x->xa_inst_why);
		return;
	}
	xact_send(x, 0);
	xact_complete(x, 0, CTL_ERR_FAILED, "%s; answered KINK_ERROR KINK_INTERR",
	    x->xa_inst_why);
	xact_state(x, XS_R_CACHE);
}

static void
create_resp_installed(struct kink_xact *x)
{
	struct doi_result *r = &x->xa_res;
	char spis[256];

	if (x->xa_inst_err != 0) {
		create_resp_undo(x);
		return;
	}
	stats_inc(r->dr_optimistic ? STAT_CREATE_OPT : STAT_CREATE_NONOPT);
	if (r->dr_ackreq) {
		/* Outbound waits for the ACK; the REPLY is resent till then. */
		if (xact_state(x, XS_R_ACKWAIT) == 0)
			xact_send_first(x);
		return;
	}
	xact_send(x, 0);
	xact_complete(x, 1, 0, "policy %s, optimistic%s, %s",
	    x->xa_pol.pol_name, r->dr_pfs ? " with PFS" : "",
	    spi_list(r, spis, sizeof(spis)));
	doi_result_clear(r);
	xact_state(x, XS_R_CACHE);
}

/*
 * The outbound SA refused after the ACK: the initiator holds its pair
 * already, so a DELETE naming our inbound SPIs takes it away.
 */
static void
create_ack_installed(struct kink_xact *x)
{
	struct kink_engine *en = x->xa_en;
	struct doi_result *r = &x->xa_res;
	uint32_t pair = x->xa_pair;
	char spis[256];

	if (x->xa_inst_err != 0) {
		doi_result_clear(r);
		xact_complete(x, 0, CTL_ERR_FAILED, "%s; DELETE sent to the "
		    "peer", x->xa_inst_why);
		x->xa_pair = 0;		/* the DELETE owns the records now */
		xact_state(x, XS_R_CACHE);
		if (xact_delete_start(en, pair, NULL) == -1)
			sarec_pair_del(en, pair, "exchange failed");
		return;
	}
	xact_complete(x, 1, 0, "policy %s, %s%s, ACK received, %s",
	    x->xa_pol.pol_name, r->dr_optimistic ? "optimistic" :
	    "non-optimistic", r->dr_pfs ? " with PFS" : "",
	    spi_list(r, spis, sizeof(spis)));
	doi_result_clear(r);
	xact_state(x, XS_R_CACHE);
}

static void
create_ack(struct kink_xact *x)
{
	if (x->xa_inst_next != NULL || x->xa_inst_pending > 0)
		return;		/* a duplicate ACK while the outbound goes in */
	install(x, x->xa_res.dr_out, x->xa_res.dr_nsa, 0);
	install_then(x, create_ack_installed);
}

/*
 * No ACK after every REPLY (3.2): the initiator may hold the pair (its
 * ACKs were lost) or nothing (it failed).  Neither side may keep half:
 * a DELETE naming our inbound SPIs removes whatever the initiator has,
 * and our inbound goes with it (docs/arch/daemon.md).
 */
static void
create_giveup(struct kink_xact *x)
{
	struct kink_engine *en = x->xa_en;
	uint32_t pair = x->xa_pair;

	if (x->xa_role != XR_RESP || x->xa_state != XS_R_ACKWAIT || pair == 0)
		return;
	x->xa_pair = 0;		/* the DELETE owns the records now */
	if (xact_delete_start(en, pair, NULL) == -1)
		sarec_pair_del(en, pair, "no ACK");
}

static int
create_restartable(const struct kink_xact *x)
{
	/* Without its policy copy there is nothing to start from. */
	return x->xa_has_pol;
}

static int
create_restart(struct kink_xact *old, struct xact_waiter *w)
{
	struct kink_policy pol = old->xa_pol;
	int rc;

	rc = xact_create_start(old->xa_en, old->xa_peer, &pol, w,
	    old->xa_rekey_pair);
	explicit_bzero(&pol, sizeof(pol));
	return rc;
}

const struct xact_ops xact_create_ops = {
	.xo_type = KINK_MSGTYPE_CREATE,
	.xo_respond = create_respond,
	.xo_reply = create_reply,
	.xo_ack = create_ack,
	.xo_giveup = create_giveup,
	.xo_aged = create_aged,
	.xo_cleanup = create_cleanup,
	.xo_restartable = create_restartable,
	.xo_restart = create_restart,
};
