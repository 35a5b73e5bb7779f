/*
 * Daemon-wide helpers shared by the modules (kept out of kinkd.c so the
 * library and its unit tests link without main): monitor events, sadb
 * completions, reload, kernel events (and their test injection).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "control.h"
#include "ctl.h"
#include "isakmp_num.h"
#include "kink.h"
#include "kinkd.h"
#include "krb.h"
#include "log.h"
#include "peer.h"
#include "sadb.h"
#include "stats.h"
#include "xact.h"

void
kinkd_event(struct kinkd *kd, const char *type, const char *peer,
    uint32_t xid, const char *fmt, ...)
{
	char text[CTL_TEXT_MAX + 1];
	va_list ap;

	if (kd->kd_ctl == NULL || control_nmonitors(kd->kd_ctl) == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	control_eventf(kd->kd_ctl, type, peer, xid, "%s", text);
}

void
kinkd_sadb_done(int err, void *what)
{
	if (err == 0)
		return;
	/* Deleting what the kernel already dropped is not worth a warning. */
	if (err == ESRCH || err == ENOENT) {
		log_debug("sadb %s: %s", (const char *)what, strerror(err));
		return;
	}
	stats_inc(STAT_SADB_ERR);
	log_warnx("sadb %s: %s", (const char *)what, strerror(err));
}

struct kink_policy *
kinkd_policy(struct kinkd *kd, struct kink_peer *pe, const char *name)
{
	if (pe->pe_conf == NULL)
		return NULL;
	return conf_policy_by_name(pe->pe_conf, name);
}

/* ---- kernel events ---------------------------------------------------- */

static struct kink_peer *
policy_by_reqid(struct kinkd *kd, uint32_t reqid, struct kink_policy **polp)
{
	struct kink_peer *pe;
	int i;

	TAILQ_FOREACH(pe, &kd->kd_peers, pe_entry)
		for (i = 0; pe->pe_conf && i < pe->pe_conf->p_npolicies; i++)
			if (pe->pe_conf->p_policies[i].pol_reqid == reqid) {
				*polp = &pe->pe_conf->p_policies[i];
				return pe;
			}
	return NULL;
}

void
kinkd_upcall(const struct sadb_event *ev, void *arg)
{
	struct kinkd *kd = arg;
	struct kink_policy *pol;
	struct kink_peer *pe;
	struct kink_sarec *sr;

	if (kd->kd_stopping)
		return;
	switch (ev->ev_type) {
	case SADB_EV_ACQUIRE:
		stats_inc(STAT_ACQUIRE);
		if ((pe = policy_by_reqid(kd, ev->ev_reqid, &pol)) == NULL) {
			log_info("ACQUIRE for reqid %u: no such policy",
			    ev->ev_reqid);
			return;
		}
		if (create_in_progress(kd, pe, pol->pol_name)) {
			log_debug("peer %s policy %s: ACQUIRE while a CREATE "
			    "is running", pe->pe_name, pol->pol_name);
			return;
		}
		log_info("peer %s policy %s: ACQUIRE, starting CREATE",
		    pe->pe_name, pol->pol_name);
		create_start(kd, pe, pol, NULL, 0);
		break;
	case SADB_EV_EXPIRE_SOFT:
		stats_inc(STAT_EXPIRE_SOFT);
		if ((sr = peer_sa_find(kd, ev->ev_sa.sa_proto,
		    ev->ev_sa.sa_spi, 0)) == NULL)
			return;
		if (sr->sr_state != CTL_SA_MATURE)
			return;
		sr->sr_state = CTL_SA_DYING;
		pe = sr->sr_peer;
		/* The SA's initiator rekeys (3.6); the responder waits. */
		if (!sr->sr_initiator ||
		    (pol = kinkd_policy(kd, pe, sr->sr_policy)) == NULL)
			return;
		log_info("peer %s policy %s: soft expiry of spi 0x%08x, "
		    "rekeying", pe->pe_name, pol->pol_name, sr->sr_sa.sa_spi);
		create_start(kd, pe, pol, NULL, sr->sr_pair);
		break;
	case SADB_EV_EXPIRE_HARD:
		stats_inc(STAT_EXPIRE_HARD);
		if ((sr = peer_sa_find(kd, ev->ev_sa.sa_proto,
		    ev->ev_sa.sa_spi, 0)) == NULL)
			return;
		{
			uint32_t pair = sr->sr_pair;

			log_info("peer %s: hard expiry of spi 0x%08x, "
			    "deleting its pair with the peer",
			    sr->sr_peer->pe_name, sr->sr_sa.sa_spi);
			/*
			 * The kernel dropped this one (no backend delete for
			 * it), but the peer's twins may outlive it: its
			 * kernel counts time and bytes on its own clock and
			 * traffic.  A DELETE (3.3) names our inbound SPIs,
			 * the expired one included, so the peer drops both
			 * directions; our outbound twin goes now, the rest
			 * after the REPLY and delete-grace (docs/arch).
			 */
			sr->sr_installed = 0;
			sr->sr_state = CTL_SA_DYING;
			if (delete_start(kd, pair, NULL) == -1)
				peer_pair_del(kd, pair, "twin expired");
		}
		break;
	}
}

