/*
 * The configuration object, apart from the grammar that fills it
 * (conf_parse.c): its defaults and its freeing, the lookups the daemon
 * does, the reqid and the traffic-derived policy name, and the
 * comparison a reload uses to keep SAs.  These are what the daemon and
 * the tests call on a loaded struct kink_conf, so they do not need the
 * parser's state.  Pure like the parser: no logging.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#define CONF_INTERNAL
#include "addr.h"
#include "conf.h"

/* ---------------------------------------------------------------- */
/* Defaults */

/*
 * One verification worker per online CPU, at most 8 (past that the loop
 * itself is the limit); none on a single CPU, where a thread would only
 * add a hand-off to the same core's work.
 */
int
conf_default_krb_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n <= 1)
		return 0;
	return n > CONF_DEF_KRB_WORKERS_CAP ? CONF_DEF_KRB_WORKERS_CAP : (int)n;
}

int
conf_krb_workers(const struct kink_conf *c)
{
	return c->c_krb_workers == CONF_KRB_WORKERS_AUTO ?
	    conf_default_krb_workers() : c->c_krb_workers;
}

struct kink_conf *
conf_new_defaults(void)
{
	struct kink_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->c_keytab = strdup(KINKD_KEYTAB);
	c->c_socket = strdup(KINKD_SOCKET);
	c->c_user = strdup(KINKD_USER);
	if (c->c_keytab == NULL || c->c_socket == NULL || c->c_user == NULL) {
		conf_free(c);
		return NULL;
	}
	c->c_port = CONF_DEF_PORT;
	c->c_retrans_ms = CONF_DEF_RETRANS_MS;
	c->c_retrans_max_ms = CONF_DEF_RETRANS_MAX_MS;
	c->c_retrans_tries = CONF_DEF_RETRANS_TRIES;
	c->c_deadpeer_ms = CONF_DEF_DEADPEER_MS;
	c->c_reconcile_ms = CONF_DEF_RECONCILE_MS;
	c->c_delgrace_ms = CONF_DEF_DELGRACE_MS;
	c->c_replycache_ms = CONF_DEF_REPLYCACHE_MS;
	c->c_max_xact_peer = CONF_DEF_MAX_XACT_PEER;
	c->c_max_xact = CONF_DEF_MAX_XACT;
	c->c_backend = CONF_BACKEND_AUTO;
	c->c_shutdown = CONF_SHUTDOWN_FLUSH;
	c->c_max_learned = CONF_DEF_MAX_LEARNED;
	c->c_learned_idle_ms = CONF_DEF_LEARNED_IDLE_MS;
	c->c_krb_workers = CONF_KRB_WORKERS_AUTO;
	return c;
}

void
conf_free(struct kink_conf *c)
{
	if (c == NULL)
		return;
	free(c->c_principal);
	free(c->c_keytab);
	free(c->c_socket);
	free(c->c_user);
	free(c->c_listen);
	free(c->c_xsets);
	for (int i = 0; i < c->c_npeers; i++) {
		free(c->c_peers[i].p_name);
		free(c->c_peers[i].p_principal);
		free(c->c_peers[i].p_policies);
		free(c->c_peers[i].p_find_arg);
	}
	free(c->c_peers);
	free(c);
}

/* ---------------------------------------------------------------- */
/* Reqids and policy names */

static uint32_t
fnv1a(uint32_t h, const void *v, size_t len)
{
	const uint8_t *b = v;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619U;
	}
	return h;
}

uint32_t
conf_reqid(const char *peer, const char *policy)
{
	uint32_t h = 2166136261U;

	h = fnv1a(h, peer, strlen(peer) + 1);
	h = fnv1a(h, policy, strlen(policy));
	return h % CONF_REQID_MAX + 1;
}

static uint32_t
hash_sel(uint32_t h, struct kink_selector *sel)
{
	/* Byte by byte, so names do not depend on the host's byte order. */
	uint8_t v[3] = { sel->sel_plen, (uint8_t)(sel->sel_port >> 8),
	    (uint8_t)sel->sel_port };
	size_t len;
	const uint8_t *b;

	/* "me"/"peer": the word, so a listed peer's names stay as they were */
	if (sel->sel_var != 0)
		h = fnv1a(h, sel->sel_var == SEL_VAR_ME ? "me" : "peer",
		    sel->sel_var == SEL_VAR_ME ? 2 : 4);
	else if ((b = addr_bytes(addr_sa(&sel->sel_addr), &len)) != NULL)
		h = fnv1a(h, b, len);
	return fnv1a(h, v, sizeof(v));
}

/* An unnamed policy is named after its traffic, so the name (and with it
 * the reqid) stays put when other policies are added or removed. */
void
conf_policy_autoname(struct kink_policy *pol, int esp)
{
	uint32_t h = 2166136261U;
	uint8_t v[3] = { pol->pol_mode, pol->pol_ulproto, (uint8_t)esp };

	h = fnv1a(h, v, sizeof(v));
	h = hash_sel(h, &pol->pol_src);
	h = hash_sel(h, &pol->pol_dst);
	snprintf(pol->pol_name, sizeof(pol->pol_name), "p%08x", h);
}

