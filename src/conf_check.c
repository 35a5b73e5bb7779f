/*
 * kinkd.conf parser, whole-file checks: what can only be decided once
 * every statement is read (listen ports, listen addresses or principals
 * given twice, tunnel endpoints taken from peers and listen addresses,
 * reqids), run by the parser at the end of a load.  Errors carry the
 * position of the statement they are about.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#define CONF_INTERNAL
#include "addr.h"
#include "conf.h"
#include "conf_parser.h"
#include "isakmp_num.h"

struct reqid_set {
	uint32_t	*rs_v;
	size_t		 rs_mask;
};

static int
reqid_has(const struct reqid_set *s, uint32_t v)
{
	for (size_t i = v & s->rs_mask; s->rs_v[i]; i = (i + 1) & s->rs_mask)
		if (s->rs_v[i] == v)
			return 1;
	return 0;
}

static void
reqid_add(struct reqid_set *s, uint32_t v)
{
	size_t i;

	for (i = v & s->rs_mask; s->rs_v[i]; i = (i + 1) & s->rs_mask)
		;
	s->rs_v[i] = v;
}

static void
finish_reqids(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	struct reqid_set s;
	size_t size = 16;

	while (size < 2 * (size_t)p->cp_npols + 1)
		size *= 2;
	if ((s.rs_v = calloc(size, sizeof(*s.rs_v))) == NULL) {
		conf_err(p->cp_errs, "conf", 0, 0, "out of memory");
		return;
	}
	s.rs_mask = size - 1;
	for (int i = 0; i < p->cp_npols; i++) {
		struct pol_info *pi = &p->cp_pols[i];
		struct kink_policy *pol;

		if (!pi->pi_fixed_reqid || !c->c_peers[pi->pi_peer].p_name)
			continue;
		pol = &c->c_peers[pi->pi_peer].p_policies[pi->pi_idx];
		if (reqid_has(&s, pol->pol_reqid))
			ctok_err_at(p, &pi->pi_at, "reqid %u is used twice",
			    pol->pol_reqid);
		else
			reqid_add(&s, pol->pol_reqid);
	}
	for (int i = 0; i < p->cp_npols; i++) {
		struct pol_info *pi = &p->cp_pols[i];
		struct conf_peer *pe = &c->c_peers[pi->pi_peer];
		struct kink_policy *pol;
		uint32_t r;

		if (pi->pi_fixed_reqid || pe->p_name == NULL)
			continue;
		pol = &pe->p_policies[pi->pi_idx];
		r = conf_reqid(pe->p_name, pol->pol_name);
		while (reqid_has(&s, r))
			r = r % CONF_REQID_MAX + 1;
		reqid_add(&s, r);
		pol->pol_reqid = r;
	}
	free(s.rs_v);
}

/* The one listen address of family `af` that is not a wildcard. */
static const struct sockaddr_storage *
sole_listen(const struct kink_conf *c, int af)
{
	const struct sockaddr_storage *found = NULL;

	for (int i = 0; i < c->c_nlisten; i++) {
		struct sockaddr_storage ss = c->c_listen[i].l_addr;

		if (ss.ss_family != af || addr_is_any(addr_sa(&ss)))
			continue;
		if (found && !addr_eq(addr_sa(found), addr_sa(&ss)))
			return NULL;
		found = &c->c_listen[i].l_addr;
	}
	return found;
}

