/* The peer table (see peer.h). */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "peer.h"

struct kink_peer *
peer_new(struct kink_engine *en, struct conf_peer *cp)
{
	struct kink_peer *pe;

	if ((pe = calloc(1, sizeof(*pe))) == NULL) {
		log_warn("peer_new");
		return NULL;
	}
	pe->pe_en = en;
	pe->pe_conf = cp;
	strlcpy(pe->pe_name, cp->p_name, sizeof(pe->pe_name));
	strlcpy(pe->pe_principal, cp->p_principal, sizeof(pe->pe_principal));
	pe->pe_state = CTL_PEER_UNKNOWN;
	TAILQ_INSERT_TAIL(&en->en_peers, pe, pe_entry);
	return pe;
}

void
peer_free(struct kink_peer *pe)
{
	if (pe == NULL)
		return;
	TAILQ_REMOVE(&pe->pe_en->en_peers, pe, pe_entry);
	free(pe);
}

struct kink_peer *
peer_by_name(struct kink_engine *en, const char *name)
{
	struct kink_peer *pe;

	TAILQ_FOREACH(pe, &en->en_peers, pe_entry)
		if (strcmp(pe->pe_name, name) == 0)
			return pe;
	return NULL;
}

struct kink_peer *
peer_by_principal(struct kink_engine *en, const char *princ)
{
	struct kink_peer *pe;

	TAILQ_FOREACH(pe, &en->en_peers, pe_entry)
		if (strcmp(pe->pe_principal, princ) == 0)
			return pe;
	return NULL;
}

struct kink_policy *
peer_policy(struct kink_peer *pe, const char *name)
{
	if (pe->pe_conf == NULL)
		return NULL;
	return conf_policy_by_name(pe->pe_conf, name);
}

struct kink_peer *
peer_by_reqid(struct kink_engine *en, uint32_t reqid,
    struct kink_policy **polp)
{
	struct kink_peer *pe;
	int i;

	*polp = NULL;
	TAILQ_FOREACH(pe, &en->en_peers, pe_entry)
		for (i = 0; pe->pe_conf && i < pe->pe_conf->p_npolicies; i++)
			if (pe->pe_conf->p_policies[i].pol_reqid == reqid) {
				*polp = &pe->pe_conf->p_policies[i];
				return pe;
			}
	return NULL;
}
