/*
 * Range peers and the peers learned from them (see site.h).
 *
 * A learned peer is named "<range peer>/<address>" and bound to that one
 * address: a host with an IPv4 and an IPv6 address is two learned peers
 * with one principal, each confirmed on its own.  Listed peers come
 * first: an address a listed peer has is never looked up.
 *
 * Responder: the binding is checked only after the AP-REQ was verified
 * (no state and no lookup for an unauthenticated packet).  A check that
 * answers at once (pattern, file, a cached DNS answer) lets the same
 * message go on.  One that waits on DNS parks the verified command
 * (xact_input.c keeps the message and the acceptor with its session key:
 * the AP-REQ is not verified again, which the replay cache would refuse)
 * and resumes it when the answer comes, as if it had been cached, so a
 * new pair's first CREATE costs one lookup, not a retransmission
 * interval.  At most one parked command per lookup (one lookup per
 * source), SITE_PARK_MAX bytes in all; over that the command is dropped
 * as before (counted, drop_park_full) and the initiator's retransmission
 * finds the answer cached.  The initiator's retransmissions meanwhile
 * (each with a new authenticator) are dropped as duplicates.
 */
#include <sys/queue.h>
#include <sys/tree.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "engine.h"
#include "hostid.h"
#include "log.h"
#include "peer.h"
#include "sarec.h"
#include "site.h"
#include "stats.h"
#include "timer.h"
#include "xact.h"

#define SITE_MAX_PENDING	256	/* lookups in flight, all kinds */
#define SITE_SWEEP_MS		1000

struct site_req {
	TAILQ_ENTRY(site_req)	 sq_entry;
	struct kink_engine	*sq_en;
	char			 sq_range[CTL_NAME_MAX + 1];
	struct sockaddr_storage	 sq_addr;	/* the host, port 0 */
	struct sockaddr_storage	 sq_local;	/* responder: our address */
	int			 sq_resp;
	/* initiator */
	char			 sq_policy[POL_NAME_MAX];
	uint32_t		 sq_reqid;
	struct xact_waiter	*sq_w;
	/* responder: set when the callback ran before hostid_check returned */
	struct kink_peer	*sq_made;
	/* responder: the parked command's continuation, NULL if none */
	site_resume_cb		*sq_resume;
	void			*sq_rarg;
	size_t			 sq_rbytes;
};

struct site {
	TAILQ_HEAD(, site_req)	 s_reqs;
	int			 s_nreqs;
	size_t			 s_parked;	/* bytes, all sq_rbytes */
	struct timer		 s_sweep;
};

static void site_sweep(void *);

static struct site *
site_get(struct kink_engine *en)
{
	struct site *s;

	if (en->en_site != NULL)
		return en->en_site;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("site");
		return NULL;
	}
	TAILQ_INIT(&s->s_reqs);
	if (timer_init(&s->s_sweep, en->en_base, site_sweep, en) == -1) {
		free(s);
		return NULL;
	}
	en->en_site = s;
	return s;
}

static void
req_free(struct kink_engine *en, struct site_req *sq)
{
	TAILQ_REMOVE(&en->en_site->s_reqs, sq, sq_entry);
	en->en_site->s_nreqs--;
	free(sq);
}

/* The parked command of `sq` handed back (its caller frees it). */
static void
unpark(struct kink_engine *en, struct site_req *sq, struct kink_peer *pe,
    int refused)
{
	site_resume_cb *fn = sq->sq_resume;

	if (fn == NULL)
		return;
	sq->sq_resume = NULL;
	en->en_site->s_parked -= sq->sq_rbytes;
	fn(sq->sq_rarg, pe, refused);
}

void
site_fini(struct kink_engine *en)
{
	struct site *s = en->en_site;
	struct site_req *sq;

	if (s == NULL)
		return;
	while ((sq = TAILQ_FIRST(&s->s_reqs)) != NULL) {
		if (en->en_hostid != NULL)
			hostid_cancel(en->en_hostid, sq);
		if (sq->sq_w != NULL)
			xact_waiter_done(sq->sq_w, 0, CTL_ERR_FAILED,
			    "shutting down");
		unpark(en, sq, NULL, 0);
		req_free(en, sq);
	}
	timer_fini(&s->s_sweep);
	free(s);
	en->en_site = NULL;
}

int
site_reqid(struct kink_engine *en, uint32_t reqid)
{
	const struct kink_conf *c = en->en_conf;

	for (int i = 0; c != NULL && i < c->c_npeers; i++)
		for (int j = 0; c->c_peers[i].p_nranges > 0 &&
		    j < c->c_peers[i].p_npolicies; j++)
			if (c->c_peers[i].p_policies[j].pol_reqid == reqid)
				return 1;
	return 0;
}

