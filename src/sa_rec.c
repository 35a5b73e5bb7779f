/* Compact SAs (see sa_rec.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sa_rec.h"

void
sa_addr_set(union sa_addr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET)
		memcpy(&a->sin, ss, sizeof(a->sin));
	else if (ss->ss_family == AF_INET6)
		memcpy(&a->sin6, ss, sizeof(a->sin6));
	else
		a->sa.sa_family = ss->ss_family;
}

void
sa_addr_get(const union sa_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, a, sizeof(*a));
}

void
sa_rec_free(struct kink_sa_rec *r)
{
	if (r->sa_keys != NULL) {
		explicit_bzero(r->sa_keys,
		    (size_t)r->sa_enckey_len + r->sa_authkey_len);
		free(r->sa_keys);
		r->sa_keys = NULL;
	}
	r->sa_enckey_len = r->sa_authkey_len = 0;
}

int
sa_rec_set(struct kink_sa_rec *r, const struct kink_sa *sa, int keys)
{
	size_t el = keys ? sa->sa_enckey_len : 0;
	size_t al = keys ? sa->sa_authkey_len : 0;
	uint8_t *k = NULL;

	if (el > SA_KEY_MAX || al > SA_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (el + al > 0) {
		if ((k = malloc(el + al)) == NULL) {
			sa_rec_free(r);
			return -1;
		}
		memcpy(k, sa->sa_enckey, el);
		memcpy(k + el, sa->sa_authkey, al);
	}
	sa_rec_free(r);
	memset(r, 0, sizeof(*r));
	r->sa_keys = k;
	r->sa_enckey_len = (uint8_t)el;
	r->sa_authkey_len = (uint8_t)al;
	sa_addr_set(&r->sa_src, &sa->sa_src);
	sa_addr_set(&r->sa_dst, &sa->sa_dst);
	sa_addr_set(&r->sa_sel_src_addr, &sa->sa_sel_src.sel_addr);
	sa_addr_set(&r->sa_sel_dst_addr, &sa->sa_sel_dst.sel_addr);
	r->sa_sel_src_port = sa->sa_sel_src.sel_port;
	r->sa_sel_dst_port = sa->sa_sel_dst.sel_port;
	r->sa_sel_src_plen = sa->sa_sel_src.sel_plen;
	r->sa_sel_dst_plen = sa->sa_sel_dst.sel_plen;
	r->sa_sel_ulproto = sa->sa_sel_ulproto;
	r->sa_proto = sa->sa_proto;
	r->sa_dir = sa->sa_dir;
	r->sa_mode = sa->sa_mode;
	r->sa_enc = sa->sa_enc;
	r->sa_enc_keylen = sa->sa_enc_keylen;
	r->sa_auth = sa->sa_auth;
	r->sa_spi = sa->sa_spi;
	r->sa_reqid = sa->sa_reqid;
	r->sa_life_soft_secs = sa->sa_life_soft_secs;
	r->sa_life_hard_secs = sa->sa_life_hard_secs;
	r->sa_life_soft_bytes = sa->sa_life_soft_bytes;
	r->sa_life_hard_bytes = sa->sa_life_hard_bytes;
	return 0;
}

void
sa_rec_get(const struct kink_sa_rec *r, struct kink_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa_addr_get(&r->sa_src, &sa->sa_src);
	sa_addr_get(&r->sa_dst, &sa->sa_dst);
	sa_addr_get(&r->sa_sel_src_addr, &sa->sa_sel_src.sel_addr);
	sa_addr_get(&r->sa_sel_dst_addr, &sa->sa_sel_dst.sel_addr);
	sa->sa_sel_src.sel_port = r->sa_sel_src_port;
	sa->sa_sel_dst.sel_port = r->sa_sel_dst_port;
	sa->sa_sel_src.sel_plen = r->sa_sel_src_plen;
	sa->sa_sel_dst.sel_plen = r->sa_sel_dst_plen;
	sa->sa_sel_ulproto = r->sa_sel_ulproto;
	sa->sa_proto = r->sa_proto;
	sa->sa_dir = r->sa_dir;
	sa->sa_mode = r->sa_mode;
	sa->sa_enc = r->sa_enc;
	sa->sa_enc_keylen = r->sa_enc_keylen;
	sa->sa_auth = r->sa_auth;
	sa->sa_spi = r->sa_spi;
	sa->sa_reqid = r->sa_reqid;
	sa->sa_life_soft_secs = r->sa_life_soft_secs;
	sa->sa_life_hard_secs = r->sa_life_hard_secs;
	sa->sa_life_soft_bytes = r->sa_life_soft_bytes;
	sa->sa_life_hard_bytes = r->sa_life_hard_bytes;
	if (r->sa_keys != NULL) {
		memcpy(sa->sa_enckey, r->sa_keys, r->sa_enckey_len);
		memcpy(sa->sa_authkey, r->sa_keys + r->sa_enckey_len,
		    r->sa_authkey_len);
		sa->sa_enckey_len = r->sa_enckey_len;
		sa->sa_authkey_len = r->sa_authkey_len;
	}
}
