/*
 * Reload (SIGHUP, `kinkctl reload [file]`) and the filter that drops from
 * a configuration the suites the SA backend cannot install (at start and
 * on every reload).  A reload swaps the configuration in only when it is
 * valid: peers are re-pointed, SAs whose policy is unchanged kept, the
 * rest removed, SPD entries updated.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "hostid.h"
#include "ctl.h"
#include "engine.h"
#include "kinkd.h"
#include "krb.h"
#include "log.h"
#include "peer.h"
#include "reconcile.h"
#include "reload.h"
#include "site.h"
#include "sadb.h"
#include "sarec.h"
#include "stats.h"
#include "xact.h"

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

/*
 * A cached REPLY must outlive the initiator's retransmissions: expired
 * earlier, a retransmitted CREATE would run again and be refused while
 * the initiator holds the first answer's pair.
 */
static void
reload_replycache(struct kink_conf *c)
{
	uint32_t cycle = conf_retrans_cycle_ms(c);

	if (c->c_replycache_ms >= cycle)
		return;
	log_warnx("set reply-cache %u ms is shorter than one retransmission "
	    "cycle (set retransmit: %u ms); raised to %u ms",
	    c->c_replycache_ms, cycle, cycle);
	c->c_replycache_ms = cycle;
}

int
reload_filter(struct sadb *sd, struct kink_conf *c, char *errtext,
    size_t errlen)
{
	char name[96], msg[256], skipped[512];
	const char *why, *w = NULL;
	int i, j, k, n, rc = 0;

	if (errtext != NULL && errlen > 0)
		errtext[0] = '\0';
	reload_replycache(c);
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
				if (sadb_supports(sd,
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
			    pol->pol_name, sadb_backend(sd));
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

/* The peer's entry in the new file, NULL when the reload removes it. */
static struct conf_peer *
reload_peer_conf(const struct kink_peer *pe, struct kink_conf *nc)
{
	struct conf_peer *np;

	if (pe->pe_learned)
		return pe->pe_next_conf;
	np = conf_peer_by_name(nc, pe->pe_name);
	if (np == NULL || np->p_nranges > 0 || strcmp(np->p_principal, pe->pe_principal) != 0)
		return NULL;
	return np;
}

/* SAs survive when their policy is the same in the new file. */
static int
reload_sa_goes(const struct kink_sarec *sr, void *arg)
{
	struct kink_conf *nc = arg;
	struct kink_peer *pe = sr->sr_peer;
	struct kink_policy *op = NULL, *npol = NULL;
	struct conf_peer *np;

	if (pe->pe_conf != NULL)
		op = conf_policy_by_name(pe->pe_conf, sr->sr_policy);
	if ((np = reload_peer_conf(pe, nc)) != NULL)
		npol = conf_policy_by_name(np, sr->sr_policy);
	return op == NULL || npol == NULL || !conf_policy_same(op, npol);
}

static void
reload_sas(struct kink_engine *en, struct kink_conf *nc, int *kept,
    int *dropped, int *ndelete)
{
	struct kink_sarec *sr, *snext;
	struct kink_peer *pe;
	int n, nd;

	for (sr = sarec_next(en, NULL, NULL); sr != NULL;
	    sr = sarec_next(en, sr, NULL))
		if (!reload_sa_goes(sr, nc))
			(*kept)++;
	/*
	 * Removed on purpose, so the peer must stop sending into them: a
	 * kept peer's SAs whose policy went or changed, and every SA of a
	 * configured peer the reload removes (that peer stays until its
	 * DELETEs end, reload_peers).  A learned peer no range covers any
	 * more is gone from the address it was learned at: its SAs just go.
	 */
	TAILQ_FOREACH(pe, &en->en_peers, pe_entry) {
		if (pe->pe_retired)
			continue;
		if (reload_peer_conf(pe, nc) != NULL) {
			*dropped += xact_delete_tell(en, pe, reload_sa_goes,
			    nc, "policy changed by reload", ndelete);
			continue;
		}
		if (pe->pe_learned)
			continue;
		nd = 0;
		n = xact_delete_tell(en, pe, NULL, NULL,
		    "peer removed by reload", &nd);
		if (n > 0)
			log_info("peer %s removed by reload: %d SAs deleted, "
			    "%d DELETEs to it", pe->pe_name, n, nd);
		*dropped += n;
		*ndelete += nd;
	}
	for (sr = sarec_next(en, NULL, NULL); sr != NULL; sr = snext) {
		snext = sarec_next(en, sr, NULL);
		if (reload_sa_goes(sr, nc)) {
			sarec_del(sr, "peer removed by reload");
			(*dropped)++;
		}
	}
}

/* Same ranges (both listed peers, or the same prefixes in order). */
static int
ranges_same(const struct conf_peer *a, const struct conf_peer *b)
{
	if (a == NULL || b == NULL || a->p_nranges != b->p_nranges)
		return 0;
	for (int i = 0; i < a->p_nranges; i++)
		if (a->p_ranges[i].sel_plen != b->p_ranges[i].sel_plen ||
		    !addr_eq(addr_sa(&a->p_ranges[i].sel_addr),
		    addr_sa(&b->p_ranges[i].sel_addr)))
			return 0;
	return 1;
}

/* One policy's kernel entries (a range peer's: one per range). */
static void
spd_each(struct sadb *sd, const struct conf_peer *cp,
    const struct kink_policy *pol, int add)
{
	struct kink_policy q[CONF_MAX_PEER_ADDRS];
	int n = conf_policy_spd(cp, pol, q, CONF_MAX_PEER_ADDRS);

	for (int i = 0; i < n; i++)
		if (add)
			sadb_spd_add(sd, &q[i], sadb_done_log,
			    (void *)"add SPD entry");
		else
			sadb_spd_del(sd, &q[i], sadb_done_log,
			    (void *)"delete SPD entry");
}

/* SPD: out with what changed or went, in with what changed or came. */
static void
reload_spd(struct sadb *sd, struct kink_conf *old, struct kink_conf *nc)
{
	int i, j;

	for (i = 0; i < old->c_npeers; i++) {
		struct conf_peer *op = &old->c_peers[i];
		struct conf_peer *np = conf_peer_by_name(nc, op->p_name);

		for (j = 0; j < op->p_npolicies; j++) {
			struct kink_policy *a = &op->p_policies[j], *b = NULL;

			if (np != NULL)
				b = conf_policy_by_name(np, a->pol_name);
			if (b == NULL || !conf_policy_same(a, b) ||
			    !ranges_same(op, np))
				spd_each(sd, op, a, 0);
		}
	}
	for (i = 0; i < nc->c_npeers; i++) {
		struct conf_peer *np = &nc->c_peers[i];
		struct conf_peer *op = conf_peer_by_name(old, np->p_name);

		for (j = 0; j < np->p_npolicies; j++) {
			struct kink_policy *b = &np->p_policies[j], *a = NULL;

			if (op != NULL)
				a = conf_policy_by_name(op, b->pol_name);
			if (a == NULL || !conf_policy_same(a, b) ||
			    !ranges_same(op, np))
				spd_each(sd, np, b, 1);
		}
	}
}

/* Peers: kept ones re-pointed, gone ones removed, new ones made. */
static void
reload_peers(struct kink_engine *en, struct kink_conf *nc)
{
	struct kink_peer *pe, *pnext;
	int i;

	for (pe = TAILQ_FIRST(&en->en_peers); pe != NULL; pe = pnext) {
		struct conf_peer *np;

		pnext = TAILQ_NEXT(pe, pe_entry);
		if (pe->pe_learned) {
			/* Its own copy: the old one goes with it or now. */
			if ((np = pe->pe_next_conf) == NULL)
				xact_peer_remove(pe, "no range covers it any "
				    "more");
			else {
				conf_peer_free(pe->pe_conf);
				pe->pe_conf = np;
				pe->pe_next_conf = NULL;
			}
			continue;
		}
		if (pe->pe_retired)
			continue;
		if ((np = reload_peer_conf(pe, nc)) == NULL)
			/* Its own copy of what the DELETEs need. */
			xact_peer_retire(pe, "peer removed");
		else
			pe->pe_conf = np;
	}
	for (i = 0; i < nc->c_npeers; i++)
		if (nc->c_peers[i].p_nranges == 0 &&
		    peer_by_name(en, nc->c_peers[i].p_name) == NULL)
			xact_peer_add(en, &nc->c_peers[i]);
}

int
reload_hostid(struct kink_engine *en, const struct kink_conf *c)
{
	struct hostid_opts o;
	int i, any = 0;

	for (i = 0; i < c->c_npeers; i++)
		any |= c->c_peers[i].p_nranges > 0;
	if (!any && en->en_hostid == NULL)
		return 0;
	memset(&o, 0, sizeof(o));
	o.nameservers = c->c_nnameservers > 0 ? c->c_nameservers : NULL;
	o.nnameservers = c->c_nnameservers;
	if (en->en_hostid != NULL)
		return hostid_reconfigure(en->en_hostid, &o);
	if ((en->en_hostid = hostid_new(en->en_base, &o)) == NULL) {
		log_warn("hostid");
		return -1;
	}
	return 0;
}

/* A value from a file, fit for one log line. */
static void
printable(char *out, size_t len, const char *in)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = isprint((unsigned char)in[i]) && in[i] != '"' ?
		    in[i] : '?';
	out[i] = '\0';
}

/*
 * One setting that only a restart can apply: the running value is kept,
 * in the new configuration too (so `show config` tells what is in force),
 * and one line says so.  A new krb context (keytab, principal) would
 * need the privileges we dropped to read a root-only keytab, and
 * backend, socket and user are opened or dropped once at start.
 */
static void
reload_keep(const char *name, char **cur, char **next, const char *running)
{
	char a[256], b[256], *keep;

	if ((*cur == NULL && *next == NULL) ||
	    (*cur != NULL && *next != NULL && strcmp(*cur, *next) == 0))
		return;
	printable(a, sizeof(a), running != NULL ? running :
	    *cur != NULL ? *cur : "(derived)");
	printable(b, sizeof(b), *next != NULL ? *next : "(derived)");
	log_warnx("reload: set %s changed (\"%s\" -> \"%s\"); it needs a "
	    "restart, \"%s\" stays in force", name, a, b, a);
	keep = *cur != NULL ? strdup(*cur) : NULL;
	if (*cur != NULL && keep == NULL)
		return;		/* leaves the new value: only the log lied */
	free(*next);
	*next = keep;
}

/* `sock`: the socket in use (-s wins over `set socket`). */
static void
reload_settings(struct kink_conf *old, struct kink_conf *nc, const char *sock)
{
	reload_keep("principal", &old->c_principal, &nc->c_principal, NULL);
	reload_keep("keytab", &old->c_keytab, &nc->c_keytab, NULL);
	reload_keep("socket", &old->c_socket, &nc->c_socket, sock);
	reload_keep("user", &old->c_user, &nc->c_user, NULL);
	if (old->c_backend != nc->c_backend) {
		log_warnx("reload: set backend changed (%s -> %s); it needs a "
		    "restart, %s stays in force",
		    conf_backend_name(old->c_backend),
		    conf_backend_name(nc->c_backend),
		    conf_backend_name(old->c_backend));
		nc->c_backend = old->c_backend;
	}
	/* The workers' contexts are made before the sandbox: a new count
	 * needs a restart. */
	if (conf_krb_workers(old) != conf_krb_workers(nc)) {
		log_warnx("reload: set krb-workers changed (%d -> %d); it needs "
		    "a restart, %d stays in force", conf_krb_workers(old),
		    conf_krb_workers(nc), conf_krb_workers(old));
		nc->c_krb_workers = old->c_krb_workers;
	}
}

/* Parse and filter `path`; NULL (logged, counted, told) on failure. */
static struct kink_conf *
reload_load(struct kinkd *kd, const char *path, char *errtext,
    size_t errlen)
{
	struct kink_engine *en = &kd->kd_eng;
	struct kink_conf *nc;
	struct conf_errors errs;

	memset(&errs, 0, sizeof(errs));
	if ((nc = conf_load(path, kd->kd_defines, &errs)) == NULL) {
		char tmp[CTL_ERRTEXT_MAX];

		errs_text(&errs, tmp, sizeof(tmp));
		if (errtext != NULL)
			strlcpy(errtext, tmp, errlen);
		log_warnx("reload of %s failed, old configuration kept:\n%s",
		    path, tmp);
		conf_errors_free(&errs);
		stats_inc(STAT_RELOAD_FAIL);
		engine_event(en, CTL_EV_RELOAD, "", 0, "failed: %s", tmp);
		return NULL;
	}
	conf_errors_free(&errs);
	if (reload_filter(en->en_sadb, nc, errtext, errlen) == -1) {
		log_warnx("reload of %s failed, old configuration kept", path);
		conf_free(nc);
		stats_inc(STAT_RELOAD_FAIL);
		engine_event(en, CTL_EV_RELOAD, "", 0, "failed: a policy has "
		    "no suite the backend can install");
		return NULL;
	}
	return nc;
}

int
reload_config(struct kinkd *kd, const char *path, char *errtext,
    size_t errlen)
{
	struct kink_engine *en = &kd->kd_eng;
	struct kink_conf *nc, *old = en->en_conf;
	struct kink_peer *pe;
	struct kink_xact *x, *xnext;
	int kept = 0, dropped = 0, ndelete = 0;

	if (path == NULL || path[0] == '\0')
		path = kd->kd_conf_path;
	/* A rotated key is wanted even when the configuration is bad. */
	(void)krb_keytab_reload(en->en_krb);
	if ((nc = reload_load(kd, path, errtext, errlen)) == NULL)
		return -1;
	/* A responder between choice and REPLY holds old policy pointers. */
	for (x = TAILQ_FIRST(&en->en_xacts); x != NULL; x = xnext) {
		xnext = TAILQ_NEXT(x, xa_entry);
		if (x->xa_state == XS_R_GETSPI)
			xact_fail(x, CTL_ERR_FAILED, "configuration reloaded");
	}
	reload_settings(en->en_conf, nc, kd->kd_sockpath);
	site_reload_prepare(en, nc);
	reload_sas(en, nc, &kept, &dropped, &ndelete);
	reload_spd(en->en_sadb, old, nc);
	reload_peers(en, nc);
	if (nc->c_port != old->c_port || nc->c_nlisten != old->c_nlisten)
		log_warnx("reload: listen addresses and port take effect on "
		    "restart");
	en->en_conf = nc;
	conf_free(old);
	if (reload_hostid(en, nc) == -1)
		log_warnx("reload: host name lookups keep their old settings");
	TAILQ_FOREACH(pe, &en->en_peers, pe_entry)
		xact_status_dpd_arm(pe);
	log_setverbose(kd->kd_verbose + nc->c_verbose);
	/* What the reload installed, and the new interval, checked now. */
	reconcile_arm(kd);
	reconcile_start(kd, "reload", NULL, NULL);
	stats_inc(STAT_RELOAD_OK);
	log_info("configuration %s reloaded: %d SAs kept, %d removed "
	    "(%d DELETEs to peers)", path, kept, dropped, ndelete);
	engine_event(en, CTL_EV_RELOAD, "", 0, "ok: %d SAs kept, %d removed",
	    kept, dropped);
	return 0;
}