/* ---------------------------------------------------------------- */
/* Lookups and reload comparison */

struct conf_peer *
conf_peer_by_name(const struct kink_conf *c, const char *name)
{
	for (int i = 0; i < c->c_npeers; i++)
		if (c->c_peers[i].p_name &&
		    strcmp(c->c_peers[i].p_name, name) == 0)
			return &c->c_peers[i];
	return NULL;
}

struct conf_peer *
conf_peer_by_principal(const struct kink_conf *c, const char *princ)
{
	for (int i = 0; i < c->c_npeers; i++)
		if (c->c_peers[i].p_principal &&
		    strcmp(c->c_peers[i].p_principal, princ) == 0)
			return &c->c_peers[i];
	return NULL;
}

struct conf_peer *
conf_peer_by_addr(const struct kink_conf *c, const struct sockaddr *sa)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (sa->sa_family == AF_INET)
		memcpy(&ss, sa, sizeof(struct sockaddr_in));
	else if (sa->sa_family == AF_INET6)
		memcpy(&ss, sa, sizeof(struct sockaddr_in6));
	else
		return NULL;
	for (int i = 0; i < c->c_npeers; i++)
		for (int j = 0; j < c->c_peers[i].p_naddrs; j++)
			if (addr_eq(addr_sa(&c->c_peers[i].p_addrs[j]),
			    addr_sa(&ss)))
				return &c->c_peers[i];
	return NULL;
}

struct kink_policy *
conf_policy_by_name(const struct conf_peer *pe, const char *name)
{
	for (int i = 0; i < pe->p_npolicies; i++)
		if (strcmp(pe->p_policies[i].pol_name, name) == 0)
			return &pe->p_policies[i];
	return NULL;
}

