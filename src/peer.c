/*
 * The peer table (see peer.h): a list in the order added, indexed by
 * name and by principal.  A reload may hold two peers with one principal
 * for a moment, so both keys end with the order added and a lookup
 * answers the oldest, as the walk it replaces did.
 */
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "peer.h"

static int
seq_cmp(const struct kink_peer *a, const struct kink_peer *b)
{
	return a->pe_seq < b->pe_seq ? -1 : a->pe_seq > b->pe_seq;
}

static int
name_cmp(const struct kink_peer *a, const struct kink_peer *b)
{
	int c = strcmp(a->pe_name, b->pe_name);

	return c != 0 ? c : seq_cmp(a, b);
}

static int
princ_cmp(const struct kink_peer *a, const struct kink_peer *b)
{
	int c = strcmp(a->pe_principal, b->pe_principal);

	return c != 0 ? c : seq_cmp(a, b);
}

ENGINE_RB_GENERATE(kink_peer_names, kink_peer, pe_name_node, name_cmp)
ENGINE_RB_GENERATE(kink_peer_princs, kink_peer, pe_princ_node, princ_cmp)

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
	TAILQ_INIT(&pe->pe_sas);
	pe->pe_seq = ++en->en_next_serial;
	TAILQ_INSERT_TAIL(&en->en_peers, pe, pe_entry);
	RB_INSERT(kink_peer_names, &en->en_peer_names, pe);
	RB_INSERT(kink_peer_princs, &en->en_peer_princs, pe);
	return pe;
}

void
peer_free(struct kink_peer *pe)
{
	if (pe == NULL)
		return;
	TAILQ_REMOVE(&pe->pe_en->en_peers, pe, pe_entry);
	if (!pe->pe_retired) {
		RB_REMOVE(kink_peer_names, &pe->pe_en->en_peer_names, pe);
		RB_REMOVE(kink_peer_princs, &pe->pe_en->en_peer_princs, pe);
	}
	if (pe->pe_learned)
		pe->pe_en->en_nlearned--;
	if (pe->pe_learned || pe->pe_retired)
		conf_peer_free(pe->pe_conf);
	free(pe);
}

void
peer_unindex(struct kink_peer *pe)
{
	if (pe->pe_retired)
		return;
	RB_REMOVE(kink_peer_names, &pe->pe_en->en_peer_names, pe);
	RB_REMOVE(kink_peer_princs, &pe->pe_en->en_peer_princs, pe);
	pe->pe_retired = 1;
}

struct kink_peer *
peer_by_name(struct kink_engine *en, const char *name)
{
	struct kink_peer find, *pe;

	if (strlcpy(find.pe_name, name, sizeof(find.pe_name)) >=
	    sizeof(find.pe_name))
		return NULL;
	find.pe_seq = 0;
	pe = RB_NFIND(kink_peer_names, &en->en_peer_names, &find);
	return pe != NULL && strcmp(pe->pe_name, name) == 0 ? pe : NULL;
}

struct kink_peer *
peer_by_principal(struct kink_engine *en, const char *princ)
{
	struct kink_peer find, *pe;

	if (strlcpy(find.pe_principal, princ, sizeof(find.pe_principal)) >=
	    sizeof(find.pe_principal))
		return NULL;
	find.pe_seq = 0;
	pe = RB_NFIND(kink_peer_princs, &en->en_peer_princs, &find);
	return pe != NULL && strcmp(pe->pe_principal, princ) == 0 ? pe : NULL;
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
		for (i = 0; !pe->pe_retired && pe->pe_conf && i < pe->pe_conf->p_npolicies; i++)
			if (pe->pe_conf->p_policies[i].pol_reqid == reqid) {
				*polp = &pe->pe_conf->p_policies[i];
				return pe;
			}
	return NULL;
}