/*
 * Tests drive kernel events through the null backend: on SIGUSR1 kinkd
 * reads "<control socket>.inject", one event per line, and removes it:
 *	acquire REQID		ACQUIRE for the policy with that reqid
 *	soft SPI | hard SPI	soft / hard EXPIRE of the SA with that SPI
 *	offset PEER SECONDS	our clock towards PEER (krb_peer_set_offset)
 *	refuse gcm | refuse none	null backend refuses AES-GCM or not
 *				(takes effect on the next reload)
 *	refuse-reply		the next authenticated CREATE REPLY is
 *				refused as if doi_init_reply had (3.2 ACK)
 *	send-qmvers V		our next command's KINK_ISAKMP carries QM
 *				version V (e.g. 0x20; 12 BADQMVERS tests)
 *	reply-ackreq		the next DELETE/STATUS REPLY we send has
 *				ACKREQ (section 4 allows it on CREATE only)
 * SPI and REQID in decimal or 0x hex.  Other backends ignore the file.
 */
static int
inject_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/*
 * The kernel changing behind kinkd's back (show sa's merge):
 *	kernel-add SPI REQID SRC DST	an ESP SA kinkd has no record of
 *	kernel-del SPI			the backend drops one of kinkd's SAs
 *					and kinkd is not told
 */
static void
inject_kernel(struct kinkd *kd, const char *line)
{
	char src[INET6_ADDRSTRLEN + 1], dst[INET6_ADDRSTRLEN + 1];
	unsigned long spi, reqid;
	struct kink_sarec *sr;
	struct kink_sa sa;

	if (sscanf(line, "kernel-add %li %li %46s %46s", (long *)&spi,
	    (long *)&reqid, src, dst) == 4) {
		memset(&sa, 0, sizeof(sa));
		if (inject_addr(src, &sa.sa_src) == -1 ||
		    inject_addr(dst, &sa.sa_dst) == -1) {
			log_warnx("inject: bad address in %s", line);
			return;
		}
		sa.sa_proto = PROTO_IPSEC_ESP;
		sa.sa_dir = SA_DIR_OUT;
		sa.sa_mode = ENCAP_MODE_TRANSPORT;
		sa.sa_spi = (uint32_t)spi;
		sa.sa_reqid = (uint32_t)reqid;
		sa.sa_enc = ESP_AES_CBC;
		sa.sa_enc_keylen = 128;
		sa.sa_enckey_len = 16;
		arc4random_buf(sa.sa_enckey, sa.sa_enckey_len);
		sadb_add(kd->kd_sadb, &sa, 0, kinkd_sadb_done,
		    (void *)"inject kernel-add");
		sa_free_keys(&sa);
		log_info("inject: kernel-add 0x%lx", spi);
	} else if (sscanf(line, "kernel-del %li", (long *)&spi) == 1) {
		if ((sr = peer_sa_find(kd, 0, (uint32_t)spi, 0)) == NULL) {
			log_warnx("inject: kernel-del: no SA 0x%lx", spi);
			return;
		}
		sadb_del(kd->kd_sadb, &sr->sr_sa, kinkd_sadb_done,
		    (void *)"inject kernel-del");
		log_info("inject: kernel-del 0x%lx", spi);
	}
}

