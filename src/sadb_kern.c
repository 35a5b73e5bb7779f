/* Shared by the PF_KEY and XFRM backends: algorithm tables, request queue. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "isakmp_num.h"
#include "log.h"
#include "sadb_kern.h"

/* PF_KEY numbers (Linux pfkeyv2.h); XFRM names (Linux crypto API). */
static const struct sadb_algmap enc_algs[] = {
	{ ESP_DES,	 2, "cbc(des)",		0, 0 },
	{ ESP_3DES,	 3, "cbc(des3_ede)",	0, 0 },
	{ ESP_NULL,	11, "ecb(cipher_null)",	0, 0 },
	{ ESP_AES_CBC,	12, "cbc(aes)",		0, 0 },
	{ ESP_AES_CTR,	13, "rfc3686(ctr(aes))", 0, 0 },
	{ ESP_AES_GCM_8, 18, "rfc4106(gcm(aes))", 64, 1 },
	{ ESP_AES_GCM_12, 19, "rfc4106(gcm(aes))", 96, 1 },
	{ ESP_AES_GCM_16, 20, "rfc4106(gcm(aes))", 128, 1 },
};

/* DOI Authentication Algorithm attribute -> PF_KEY differs (SHA1 2 -> 3). */
static const struct sadb_algmap auth_algs[] = {
	{ AUTH_ALG_HMAC_MD5,	 2, "hmac(md5)",	96, 0 },
	{ AUTH_ALG_HMAC_SHA,	 3, "hmac(sha1)",	96, 0 },
	{ AUTH_ALG_HMAC_SHA2_256, 5, "hmac(sha256)",	128, 0 },
	{ AUTH_ALG_HMAC_SHA2_384, 6, "hmac(sha384)",	192, 0 },
	{ AUTH_ALG_HMAC_SHA2_512, 7, "hmac(sha512)",	256, 0 },
	{ AUTH_ALG_AES_XCBC_MAC, 9, "xcbc(aes)",	96, 0 },
};

const struct sadb_algmap *
sadb_alg_enc(uint8_t t)
{
	size_t i;

	for (i = 0; i < sizeof(enc_algs) / sizeof(enc_algs[0]); i++)
		if (enc_algs[i].al_doi == t)
			return &enc_algs[i];
	return NULL;
}

const struct sadb_algmap *
sadb_alg_auth(uint16_t a)
{
	size_t i;

	for (i = 0; i < sizeof(auth_algs) / sizeof(auth_algs[0]); i++)
		if (auth_algs[i].al_doi == a)
			return &auth_algs[i];
	return NULL;
}

static void
sadb_req_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sadb_req *rq = arg;

	log_warnx("sadb: kernel did not answer request %u", rq->rq_seq);
	sadb_req_finish(rq, ETIMEDOUT);
}

uint32_t
sadb_kern_seq(struct sadb_kern *k)
{
	if (++k->k_seq == 0)	/* 0 ends PF_KEY dumps; never use it */
		k->k_seq = 1;
	return k->k_seq;
}

struct sadb_req *
sadb_req_new(struct sadb_kern *k, enum sadb_req_kind kind, void *arg)
{
	struct sadb_req *rq;
	struct timeval tv = { SADB_KERN_TIMEOUT_MS / 1000,
	    (SADB_KERN_TIMEOUT_MS % 1000) * 1000 };

	if (k->k_nreqs >= SADB_KERN_MAXREQ) {
		errno = EAGAIN;
		return NULL;
	}
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return NULL;
	rq->rq_k = k;
	rq->rq_kind = kind;
	rq->rq_arg = arg;
	rq->rq_seq = sadb_kern_seq(k);
	if ((rq->rq_timer = evtimer_new(k->k_sd->sd_base, sadb_req_timeout,
	    rq)) == NULL || evtimer_add(rq->rq_timer, &tv) == -1) {
		if (rq->rq_timer != NULL)
			event_free(rq->rq_timer);
		free(rq);
		errno = ENOMEM;
		return NULL;
	}
	TAILQ_INSERT_TAIL(&k->k_reqs, rq, rq_entry);
	k->k_nreqs++;
	return rq;
}