/* `sa` lies in prefix `sel` (same family, the first sel_plen bits). */
static int
sel_holds(const struct kink_selector *sel, const struct sockaddr *sa)
{
	const uint8_t *a, *b;
	size_t alen, blen, i;
	unsigned bits = sel->sel_plen;

	if (sel->sel_addr.ss_family != sa->sa_family ||
	    (a = addr_bytes(addr_sa(&sel->sel_addr), &alen)) == NULL ||
	    (b = addr_bytes(sa, &blen)) == NULL || alen != blen ||
	    bits > alen * 8)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != b[i])
			return 0;
	return bits == 0 ||
	    ((a[i] ^ b[i]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

struct conf_peer *
conf_peer_by_range(const struct kink_conf *c, const struct sockaddr *sa)
{
	struct conf_peer *best = NULL;
	int bestlen = -1;

	for (int i = 0; i < c->c_npeers; i++)
		for (int j = 0; c->c_peers[i].p_name != NULL &&
		    j < c->c_peers[i].p_nranges; j++) {
			const struct kink_selector *r = &c->c_peers[i].p_ranges[j];

			if (r->sel_plen > bestlen && sel_holds(r, sa)) {
				best = &c->c_peers[i];
				bestlen = r->sel_plen;
			}
		}
	return best;
}

/* "me"/"peer" of a template selector resolved for one learned peer. */
static void
sel_fill(struct kink_selector *sel, const struct sockaddr *addr,
    const struct sockaddr *local)
{
	const struct sockaddr *v = sel->sel_var == SEL_VAR_ME ? local : addr;

	if (sel->sel_var == 0)
		return;
	memset(&sel->sel_addr, 0, sizeof(sel->sel_addr));
	memcpy(&sel->sel_addr, v, v->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	addr_set_port(&sel->sel_addr, 0);
	sel->sel_plen = v->sa_family == AF_INET ? 32 : 128;
}

int
conf_policy_spd(const struct conf_peer *cp, const struct kink_policy *pol,
    struct kink_policy *out, int max)
{
	int n = 0;

	if (pol->pol_src.sel_var == 0 && pol->pol_dst.sel_var == 0) {
		if (max < 1)
			return 0;
		out[0] = *pol;
		return 1;
	}
	for (int i = 0; i < cp->p_nranges && n < max; i++) {
		const struct kink_selector *r = &cp->p_ranges[i];
		struct kink_policy q = *pol;
		struct kink_selector *sels[2] = { &q.pol_src, &q.pol_dst };
		int ok = 1;

		for (int k = 0; k < 2; k++) {
			struct kink_selector *sel = sels[k];
			uint16_t port = sel->sel_port;

			if (sel->sel_var == SEL_VAR_PEER) {
				*sel = *r;
				sel->sel_port = port;
			} else if (sel->sel_var == SEL_VAR_ME) {
				memset(sel, 0, sizeof(*sel));
				sel->sel_addr.ss_family = r->sel_addr.ss_family;
				sel->sel_port = port;
			} else if (sel->sel_addr.ss_family !=
			    r->sel_addr.ss_family)
				ok = 0;
		}
		if (ok)
			out[n++] = q;
	}
	return n;
}

void
conf_peer_free(struct conf_peer *cp)
{
	if (cp == NULL)
		return;
	free(cp->p_name);
	free(cp->p_principal);
	free(cp->p_policies);
	free(cp->p_find_arg);
	free(cp);
}

struct conf_peer *
conf_peer_bare(const struct conf_peer *cp)
{
	struct conf_peer *c;

	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	*c = *cp;
	c->p_policies = NULL;
	c->p_npolicies = 0;
	c->p_find_arg = NULL;
	c->p_name = strdup(cp->p_name);
	c->p_principal = strdup(cp->p_principal);
	if (c->p_name == NULL || c->p_principal == NULL) {
		conf_peer_free(c);
		return NULL;
	}
	return c;
}

struct conf_peer *
conf_peer_learned(const struct conf_peer *tmpl, const char *name,
    const char *principal, const struct sockaddr *addr,
    const struct sockaddr *local)
{
	struct conf_peer *cp;
	int af = addr->sa_family;

	if (local->sa_family != af || (af != AF_INET && af != AF_INET6) ||
	    (cp = calloc(1, sizeof(*cp))) == NULL)
		return NULL;
	cp->p_name = strdup(name);
	cp->p_principal = strdup(principal);
	cp->p_policies = calloc(tmpl->p_npolicies + 1, sizeof(*cp->p_policies));
	if (cp->p_name == NULL || cp->p_principal == NULL ||
	    cp->p_policies == NULL) {
		conf_peer_free(cp);
		return NULL;
	}
	memcpy(&cp->p_addrs[0], addr, af == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	addr_set_port(&cp->p_addrs[0], 0);
	cp->p_naddrs = 1;
	cp->p_local = tmpl->p_local;
	cp->p_prf = tmpl->p_prf;
	cp->p_u2u = tmpl->p_u2u;
	cp->p_resp_life = tmpl->p_resp_life;
	cp->p_find = tmpl->p_find;
	for (int i = 0; i < tmpl->p_npolicies; i++) {
		struct kink_policy pol = tmpl->p_policies[i];

		sel_fill(&pol.pol_src, addr, local);
		sel_fill(&pol.pol_dst, addr, local);
		if (pol.pol_src.sel_addr.ss_family != af ||
		    pol.pol_dst.sel_addr.ss_family != af)
			continue;
		cp->p_policies[cp->p_npolicies++] = pol;
	}
	if (cp->p_npolicies == 0) {
		conf_peer_free(cp);
		return NULL;
	}
	return cp;
}

static int
sel_same(const struct kink_selector *a, const struct kink_selector *b)
{
	if (a->sel_var != 0 || b->sel_var != 0)
		return a->sel_var == b->sel_var && a->sel_port == b->sel_port;
	return addr_eq(addr_sa(&a->sel_addr), addr_sa(&b->sel_addr)) &&
	    a->sel_plen == b->sel_plen && a->sel_port == b->sel_port;
}

static int
xform_same(const struct kink_xform *a, const struct kink_xform *b)
{
	if (a->x_present != b->x_present)
		return 0;
	return !a->x_present || (a->x_id == b->x_id &&
	    a->x_keylen == b->x_keylen && a->x_auth == b->x_auth);
}

static int
tun_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family == 0 || b->ss_family == 0)
		return a->ss_family == b->ss_family;
	return addr_eq(addr_sa(a), addr_sa(b));
}

int
conf_policy_same(const struct kink_policy *a, const struct kink_policy *b)
{
	if (strcmp(a->pol_name, b->pol_name) != 0 ||
	    a->pol_reqid != b->pol_reqid || a->pol_mode != b->pol_mode ||
	    a->pol_ulproto != b->pol_ulproto ||
	    a->pol_nsuites != b->pol_nsuites ||
	    a->pol_life_secs != b->pol_life_secs ||
	    a->pol_life_kbytes != b->pol_life_kbytes ||
	    a->pol_pfs_group != b->pol_pfs_group ||
	    a->pol_pfs_optional != b->pol_pfs_optional ||
	    !sel_same(&a->pol_src, &b->pol_src) ||
	    !sel_same(&a->pol_dst, &b->pol_dst) ||
	    !tun_same(&a->pol_tun_local, &b->pol_tun_local) ||
	    !tun_same(&a->pol_tun_remote, &b->pol_tun_remote))
		return 0;
	for (int i = 0; i < a->pol_nsuites; i++)
		if (!xform_same(&a->pol_suites[i].s_esp,
		    &b->pol_suites[i].s_esp) ||
		    !xform_same(&a->pol_suites[i].s_ah, &b->pol_suites[i].s_ah) ||
		    !xform_same(&a->pol_suites[i].s_ipcomp,
		    &b->pol_suites[i].s_ipcomp))
			return 0;
	return 1;
}

uint32_t
conf_retrans_cycle_ms(const struct kink_conf *c)
{
	uint64_t total = 0, iv = c->c_retrans_ms;
	uint32_t i;

	for (i = 0; i < c->c_retrans_tries; i++) {
		total += iv;
		iv = iv * 2 > c->c_retrans_max_ms ? c->c_retrans_max_ms :
		    iv * 2;
	}
	return total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
}