void
kinkd_inject(struct kinkd *kd)
{
	char path[1100], line[128], what[16];
	struct sadb_event ev;
	struct kink_sarec *sr;
	unsigned long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s.inject", kd->kd_sockpath);
	if ((f = fopen(path, "r")) == NULL) {
		log_warn("inject: %s", path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char peer[CTL_NAME_MAX + 1];
		long off;
		struct kink_peer *pe;

		/* A wrong clock towards one peer (RFC 4430 3.5 tests). */
		if (sscanf(line, "offset %64s %ld", peer, &off) == 2) {
			if ((pe = peer_by_name(kd, peer)) != NULL &&
			    krb_peer_set_offset(kd->kd_krb, pe->pe_principal,
			    (int32_t)off) == 0)
				log_info("inject: clock offset for %s %ld s",
				    peer, off);
			continue;
		}
		if (strncmp(line, "kernel-", 7) == 0) {
			inject_kernel(kd, line);
			continue;
		}
		if (sscanf(line, "send-qmvers %li", (long *)&v) == 1) {
			/* Our next command's KINK_ISAKMP has QM version v. */
			kd->kd_send_qmvers = (uint8_t)v;
			log_info("inject: send-qmvers 0x%02lx", v);
			continue;
		}
		if (strncmp(line, "reply-ackreq", 12) == 0) {
			/* The next DELETE/STATUS REPLY we send has ACKREQ. */
			kd->kd_reply_ackreq++;
			log_info("inject: reply-ackreq");
			continue;
		}
		if (strncmp(line, "refuse-reply", 12) == 0) {
			/* The next CREATE REPLY is refused as if doi had. */
			kd->kd_refuse_replies++;
			log_info("inject: refuse-reply");
			continue;
		}
		if (sscanf(line, "refuse %15s", what) == 1) {
			if (sadb_null_refuse_gcm(kd->kd_sadb,
			    strcmp(what, "gcm") == 0) == 0)
				log_info("inject: refuse %s", what);
			continue;
		}
		if (sscanf(line, "%15s %li", what, (long *)&v) != 2)
			continue;
		memset(&ev, 0, sizeof(ev));
		if (strcmp(what, "acquire") == 0) {
			ev.ev_type = SADB_EV_ACQUIRE;
			ev.ev_reqid = (uint32_t)v;
		} else if (strcmp(what, "soft") == 0 ||
		    strcmp(what, "hard") == 0) {
			ev.ev_type = what[0] == 's' ? SADB_EV_EXPIRE_SOFT :
			    SADB_EV_EXPIRE_HARD;
			sr = peer_sa_find(kd, 0, (uint32_t)v, 0);
			if (sr != NULL) {
				ev.ev_sa = sr->sr_sa;
				sa_free_keys(&ev.ev_sa);
				if (ev.ev_type == SADB_EV_EXPIRE_HARD)
					/* the kernel's SA is gone by now */
					sadb_del(kd->kd_sadb, &sr->sr_sa, NULL,
					    NULL);
			} else
				ev.ev_sa.sa_spi = (uint32_t)v;
		} else
			continue;
		if (sadb_null_inject(kd->kd_sadb, &ev) == -1) {
			log_warn("inject %s", what);
			break;
		}
		log_info("inject: %s 0x%lx", what, v);
	}
	fclose(f);
	unlink(path);
}

/* ---- what the backend can install ------------------------------------ */

static void
suite_text(const struct kink_suite *s, char *out, size_t len)
{
	const char *e, *a;

	out[0] = '\0';
	if (s->s_ah.x_present) {
		a = conf_auth_name(s->s_ah.x_auth);
		snprintf(out, len, "ah %s%s", a ? a : "?",
		    s->s_esp.x_present ? " + " : "");
	}
	if (s->s_esp.x_present) {
		char tmp[64];

		e = conf_enc_name(s->s_esp.x_id, s->s_esp.x_keylen);
		a = s->s_esp.x_auth ? conf_auth_name(s->s_esp.x_auth) : NULL;
		snprintf(tmp, sizeof(tmp), "%s%s%s", e ? e : "?",
		    a ? "/" : "", a ? a : "");
		strlcat(out, tmp, len);
	}
}

int
kinkd_conf_filter(struct kinkd *kd, struct kink_conf *c, char *errtext,
    size_t errlen)
{
	char name[96], msg[256], skipped[512];
	const char *why, *w = NULL;
	int i, j, k, n, rc = 0;

	if (errtext != NULL && errlen > 0)
		errtext[0] = '\0';
	for (i = 0; i < c->c_npeers; i++) {
		struct conf_peer *cp = &c->c_peers[i];

		for (j = 0; j < cp->p_npolicies; j++) {
			struct kink_policy *pol = &cp->p_policies[j];

			why = NULL;
			/*
			 * Proposal and responder choice both read these
			 * suites, so dropping one here keeps kinkd from
			 * offering or accepting what the ADD would refuse.
			 */
			skipped[0] = '\0';
			for (k = n = 0; k < pol->pol_nsuites; k++) {
				if (sadb_supports(kd->kd_sadb,
				    &pol->pol_suites[k], &w)) {
					pol->pol_suites[n++] =
					    pol->pol_suites[k];
					continue;
				}
				suite_text(&pol->pol_suites[k], name,
				    sizeof(name));
				if (skipped[0] != '\0')
					strlcat(skipped, ", ", sizeof(skipped));
				strlcat(skipped, name, sizeof(skipped));
				if (why == NULL)
					why = w;
			}
			/* One line per policy, read once at start/reload. */
			if (skipped[0] != '\0')
				log_warnx("peer %s policy %s: suite%s %s "
				    "skipped: %s", cp->p_name, pol->pol_name,
				    strchr(skipped, ',') ? "s" : "", skipped,
				    why ? why : "not supported");
			if (n < pol->pol_nsuites)
				memset(&pol->pol_suites[n], 0,
				    (pol->pol_nsuites - n) *
				    sizeof(pol->pol_suites[0]));
			pol->pol_nsuites = n;
			if (n > 0)
				continue;
			snprintf(msg, sizeof(msg), "peer %s policy %s: no "
			    "suite the %s backend can install", cp->p_name,
			    pol->pol_name, sadb_backend(kd->kd_sadb));
			log_warnx("%s", msg);
			if (errtext != NULL && errlen > 0) {
				if (errtext[0] != '\0')
					strlcat(errtext, "\n", errlen);
				strlcat(errtext, msg, errlen);
			}
			rc = -1;
		}
	}
	return rc;
}

/* ---- reload ------------------------------------------------------------ */

static void
errs_text(const struct conf_errors *e, char *out, size_t len)
{
	int i;

	if (out == NULL || len == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < e->ce_count; i++) {
		if (i > 0)
			strlcat(out, "\n", len);
		strlcat(out, e->ce_msgs[i], len);
	}
	if (e->ce_truncated)
		strlcat(out, "\n(too many errors)", len);
}

int
kinkd_reload(struct kinkd *kd, const char *path, char *errtext, size_t errlen)
{
	struct kink_conf *nc, *old = kd->kd_conf;
	struct conf_errors errs;
	struct kink_peer *pe, *pnext;
	struct kink_sarec *sr, *snext;
	struct kink_xact *x, *xnext;
	int i, j, kept = 0, dropped = 0;

	memset(&errs, 0, sizeof(errs));
	if (path == NULL || path[0] == '\0')
		path = kd->kd_conf_path;
	if ((nc = conf_load(path, kd->kd_defines, &errs)) == NULL) {
		char tmp[CTL_ERRTEXT_MAX];

		errs_text(&errs, tmp, sizeof(tmp));
		if (errtext != NULL)
			strlcpy(errtext, tmp, errlen);
		log_warnx("reload of %s failed, old configuration kept:\n%s",
		    path, tmp);
		conf_errors_free(&errs);
		stats_inc(STAT_RELOAD_FAIL);
		kinkd_event(kd, CTL_EV_RELOAD, "", 0, "failed: %s", tmp);
		return -1;
	}
	conf_errors_free(&errs);
	if (kinkd_conf_filter(kd, nc, errtext, errlen) == -1) {
		log_warnx("reload of %s failed, old configuration kept", path);
		conf_free(nc);
		stats_inc(STAT_RELOAD_FAIL);
		kinkd_event(kd, CTL_EV_RELOAD, "", 0, "failed: a policy has "
		    "no suite the backend can install");
		return -1;
	}

	/* A responder between choice and REPLY holds old policy pointers. */
	for (x = TAILQ_FIRST(&kd->kd_xacts); x != NULL; x = xnext) {
		xnext = TAILQ_NEXT(x, xa_entry);
		if (x->xa_state == XS_R_GETSPI)
			xact_fail(x, CTL_ERR_FAILED, "configuration reloaded");
	}
	/* SAs survive when their policy is the same in the new file. */
	for (sr = TAILQ_FIRST(&kd->kd_sas); sr != NULL; sr = snext) {
		struct conf_peer *np;
		struct kink_policy *op = NULL, *npol = NULL;

		snext = TAILQ_NEXT(sr, sr_entry);
		pe = sr->sr_peer;
		np = conf_peer_by_name(nc, pe->pe_name);
		if (pe->pe_conf != NULL)
			op = conf_policy_by_name(pe->pe_conf, sr->sr_policy);
		if (np != NULL && strcmp(np->p_principal,
		    pe->pe_principal) == 0)
			npol = conf_policy_by_name(np, sr->sr_policy);
		if (op != NULL && npol != NULL && conf_policy_same(op, npol)) {
			kept++;
			continue;
		}
		peer_sa_del(sr, "policy changed by reload");
		dropped++;
	}
	/* SPD: out with what changed or went, in with what changed or came. */
	for (i = 0; i < old->c_npeers; i++) {
		struct conf_peer *op = &old->c_peers[i];
		struct conf_peer *np = conf_peer_by_name(nc, op->p_name);

		for (j = 0; j < op->p_npolicies; j++) {
			struct kink_policy *a = &op->p_policies[j], *b = NULL;

			if (np != NULL)
				b = conf_policy_by_name(np, a->pol_name);
			if (b == NULL || !conf_policy_same(a, b))
				sadb_spd_del(kd->kd_sadb, a, kinkd_sadb_done,
				    (void *)"delete SPD entry");
		}
	}
	for (i = 0; i < nc->c_npeers; i++) {
		struct conf_peer *np = &nc->c_peers[i];
		struct conf_peer *op = conf_peer_by_name(old, np->p_name);

		for (j = 0; j < np->p_npolicies; j++) {
			struct kink_policy *b = &np->p_policies[j], *a = NULL;

			if (op != NULL)
				a = conf_policy_by_name(op, b->pol_name);
			if (a == NULL || !conf_policy_same(a, b))
				sadb_spd_add(kd->kd_sadb, b, kinkd_sadb_done,
				    (void *)"add SPD entry");
		}
	}
	/* Peers: kept ones re-pointed, gone ones freed, new ones made. */
	for (pe = TAILQ_FIRST(&kd->kd_peers); pe != NULL; pe = pnext) {
		struct conf_peer *np;

		pnext = TAILQ_NEXT(pe, pe_entry);
		np = conf_peer_by_name(nc, pe->pe_name);
		if (np == NULL || strcmp(np->p_principal, pe->pe_principal)) {
			pe->pe_conf = NULL;
			peer_free(pe);
		} else
			pe->pe_conf = np;
	}
	for (i = 0; i < nc->c_npeers; i++)
		if (peer_by_name(kd, nc->c_peers[i].p_name) == NULL)
			peer_new(kd, &nc->c_peers[i]);
	if (nc->c_port != old->c_port || nc->c_nlisten != old->c_nlisten)
		log_warnx("reload: listen addresses and port take effect on "
		    "restart");
	kd->kd_conf = nc;
	conf_free(old);
	TAILQ_FOREACH(pe, &kd->kd_peers, pe_entry)
		peer_dpd_arm(pe);
	log_setverbose(kd->kd_verbose + nc->c_verbose);
	stats_inc(STAT_RELOAD_OK);
	log_info("configuration %s reloaded: %d SAs kept, %d removed", path,
	    kept, dropped);
	kinkd_event(kd, CTL_EV_RELOAD, "", 0, "ok: %d SAs kept, %d removed",
	    kept, dropped);
	return 0;
}