struct sadb_req *
sadb_req_find(struct sadb_kern *k, uint32_t seq)
{
	struct sadb_req *rq;

	TAILQ_FOREACH(rq, &k->k_reqs, rq_entry)
		if (rq->rq_seq == seq)
			return rq;
	return NULL;
}

void
sadb_req_free(struct sadb_req *rq)
{
	struct sadb_kern *k = rq->rq_k;

	TAILQ_REMOVE(&k->k_reqs, rq, rq_entry);
	k->k_nreqs--;
	event_free(rq->rq_timer);
	if (rq->rq_fallback != NULL)
		freezero(rq->rq_fallback, rq->rq_fallback_len);
	explicit_bzero(&rq->rq_sa, sizeof(rq->rq_sa));
	free(rq);
}

void
sadb_req_finish(struct sadb_req *rq, int err)
{
	enum sadb_req_kind kind = rq->rq_kind;
	sadb_done_cb done = rq->rq_done;
	sadb_spi_cb spicb = rq->rq_spicb;
	sadb_dump_cb dumpcb = rq->rq_dumpcb;
	void *arg = rq->rq_arg;
	uint32_t spi = rq->rq_spi;

	if (err == 0 && kind == SADB_REQ_SPI && !rq->rq_gotspi)
		err = EPROTO;	/* acknowledged, but no SPI came back */
	if (err == 0)
		err = rq->rq_prev_err;
	if (err != 0 && rq->rq_parent != 0) {
		struct sadb_req *p = sadb_req_find(rq->rq_k, rq->rq_parent);

		if (p != NULL && p->rq_prev_err == 0)
			p->rq_prev_err = err;
	}
	sadb_req_free(rq);
	/* A NULL callback is allowed: fire and forget. */
	switch (kind) {
	case SADB_REQ_DONE:
		if (done != NULL)
			done(err, arg);
		break;
	case SADB_REQ_SPI:
		if (spicb != NULL)
			spicb(err, err ? 0 : spi, arg);
		break;
	case SADB_REQ_DUMP:
	case SADB_REQ_GET:
		if (dumpcb != NULL)
			dumpcb(err, NULL, arg);
		break;
	case SADB_REQ_QUIET:
		break;
	}
}

void
sadb_req_free_all(struct sadb_kern *k)
{
	struct sadb_req *rq;

	while ((rq = TAILQ_FIRST(&k->k_reqs)) != NULL)
		sadb_req_free(rq);
}

int
sadb_addr_eq(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

void
sadb_larval_add(struct sadb_kern *k, const struct sockaddr_storage *dst,
    uint32_t spi, uint8_t proto)
{
	struct sadb_larval *lv;

	/* Full: forget the oldest; its UPDATE falls back to ADD. */
	if (k->k_nlarval == SADB_KERN_MAXLARVAL) {
		memmove(&k->k_larval[0], &k->k_larval[1],
		    (SADB_KERN_MAXLARVAL - 1) * sizeof(k->k_larval[0]));
		k->k_nlarval--;
	}
	lv = &k->k_larval[k->k_nlarval++];
	lv->lv_dst = *dst;
	lv->lv_spi = spi;
	lv->lv_proto = proto;
}

int
sadb_larval_take(struct sadb_kern *k, const struct sockaddr_storage *dst,
    uint32_t spi, uint8_t proto)
{
	int i;

	for (i = 0; i < k->k_nlarval; i++) {
		struct sadb_larval *lv = &k->k_larval[i];

		if (lv->lv_spi == spi && lv->lv_proto == proto &&
		    sadb_addr_eq(&lv->lv_dst, dst)) {
			memmove(lv, lv + 1, (size_t)(k->k_nlarval - i - 1) *
			    sizeof(*lv));
			k->k_nlarval--;
			return 1;
		}
	}
	return 0;
}

int
sadb_reqid_ours(const struct sadb *sd, uint32_t reqid)
{
	return reqid >= sd->sd_reqid_min && reqid <= sd->sd_reqid_max;
}