static void
finish_tunnels(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;

	for (int i = 0; i < p->cp_npols; i++) {
		struct pol_info *pi = &p->cp_pols[i];
		struct conf_peer *pe = &c->c_peers[pi->pi_peer];
		struct kink_policy *pol = &pe->p_policies[pi->pi_idx];
		const struct sockaddr_storage *l;
		int af;

		if (pe->p_name == NULL || pol->pol_mode != ENCAP_MODE_TUNNEL)
			continue;
		if (!pi->pi_remote_set) {
			/*
			 * The peer's first address of the local endpoint's
			 * family, else of the traffic's, else any.
			 */
			af = pi->pi_local_set ? pol->pol_tun_local.ss_family :
			    pol->pol_src.sel_addr.ss_family;
			for (int j = 0; j < pe->p_naddrs; j++)
				if (pe->p_addrs[j].ss_family == af) {
					pol->pol_tun_remote = pe->p_addrs[j];
					break;
				}
			if (pol->pol_tun_remote.ss_family == 0 &&
			    !pi->pi_local_set && pe->p_naddrs > 0)
				pol->pol_tun_remote = pe->p_addrs[0];
			if (pol->pol_tun_remote.ss_family == 0) {
				ctok_err_at(p, &pi->pi_at,
				    "tunnel mode needs a "
				    "remote endpoint: give peer \"%s\" an "
				    "\"address\" or the policy \"remote ADDR\"",
				    pe->p_name);
				continue;
			}
		}
		if (!pi->pi_local_set) {
			af = pol->pol_tun_remote.ss_family;
			if (pe->p_local.ss_family == af)
				pol->pol_tun_local = pe->p_local;
			else if ((l = sole_listen(c, af)) != NULL) {
				pol->pol_tun_local = *l;
				addr_set_port(&pol->pol_tun_local, 0);
			} else {
				ctok_err_at(p, &pi->pi_at,
				    "tunnel mode needs a "
				    "local endpoint: add \"local ADDR\" to "
				    "the policy or to peer \"%s\"", pe->p_name);
				continue;
			}
		}
		if (pol->pol_tun_local.ss_family != pol->pol_tun_remote.ss_family)
			ctok_err_at(p, &pi->pi_at, "tunnel endpoints differ in "
			    "address family");
	}
}

void
conf_check_finish(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	int n;

	if (c->c_nlisten == 0) {
		c->c_listen = calloc(2, sizeof(*c->c_listen));
		if (c->c_listen == NULL) {
			conf_err(p->cp_errs, "conf", 0, 0, "out of memory");
			return;
		}
		c->c_listen[0].l_addr.ss_family = AF_INET;
		c->c_listen[1].l_addr.ss_family = AF_INET6;
		addr_set_port(&c->c_listen[0].l_addr, c->c_port);
		addr_set_port(&c->c_listen[1].l_addr, c->c_port);
		c->c_nlisten = 2;
	} else
		for (int i = 0; i < c->c_nlisten; i++)
			if (!p->cp_listen[i].li_port_set)
				addr_set_port(&c->c_listen[i].l_addr,
				    c->c_port);
	for (int i = 0; p->cp_listen && i < c->c_nlisten; i++)
		for (int j = 0; j < i; j++)
			if (addr_eq(addr_sa(&c->c_listen[i].l_addr),
			    addr_sa(&c->c_listen[j].l_addr)) &&
			    addr_port(addr_sa(&c->c_listen[i].l_addr)) ==
			    addr_port(addr_sa(&c->c_listen[j].l_addr))) {
				ctok_err_at(p, &p->cp_listen[i].li_at, "listen "
				    "address and port given twice");
				break;
			}
	for (int i = 0; i < c->c_npeers; i++) {
		struct conf_peer *a = &c->c_peers[i];

		/* Range peers' principals are patterns: ranges may share one. */
		if (a->p_name == NULL || a->p_principal == NULL ||
		    a->p_nranges > 0)
			continue;
		for (int j = 0; j < i; j++) {
			struct conf_peer *b = &c->c_peers[j];

			if (b->p_name && b->p_principal && b->p_nranges == 0 &&
			    strcmp(a->p_principal, b->p_principal) == 0) {
				ctok_err_at(p, &p->cp_peers[i].pe_principal_at,
				    "principal \"%s\" already belongs to peer "
				    "\"%s\"", a->p_principal, b->p_name);
				break;
			}
		}
	}
	finish_tunnels(p);
	finish_reqids(p);

	/* Drop duplicate peers (already reported) to keep lookups simple. */
	n = 0;
	for (int i = 0; i < c->c_npeers; i++) {
		if (c->c_peers[i].p_name == NULL) {
			free(c->c_peers[i].p_principal);
			free(c->c_peers[i].p_policies);
			free(c->c_peers[i].p_find_arg);
			continue;
		}
		c->c_peers[n++] = c->c_peers[i];
	}
	c->c_npeers = n;
}