struct kink_peer *
site_peer_by_addr(struct kink_engine *en, const struct sockaddr *sa)
{
	struct kink_peer *pe;

	TAILQ_FOREACH(pe, &en->en_peers, pe_entry)
		if (pe->pe_learned && pe->pe_conf != NULL &&
		    addr_eq(addr_sa(&pe->pe_conf->p_addrs[0]), sa))
			return pe;
	return NULL;
}

static void
rule_of(const struct conf_peer *cp, struct hostid_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->mode = (enum hostid_mode)cp->p_find;
	r->principal = cp->p_principal;
	if (cp->p_find == CONF_FIND_PATTERN)
		r->pattern = cp->p_find_arg;
	else if (cp->p_find == CONF_FIND_FILE)
		r->file = cp->p_find_arg;
}

/* The range peer `name` still covers `sa`, and no listed peer has it. */
static struct conf_peer *
range_for(struct kink_engine *en, const char *name, const struct sockaddr *sa)
{
	struct conf_peer *cp = conf_peer_by_range(en->en_conf, sa);

	if (cp == NULL || (name != NULL && strcmp(cp->p_name, name) != 0) ||
	    conf_peer_by_addr(en->en_conf, sa) != NULL)
		return NULL;
	return cp;
}

/* Room for one more learned peer, else the refusal logged. */
static int
cap_ok(struct kink_engine *en, const char *range, const char *a)
{
	if ((uint32_t)en->en_nlearned < en->en_conf->c_max_learned)
		return 1;
	if (engine_log_ok(en))
		log_warnx("peer %s: %s: refused, max-learned-peers (%u) "
		    "reached; nothing created", range, a,
		    en->en_conf->c_max_learned);
	return 0;
}

/* A learned peer for `addr` made from range peer `cp`; NULL if refused. */
static struct kink_peer *
learned_make(struct kink_engine *en, struct conf_peer *cp,
    const struct sockaddr *addr, const struct sockaddr *local,
    const char *princ, const char *how)
{
	char a[ADDR_STRLEN], name[CTL_NAME_MAX + 1], ep[4 * CTL_PRINC_MAX + 1];
	struct conf_peer *lc;
	struct kink_peer *pe;

	addr_ntop(addr, a, sizeof(a));
	log_esc(ep, sizeof(ep), princ, strlen(princ));
	if (!cap_ok(en, cp->p_name, a))
		return NULL;
	if (strlen(princ) > CTL_PRINC_MAX || ((pe = peer_by_principal(en,
	    princ)) != NULL && !pe->pe_learned)) {
		log_warnx("peer %s: %s: principal %s is a listed peer's or "
		    "too long; refused, nothing created", cp->p_name, a, ep);
		return NULL;
	}
	snprintf(name, sizeof(name), "%s/%s", cp->p_name, a);
	if ((lc = conf_peer_learned(cp, name, princ, addr, local)) == NULL) {
		log_warnx("peer %s: %s: no policy of range peer %s for this "
		    "address family; nothing created", name, a, cp->p_name);
		return NULL;
	}
	if ((pe = xact_peer_add(en, lc)) == NULL) {
		conf_peer_free(lc);
		return NULL;
	}
	pe->pe_learned = 1;
	en->en_nlearned++;
	strlcpy(pe->pe_range, cp->p_name, sizeof(pe->pe_range));
	strlcpy(pe->pe_how, how, sizeof(pe->pe_how));
	pe->pe_idle_ms = timer_now_ms();
	memcpy(&pe->pe_local, local, local->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	log_info("peer %s: learned, principal %s (%s)", name, ep, how);
	engine_event(en, CTL_EV_PEER_LEARNED, name, 0, "principal %s (%s)",
	    princ, how);
	if (en->en_site != NULL && !timer_pending(&en->en_site->s_sweep))
		timer_add_ms(&en->en_site->s_sweep, SITE_SWEEP_MS);
	return pe;
}

/* The CREATEs of an initiator request, on its (learned) peer. */
static void
req_start(struct kink_engine *en, struct kink_peer *pe, const char *policy,
    uint32_t reqid, struct xact_waiter *w)
{
	struct kink_policy *pol;
	int n = 0;

	for (int i = 0; i < pe->pe_conf->p_npolicies; i++) {
		pol = &pe->pe_conf->p_policies[i];
		if ((policy[0] != '\0' && strcmp(pol->pol_name, policy) != 0) ||
		    (reqid != 0 && pol->pol_reqid != reqid))
			continue;
		if (w == NULL && xact_create_in_progress(en, pe, pol->pol_name))
			continue;
		n++;
		if (xact_create_start(en, pe, pol, w, 0) == -1 && w != NULL &&
		    !w->w_failed) {
			w->w_failed = 1;
			w->w_code = CTL_ERR_FAILED;
			snprintf(w->w_text, sizeof(w->w_text), "policy %s: "
			    "CREATE not started (see the log)", pol->pol_name);
		}
	}
	if (n == 0 && w != NULL && !w->w_failed) {
		w->w_failed = 1;
		w->w_code = CTL_ERR_NOPOLICY;
		snprintf(w->w_text, sizeof(w->w_text), "peer %s has no such "
		    "policy", pe->pe_name);
	}
}

static const char *
refusal(enum hostid_status st)
{
	return hostid_status_str(st);
}

/* hostid's answer for an initiator request. */
static void
init_found(void *arg, enum hostid_status st, const char *princ,
    const char *how)
{
	struct site_req *sq = arg;
	struct kink_engine *en = sq->sq_en;
	struct kink_peer *pe = NULL;
	struct conf_peer *cp;
	struct sockaddr_storage local;
	char a[ADDR_STRLEN], text[256];

	addr_ntop(addr_sa(&sq->sq_addr), a, sizeof(a));
	if ((cp = range_for(en, sq->sq_range, addr_sa(&sq->sq_addr))) == NULL)
		snprintf(text, sizeof(text), "%s: no longer in range peer %s",
		    a, sq->sq_range);
	else if (st != HOSTID_OK || princ == NULL)
		snprintf(text, sizeof(text), "%s: host not found (%s, %s); "
		    "nothing created", a, refusal(st), how ? how : "-");
	else if ((pe = site_peer_by_addr(en, addr_sa(&sq->sq_addr))) == NULL) {
		if (engine_local_for(en, &sq->sq_addr, &local) == -1)
			snprintf(text, sizeof(text), "%s: no local address "
			    "towards it", a);
		else if ((pe = learned_make(en, cp, addr_sa(&sq->sq_addr),
		    addr_sa(&local), princ, how ? how : "")) == NULL)
			snprintf(text, sizeof(text), "%s: refused (see the "
			    "log)", a);
	}
	if (pe == NULL) {
		if (strstr(text, "see the log") == NULL && engine_log_ok(en))
			log_warnx("peer %s: %s", sq->sq_range, text);
		if (sq->sq_w != NULL)
			xact_waiter_done(sq->sq_w, 0, CTL_ERR_FAILED, text);
	} else {
		req_start(en, pe, sq->sq_policy, sq->sq_reqid, sq->sq_w);
		if (sq->sq_w != NULL)
			xact_waiter_done(sq->sq_w, 1, 0, "");
	}
	req_free(en, sq);
}

static struct site_req *
req_new(struct kink_engine *en, const struct conf_peer *cp,
    const struct sockaddr *addr)
{
	struct site *s = site_get(en);
	struct site_req *sq;
	char a[ADDR_STRLEN];

	if (s == NULL)
		return NULL;
	if (s->s_nreqs >= SITE_MAX_PENDING || en->en_hostid == NULL) {
		addr_ntop(addr, a, sizeof(a));
		if (engine_log_ok(en))
			log_warnx("peer %s: %s: %s; nothing created",
			    cp->p_name, a, en->en_hostid == NULL ?
			    "no host name finder" : "too many lookups pending");
		return NULL;
	}
	if ((sq = calloc(1, sizeof(*sq))) == NULL) {
		log_warn("site");
		return NULL;
	}
	sq->sq_en = en;
	strlcpy(sq->sq_range, cp->p_name, sizeof(sq->sq_range));
	memcpy(&sq->sq_addr, addr, addr->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	addr_set_port(&sq->sq_addr, 0);
	TAILQ_INSERT_TAIL(&s->s_reqs, sq, sq_entry);
	s->s_nreqs++;
	return sq;
}

int
site_initiate(struct kink_engine *en, const struct sockaddr *addr,
    const char *policy, uint32_t reqid, struct xact_waiter *w)
{
	struct conf_peer *cp;
	struct kink_peer *pe;
	struct site_req *sq;
	struct hostid_rule rule;
	char a[ADDR_STRLEN];

	if ((cp = range_for(en, NULL, addr)) == NULL)
		return -1;
	if ((pe = site_peer_by_addr(en, addr)) != NULL) {
		if (w != NULL)
			w->w_pending++;
		req_start(en, pe, policy, reqid, w);
		if (w != NULL)
			xact_waiter_done(w, 1, 0, "");
		return 0;
	}
	addr_ntop(addr, a, sizeof(a));
	if (!cap_ok(en, cp->p_name, a) || (sq = req_new(en, cp, addr)) ==
	    NULL) {
		if (w != NULL) {
			w->w_pending++;
			xact_waiter_done(w, 0, CTL_ERR_FAILED, "refused: "
			    "max-learned-peers reached or too many lookups "
			    "(see the log)");
		}
		return 0;
	}
	strlcpy(sq->sq_policy, policy, sizeof(sq->sq_policy));
	sq->sq_reqid = reqid;
	sq->sq_w = w;
	if (w != NULL)
		w->w_pending++;
	rule_of(cp, &rule);
	log_debug("peer %s: %s: finding the host (%s)", cp->p_name, a,
	    cp->p_find == CONF_FIND_DNS ? "dns" : cp->p_find ==
	    CONF_FIND_PATTERN ? "pattern" : "file");
	/* The callback may run (and free sq) before this returns. */
	if (hostid_lookup(en->en_hostid, &rule, addr, init_found, sq) == -1)
		init_found(sq, HOSTID_TEMPFAIL, NULL, "could not start");
	return 0;
}

/* hostid's answer for a responder check. */
static void
resp_checked(void *arg, enum hostid_status st, const char *princ,
    const char *how)
{
	struct site_req *sq = arg;
	struct kink_engine *en = sq->sq_en;
	struct conf_peer *cp;
	struct kink_peer *pe;
	char a[ADDR_STRLEN], ep[4 * CTL_PRINC_MAX + 1];

	addr_ntop(addr_sa(&sq->sq_addr), a, sizeof(a));
	log_esc(ep, sizeof(ep), princ ? princ : "?", princ ? strlen(princ) :
	    1);
	sq->sq_made = NULL;
	if ((cp = range_for(en, sq->sq_range, addr_sa(&sq->sq_addr))) ==
	    NULL) {
		sq->sq_made = NULL;
	} else if (st != HOSTID_OK) {
		if (engine_log_ok(en))
			log_warnx("peer %s: CREATE from %s, principal %s: "
			    "refused, %s (%s, %s); nothing created", cp->p_name,
			    a, ep, st == HOSTID_TEMPFAIL || st == HOSTID_LIMITED ?
			    "its address cannot be confirmed now" :
			    "the principal is not bound to that address",
			    refusal(st), how ? how : "-");
	} else if ((pe = site_peer_by_addr(en, addr_sa(&sq->sq_addr))) ==
	    NULL)
		sq->sq_made = learned_make(en, cp, addr_sa(&sq->sq_addr),
		    addr_sa(&sq->sq_local), princ, how ? how : "");
	else if (sq->sq_resume != NULL && princ != NULL &&
	    strcmp(pe->pe_principal, princ) == 0)
		sq->sq_made = pe;	/* made meanwhile (our own initiate) */
	if (sq->sq_resp == 1) {	/* hostid_check has not returned: it reads */
		sq->sq_resp = 2;
		return;
	}
	/* Off the list first: the resumed command may start new checks. */
	TAILQ_REMOVE(&en->en_site->s_reqs, sq, sq_entry);
	en->en_site->s_nreqs--;
	unpark(en, sq, sq->sq_made, sq->sq_made == NULL);
	free(sq);
}

/* The command of a check that did not answer at once: parked, or not. */
static enum site_verdict
park(struct kink_engine *en, struct site_req *sq, const char *range,
    const char *a, site_resume_cb *resume, void *arg, size_t bytes)
{
	struct site *s = en->en_site;
	size_t max = en->en_park_max ? en->en_park_max : SITE_PARK_MAX;

	if (resume == NULL)
		return SITE_REFUSED;
	if (s->s_parked > max || bytes > max - s->s_parked) {
		stats_inc(STAT_DROP_PARK);
		log_debug("peer %s: CREATE from %s: checking the principal's "
		    "address; %zu bytes parked already, dropped meanwhile",
		    range, a, s->s_parked);
		return SITE_REFUSED;
	}
	sq->sq_resume = resume;
	sq->sq_rarg = arg;
	sq->sq_rbytes = bytes;
	s->s_parked += bytes;
	log_debug("peer %s: command from %s: checking the principal's "
	    "address, parked meanwhile", range, a);
	return SITE_PARKED;
}

struct kink_peer *
site_input(struct kink_engine *en, const char *princ,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to,
    site_resume_cb *resume, void *arg, size_t bytes, enum site_verdict *v)
{
	struct kink_peer *pe;
	struct conf_peer *cp;
	struct site_req *sq;
	struct hostid_rule rule;
	char a[ADDR_STRLEN], ep[4 * CTL_PRINC_MAX + 1];

	*v = SITE_REFUSED;
	if ((pe = site_peer_by_addr(en, addr_sa(from))) != NULL) {
		if (strcmp(pe->pe_principal, princ) == 0)
			return pe;
		addr_ntop(addr_sa(from), a, sizeof(a));
		log_esc(ep, sizeof(ep), princ, strlen(princ));
		if (engine_log_ok(en))
			log_warnx("peer %s: command from %s by principal %s: "
			    "refused, that address is bound to another "
			    "principal", pe->pe_name, a, ep);
		return NULL;
	}
	if ((cp = range_for(en, NULL, addr_sa(from))) == NULL)
		return NULL;
	addr_ntop(addr_sa(from), a, sizeof(a));
	if (en->en_site != NULL)
		TAILQ_FOREACH(sq, &en->en_site->s_reqs, sq_entry)
			if (sq->sq_resp && addr_eq(addr_sa(&sq->sq_addr),
			    addr_sa(from))) {
				*v = SITE_DUP;	/* already being checked */
				return NULL;
			}
	if (!cap_ok(en, cp->p_name, a) || (sq = req_new(en, cp, addr_sa(from)))
	    == NULL)
		return NULL;
	memcpy(&sq->sq_local, to, sizeof(sq->sq_local));
	addr_set_port(&sq->sq_local, 0);
	sq->sq_resp = 1;
	rule_of(cp, &rule);
	if (hostid_check(en->en_hostid, &rule, princ, addr_sa(from),
	    resp_checked, sq) == -1) {
		sq->sq_resp = 3;
		resp_checked(sq, HOSTID_TEMPFAIL, princ, "could not start");
		return NULL;
	}
	if (sq->sq_resp == 2) {	/* answered at once */
		pe = sq->sq_made;
		req_free(en, sq);
		return pe;
	}
	sq->sq_resp = 3;
	*v = park(en, sq, cp->p_name, a, resume, arg, bytes);
	return NULL;
}

/*
 * Learned peers with no SA and no exchange for learned-idle are
 * forgotten; one timer for all of them.
 */
static void
site_sweep(void *arg)
{
	struct kink_engine *en = arg;
	struct kink_peer *pe, *next;
	uint64_t now = timer_now_ms();
	int left = 0;

	for (pe = TAILQ_FIRST(&en->en_peers); pe != NULL; pe = next) {
		next = TAILQ_NEXT(pe, pe_entry);
		if (!pe->pe_learned)
			continue;
		if (pe->pe_nsas > 0 || pe->pe_nxact > 0 || pe->pe_probe) {
			pe->pe_idle_ms = now;
			left++;
		} else if (now - pe->pe_idle_ms >=
		    en->en_conf->c_learned_idle_ms) {
			log_info("peer %s: learned peer idle for %u ms "
			    "without SAs, forgotten", pe->pe_name,
			    en->en_conf->c_learned_idle_ms);
			xact_peer_remove(pe, "learned peer idle");
		} else
			left++;
	}
	if (left > 0)
		timer_add_ms(&en->en_site->s_sweep, SITE_SWEEP_MS);
}

void
site_reload_prepare(struct kink_engine *en, struct kink_conf *nc)
{
	struct kink_peer *pe;
	struct conf_peer *cp;
	const struct sockaddr *a;
	struct site_req *sq;

	/* Parked commands go (their lookups stay, answers cached). */
	if (en->en_site != NULL)
		TAILQ_FOREACH(sq, &en->en_site->s_reqs, sq_entry)
			unpark(en, sq, NULL, 0);
	TAILQ_FOREACH(pe, &en->en_peers, pe_entry) {
		if (!pe->pe_learned || pe->pe_conf == NULL)
			continue;
		a = addr_sa(&pe->pe_conf->p_addrs[0]);
		cp = conf_peer_by_range(nc, a);
		pe->pe_next_conf = NULL;
		if (cp != NULL && strcmp(cp->p_name, pe->pe_range) == 0 &&
		    conf_peer_by_addr(nc, a) == NULL)
			pe->pe_next_conf = conf_peer_learned(cp, pe->pe_name,
			    pe->pe_principal, a, addr_sa(&pe->pe_local));
		if (pe->pe_next_conf == NULL)
			log_info("peer %s: reload: no range of peer %s covers "
			    "it any more, forgotten", pe->pe_name,
			    pe->pe_range);
	}
}
