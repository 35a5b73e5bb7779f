/*
 * Two engines in one process against the real realm of tests/krb/run.sh:
 * alpha and beta, each with its own Kerberos context and keytab principal
 * and the null sadb backend, their datagrams carried in-process through
 * the engine's send hook so that a test can lose or repeat one.  No
 * daemon, no sockets: what struct kink_engine needs and nothing more.
 *
 * CREATE installs the same SAs on both sides; a CREATE whose KINK_ENCRYPT
 * does not decrypt (under a valid Cksum) is dropped, and so are a CREATE
 * and a REPLY with a bad Cksum; a lost CREATE is
 * recovered by retransmission; after a lost REPLY the retransmitted
 * CREATE (same XID, new authenticator) is answered from the reply cache
 * without a second SA, but a STATUS reusing that XID is not; a CREATE
 * the network duplicates is not executed twice; DELETE removes both
 * sides' pair, the inbound SAs only after delete-grace; STATUS completes;
 * an EPOCH of 0 changes nothing, another EPOCH drops the SAs made with
 * the peer.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "test.h"
#include "conf.h"
#include "ctl.h"
#include "engine.h"
#include "kink.h"
#include "krb.h"
#include "log.h"
#include "peer.h"
#include "sadb.h"
#include "sarec.h"
#include "stats.h"
#include "timer.h"
#include "wire.h"
#include "xact.h"

#define WAIT_MS		15000	/* bound on one exchange, KDC included */
#define MAXQ		64

struct side {
	const char		*s_name;
	const char		*s_addr;
	struct kink_engine	 s_en;
	struct side		*s_other;
	/* What the test does to this side's next datagrams of a type. */
	int			 s_drop[KINK_MSGTYPE_MAX + 1];
	int			 s_dup[KINK_MSGTYPE_MAX + 1];
	int			 s_badenc[KINK_MSGTYPE_MAX + 1];
	uint32_t		 s_setxid[KINK_MSGTYPE_MAX + 1];
	int			 s_badck[KINK_MSGTYPE_MAX + 1];
	int			 s_sent[KINK_MSGTYPE_MAX + 1];
	int			 s_events_done;	/* xact-done events */
	char			 s_last_done[CTL_TEXT_MAX + 1];
};

struct pkt {
	struct side		*p_to;
	struct sockaddr_storage	 p_from, p_dst;
	size_t			 p_len;
	uint8_t			 p_data[KINK_MAX_MSG];
};

static struct event_base *base;
static const char *rdir, *realm;
static struct side alpha = { .s_name = "alpha", .s_addr = "127.0.0.1" };
static struct side beta = { .s_name = "beta", .s_addr = "127.0.0.2" };
static struct pkt queue[MAXQ];
static int nq;

static void
enqueue(struct side *to, const struct sockaddr_storage *from,
    const struct sockaddr_storage *dst, const uint8_t *p, size_t len)
{
	struct pkt *q;

	if (nq == MAXQ || len > sizeof(q->p_data))
		return;		/* lost, like a full socket buffer */
	q = &queue[nq++];
	q->p_to = to;
	q->p_from = *from;
	q->p_dst = *dst;
	q->p_len = len;
	memcpy(q->p_data, p, len);
}

/*
 * An initiator's command changed and its Cksum made again under the
 * session key, so that it is authentic in every respect but the change:
 * one octet of its KINK_ENCRYPT ciphertext (badenc), or its XID (xid, not
 * 0).  0 = done.
 */
static int
tamper(struct side *s, uint8_t *p, size_t len, int badenc, uint32_t xid)
{
	struct kink_xact *x;
	struct kink_msg m;
	struct buf ck;
	uint8_t in[KINK_MAX_MSG];
	size_t inlen;
	int rc = -1;

	if (wire_parse(&m, p, len) != 0 || (badenc &&
	    (!wire_has(&m, KINK_ENCRYPT) || m.m_encrypt.rb_len == 0)) ||
	    (x = xact_find(&s->s_en, NULL, m.m_xid, XR_INIT)) == NULL ||
	    x->xa_client == NULL)
		return -1;
	if (badenc)
		p[m.m_encrypt.rb_p - p + m.m_encrypt.rb_len / 2] ^= 0x5a;
	if (xid != 0)
		put_be32(p + 8, xid);
	buf_init(&ck, KINK_MAX_MSG);
	if (wire_cksum_input(&m, in, sizeof(in), &inlen) == 0 &&
	    krb_cksum_make(krb_client_key(x->xa_client), in, inlen, &ck) == 0 &&
	    ck.b_len == m.m_cksum.rb_len) {
		memcpy(p + (m.m_cksum.rb_p - p), ck.b_data, ck.b_len);
		rc = 0;
	}
	buf_free(&ck);
	return rc;
}

static int
side_send(void *arg, const struct sockaddr_storage *local,
    const struct sockaddr_storage *remote, const uint8_t *p, size_t len)
{
	struct side *s = arg;
	uint8_t type = len > 0 ? p[0] : 0;
	uint8_t bad[KINK_MAX_MSG] = { 0 };

	if (type > KINK_MSGTYPE_MAX)
		type = 0;
	s->s_sent[type]++;
	if (s->s_badck[type] > 0 && len <= sizeof(bad) && len >= KINK_HDR_LEN &&
	    get_be16(p + 14) > 0) {
		/* The Cksum is the message's last field. */
		memcpy(bad, p, len);
		bad[len - 1] ^= 0x01;
		s->s_badck[type]--;
		p = bad;
	}
	if ((s->s_badenc[type] > 0 || s->s_setxid[type] != 0) &&
	    len <= sizeof(bad)) {
		if (p != bad)	/* a Cksum already spoilt above stays so */
			memcpy(bad, p, len);
		if (tamper(s, bad, len, s->s_badenc[type] > 0,
		    s->s_setxid[type]) == 0) {
			if (s->s_badenc[type] > 0)
				s->s_badenc[type]--;
			s->s_setxid[type] = 0;
			p = bad;
		}
	}
	if (s->s_drop[type] > 0) {
		s->s_drop[type]--;
		return 0;
	}
	if (s->s_dup[type] > 0) {
		s->s_dup[type]--;
		enqueue(s->s_other, local, remote, p, len);
	}
	enqueue(s->s_other, local, remote, p, len);
	return 0;
}

static int
side_local(void *arg, const struct sockaddr_storage *remote,
    struct sockaddr_storage *local)
{
	struct side *s = arg;
	struct sockaddr_in *sin = (struct sockaddr_in *)local;

	memset(local, 0, sizeof(*local));
	sin->sin_family = AF_INET;
	return inet_pton(AF_INET, s->s_addr, &sin->sin_addr) == 1 ? 0 : -1;
}

static void
side_event(void *arg, const char *type, const char *peer, uint32_t xid,
    const char *text)
{
	struct side *s = arg;

	if (strcmp(type, CTL_EV_XACT_DONE) == 0) {
		s->s_events_done++;
		strlcpy(s->s_last_done, text, sizeof(s->s_last_done));
	}
}

/* Deliver what is queued (new sends queue behind), run due events. */
static void
pump_once(void)
{
	struct pkt p;

	while (nq > 0) {
		p = queue[0];
		memmove(queue, queue + 1, (size_t)(nq - 1) * sizeof(queue[0]));
		nq--;
		xact_input(&p.p_to->s_en, &p.p_from, &p.p_dst, p.p_data,
		    p.p_len);
	}
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	if (nq == 0)
		usleep(1000);
}

/* Run until cond() holds (1) or WAIT_MS passed (0). */
static int
pump_until(int (*cond)(void))
{
	uint64_t end = timer_now_ms() + WAIT_MS;

	while (timer_now_ms() < end) {
		if (cond())
			return 1;
		pump_once();
	}
	return cond();
}

/* Run for `ms` whatever happens. */
static void
pump_for(uint32_t ms)
{
	uint64_t end = timer_now_ms() + ms;

	while (timer_now_ms() < end)
		pump_once();
}

static int want_alpha, want_beta;

static int
sas_are(void)
{
	return alpha.s_en.en_nsas == want_alpha &&
	    beta.s_en.en_nsas == want_beta && nq == 0;
}

static int
no_initiator(void)
{
	struct kink_xact *x;

	TAILQ_FOREACH(x, &alpha.s_en.en_xacts, xa_entry)
		if (x->xa_role == XR_INIT && x->xa_state != XS_DONE)
			return 0;
	return nq == 0;
}

/* ---- set-up ---------------------------------------------------------- */

static char *
write_conf(struct side *s)
{
	static char path[2][600];
	char *p = path[s == &beta];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/engine-%s.conf", rdir, s->s_name);
	if ((f = fopen(p, "w")) == NULL)
		return NULL;
	fprintf(f,
	    "set principal \"kink/%s.test@%s\"\n"
	    "set keytab \"%s/%s.keytab\"\n"
	    "set port 9100\n"
	    "set backend null\n"
	    "set retransmit 300ms max 1s tries 5\n"
	    "set reply-cache 30s\n"
	    "set delete-grace 100ms\n"
	    "set dead-peer 1h\n"
	    "peer \"%s\" {\n"
	    "\tprincipal \"kink/%s.test@%s\"\n"
	    "\taddress %s\n"
	    "\tpolicy \"p\" esp transport from %s to %s \\\n"
	    "\t    transforms { esp enc aes-128-cbc auth hmac-sha1 } "
	    "lifetime 1h pfs none\n"
	    "}\n",
	    s->s_name, realm, rdir, s->s_name, s->s_other->s_name,
	    s->s_other->s_name, realm, s->s_other->s_addr, s->s_addr,
	    s->s_other->s_addr);
	fclose(f);
	return p;
}

static int
side_open(struct side *s)
{
	struct kink_engine *en = &s->s_en;
	struct krb_ctx_opts ko = { NULL, 10000, 0 };
	struct conf_errors errs;
	const char *path;
	int i;

	memset(&errs, 0, sizeof(errs));
	if ((path = write_conf(s)) == NULL ||
	    (en->en_conf = conf_load(path, NULL, &errs)) == NULL) {
		conf_errors_print(&errs, stdout);
		conf_errors_free(&errs);
		return -1;
	}
	conf_errors_free(&errs);
	engine_init(en);
	en->en_base = base;
	strlcpy(en->en_principal, en->en_conf->c_principal,
	    sizeof(en->en_principal));
	en->en_send = side_send;
	en->en_local_for = side_local;
	en->en_net = s;
	en->en_event = side_event;
	en->en_event_arg = s;
	if ((en->en_sadb = sadb_new(base, "null", NULL, NULL)) == NULL ||
	    (en->en_krb = krb_ctx_new(base, en->en_principal,
	    en->en_conf->c_keytab, &ko)) == NULL)
		return -1;
	for (i = 0; i < en->en_conf->c_npeers; i++)
		if (xact_peer_add(en, &en->en_conf->c_peers[i]) == NULL)
			return -1;
	return 0;
}

static void
side_close(struct side *s)
{
	struct kink_engine *en = &s->s_en;

	engine_fini(en);
	krb_ctx_free(en->en_krb);
	sadb_free(en->en_sadb);
	conf_free(en->en_conf);
}

static struct kink_peer *
peer_of(struct side *s)
{
	return TAILQ_FIRST(&s->s_en.en_peers);
}

/* The policy alpha's CREATEs use. */
static const struct kink_policy *
alpha_policy(void)
{
	return peer_policy(peer_of(&alpha), "p");
}

/* Every SA of one side has its twin, keys and all, on the other. */
static int
sas_pairwise_equal(void)
{
	struct kink_sarec *a, *b;
	int n = 0;

	for (a = sarec_next(&alpha.s_en, NULL, NULL); a != NULL;
	    a = sarec_next(&alpha.s_en, a, NULL)) {
		b = sarec_find(&beta.s_en, a->sr_sa.sa_proto, a->sr_sa.sa_spi,
		    a->sr_sa.sa_dir == SA_DIR_IN ? SA_DIR_OUT : SA_DIR_IN);
		/* Both keys, one allocation each: equal lengths, equal bytes. */
		if (b == NULL || a->sr_sa.sa_enckey_len !=
		    b->sr_sa.sa_enckey_len ||
		    a->sr_sa.sa_authkey_len != b->sr_sa.sa_authkey_len ||
		    a->sr_sa.sa_keys == NULL || b->sr_sa.sa_keys == NULL ||
		    memcmp(a->sr_sa.sa_keys, b->sr_sa.sa_keys,
		    (size_t)a->sr_sa.sa_enckey_len +
		    a->sr_sa.sa_authkey_len) != 0 ||
		    a->sr_pair == 0 || b->sr_pair == 0 ||
		    a->sr_state != CTL_SA_MATURE || b->sr_state !=
		    CTL_SA_MATURE)
			return 0;
		n++;
	}
	return n > 0 && n == beta.s_en.en_nsas;
}

static void
reset_counts(void)
{
	memset(alpha.s_sent, 0, sizeof(alpha.s_sent));
	memset(beta.s_sent, 0, sizeof(beta.s_sent));
}

/* ---- the exchanges --------------------------------------------------- */

TEST(create)
{
	uint64_t opt = stats_get(STAT_CREATE_OPT);
	struct kink_xact *x;
	int cached = 0;

	reset_counts();
	ASSERT_INT_EQ(xact_create_start(&alpha.s_en, peer_of(&alpha),
	    alpha_policy(), NULL, 0), 0);
	want_alpha = want_beta = 2;
	ASSERT_TRUE(pump_until(sas_are));
	ASSERT_TRUE(pump_until(no_initiator));
	ASSERT_TRUE(sas_pairwise_equal());
	/* Optimistic: one CREATE, one REPLY, no ACK. */
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_CREATE], 1);
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 1);
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_ACK], 0);
	ASSERT_TRUE(stats_get(STAT_CREATE_OPT) == opt + 2);
	/* beta keeps its REPLY for duplicates. */
	TAILQ_FOREACH(x, &beta.s_en.en_xacts, xa_entry)
		if (x->xa_role == XR_RESP && x->xa_state == XS_R_CACHE)
			cached++;
	ASSERT_INT_EQ(cached, 1);
	ASSERT_TRUE(strstr(alpha.s_last_done, "initiator CREATE") != NULL);
	ASSERT_TRUE(strstr(beta.s_last_done, "responder CREATE") != NULL);
	ASSERT_INT_EQ(peer_of(&alpha)->pe_state, CTL_PEER_ALIVE);
	ASSERT_INT_EQ(peer_of(&beta)->pe_epoch, alpha.s_en.en_epoch);
}

/* alpha creates one more pair (whatever the test made the wire do) and
 * both sides run until it is in and alpha's exchange is over. */
static void
create_one_more(void)
{
	ASSERT_INT_EQ(xact_create_start(&alpha.s_en, peer_of(&alpha),
	    alpha_policy(), NULL, 0), 0);
	want_alpha = alpha.s_en.en_nsas + 2;
	want_beta = beta.s_en.en_nsas + 2;
	ASSERT_TRUE(pump_until(sas_are));
	ASSERT_TRUE(pump_until(no_initiator));
}

TEST(lost_create_is_retransmitted)
{
	uint64_t retrans = stats_get(STAT_RETRANS);

	reset_counts();
	alpha.s_drop[KINK_MSGTYPE_CREATE] = 1;
	create_one_more();
	if (test_failed_cur)
		return;
	ASSERT_INT_EQ(alpha.s_drop[KINK_MSGTYPE_CREATE], 0);
	/* The lost copy and the retransmission that got through. */
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_CREATE], 2);
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 1);
	ASSERT_TRUE(stats_get(STAT_RETRANS) >= retrans + 1);
	ASSERT_TRUE(sas_pairwise_equal());
}

TEST(lost_reply_answered_from_cache)
{
	uint64_t cached = stats_get(STAT_DUP_CACHED);
	uint64_t added = stats_get(STAT_SA_ADD);

	reset_counts();
	beta.s_drop[KINK_MSGTYPE_REPLY] = 1;
	create_one_more();
	if (test_failed_cur)
		return;
	ASSERT_INT_EQ(beta.s_drop[KINK_MSGTYPE_REPLY], 0);
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_CREATE], 2);
	/* The cached REPLY again: the same octets, no second negotiation. */
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 2);
	ASSERT_TRUE(stats_get(STAT_DUP_CACHED) == cached + 1);
	ASSERT_TRUE(stats_get(STAT_SA_ADD) == added + 4);
	ASSERT_TRUE(sas_pairwise_equal());
}

TEST(duplicated_create_runs_once)
{
	uint64_t added = stats_get(STAT_SA_ADD);
	int done_a = alpha.s_events_done, done_b = beta.s_events_done;

	reset_counts();
	alpha.s_dup[KINK_MSGTYPE_CREATE] = 1;
	create_one_more();
	if (test_failed_cur)
		return;
	pump_for(200);
	ASSERT_INT_EQ(alpha.s_dup[KINK_MSGTYPE_CREATE], 0);
	/* Two SAs a side, one completion a side. */
	ASSERT_INT_EQ(alpha.s_en.en_nsas, want_alpha);
	ASSERT_INT_EQ(beta.s_en.en_nsas, want_beta);
	ASSERT_TRUE(stats_get(STAT_SA_ADD) == added + 4);
	ASSERT_INT_EQ(alpha.s_events_done, done_a + 1);
	ASSERT_INT_EQ(beta.s_events_done, done_b + 1);
	ASSERT_TRUE(sas_pairwise_equal());
}

/*
 * A CREATE that carries a valid AP-REQ and Cksum but a KINK_ENCRYPT that
 * does not decrypt is dropped: no SA, no REPLY, counted; the retransmission
 * (rebuilt, decryptable) then completes the exchange.
 */
TEST(undecryptable_create_dropped)
{
	uint64_t dec = stats_get(STAT_DROP_DECRYPT);
	uint64_t added = stats_get(STAT_SA_ADD);

	reset_counts();
	alpha.s_badenc[KINK_MSGTYPE_CREATE] = 1;
	create_one_more();
	if (test_failed_cur)
		return;
	ASSERT_INT_EQ(alpha.s_badenc[KINK_MSGTYPE_CREATE], 0);
	ASSERT_TRUE(stats_get(STAT_DROP_DECRYPT) == dec + 1);
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_CREATE], 2);
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 1);
	ASSERT_TRUE(stats_get(STAT_SA_ADD) == added + 4);
	ASSERT_TRUE(sas_pairwise_equal());
}

/*
 * One bit of the Cksum flipped, first on alpha's CREATE, then on beta's
 * REPLY: each is dropped (4: MUST be dropped) and the retransmission
 * completes the exchange, the second time from beta's reply cache.
 */
TEST(bad_cksum_dropped)
{
	uint64_t ck = stats_get(STAT_DROP_CKSUM);
	uint64_t cached = stats_get(STAT_DUP_CACHED);

	reset_counts();
	alpha.s_badck[KINK_MSGTYPE_CREATE] = 1;
	create_one_more();
	if (test_failed_cur)
		return;
	ASSERT_INT_EQ(alpha.s_badck[KINK_MSGTYPE_CREATE], 0);
	ASSERT_TRUE(stats_get(STAT_DROP_CKSUM) == ck + 1);
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_CREATE], 2);
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 1);
	ASSERT_TRUE(sas_pairwise_equal());

	reset_counts();
	beta.s_badck[KINK_MSGTYPE_REPLY] = 1;
	create_one_more();
	if (test_failed_cur)
		return;
	ASSERT_INT_EQ(beta.s_badck[KINK_MSGTYPE_REPLY], 0);
	ASSERT_TRUE(stats_get(STAT_DROP_CKSUM) == ck + 2);
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_CREATE], 2);
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 2);
	ASSERT_TRUE(stats_get(STAT_DUP_CACHED) == cached + 1);
	ASSERT_TRUE(sas_pairwise_equal());
}

TEST(delete)
{
	struct kink_sarec *sr;

	reset_counts();
	sr = sarec_next(&alpha.s_en, NULL, NULL);
	ASSERT_TRUE(sr != NULL);
	if (sr == NULL)
		return;
	want_alpha = alpha.s_en.en_nsas - 2;
	want_beta = beta.s_en.en_nsas - 2;
	ASSERT_INT_EQ(xact_delete_start(&alpha.s_en, sr->sr_pair, NULL), 0);
	/* Our outbound SA at once (3.3), the inbound after the REPLY. */
	ASSERT_INT_EQ(alpha.s_en.en_nsas, want_alpha + 1);
	/* After the REPLY and delete-grace on both sides. */
	ASSERT_TRUE(pump_until(sas_are));
	ASSERT_TRUE(pump_until(no_initiator));
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_DELETE], 1);
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 1);
	ASSERT_TRUE(strstr(alpha.s_last_done, "initiator DELETE") != NULL);
	ASSERT_TRUE(strstr(beta.s_last_done, "responder DELETE") != NULL);
	ASSERT_TRUE(sas_pairwise_equal());
}

static int status_done_before;

static int
status_done(void)
{
	return alpha.s_events_done > status_done_before && nq == 0;
}

TEST(status)
{
	uint64_t sent = stats_get(STAT_STATUS_SENT);

	reset_counts();
	status_done_before = alpha.s_events_done;
	ASSERT_INT_EQ(xact_status_start(&alpha.s_en, peer_of(&alpha), NULL),
	    0);
	ASSERT_TRUE(pump_until(status_done));
	ASSERT_TRUE(strstr(alpha.s_last_done, "initiator STATUS: peer alive")
	    != NULL);
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_STATUS], 1);
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 1);
	ASSERT_TRUE(stats_get(STAT_STATUS_SENT) == sent + 1);
	ASSERT_INT_EQ(peer_of(&alpha)->pe_state, CTL_PEER_ALIVE);
}

/*
 * A STATUS under the XID of a CREATE beta has answered (its REPLY still
 * cached): not a duplicate of that CREATE, so no cached REPLY goes back;
 * it is dropped and the retransmission, with its own XID, is answered.
 */
TEST(xid_of_other_command_not_answered_from_cache)
{
	uint64_t cached = stats_get(STAT_DUP_CACHED);
	struct kink_xact *x;
	uint32_t xid = 0;

	TAILQ_FOREACH(x, &beta.s_en.en_xacts, xa_entry)
		if (x->xa_role == XR_RESP && x->xa_state == XS_R_CACHE &&
		    x->xa_cmd == KINK_MSGTYPE_CREATE)
			xid = x->xa_xid;
	ASSERT_TRUE(xid != 0);
	reset_counts();
	alpha.s_setxid[KINK_MSGTYPE_STATUS] = xid;
	status_done_before = alpha.s_events_done;
	ASSERT_INT_EQ(xact_status_start(&alpha.s_en, peer_of(&alpha), NULL),
	    0);
	ASSERT_TRUE(pump_until(status_done));
	ASSERT_INT_EQ((int)alpha.s_setxid[KINK_MSGTYPE_STATUS], 0);
	ASSERT_TRUE(strstr(alpha.s_last_done, "initiator STATUS: peer alive")
	    != NULL);
	ASSERT_INT_EQ(alpha.s_sent[KINK_MSGTYPE_STATUS], 2);
	ASSERT_INT_EQ(beta.s_sent[KINK_MSGTYPE_REPLY], 1);
	ASSERT_TRUE(stats_get(STAT_DUP_CACHED) == cached);
}

/* STATUS from alpha with `epoch` in its AP-REQ; alpha's own comes back. */
static int
status_with_epoch(uint32_t epoch)
{
	uint32_t ours = alpha.s_en.en_epoch;
	int rc;

	alpha.s_en.en_epoch = epoch;
	status_done_before = alpha.s_events_done;
	rc = xact_status_start(&alpha.s_en, peer_of(&alpha), NULL) == 0 &&
	    pump_until(status_done);
	alpha.s_en.en_epoch = ours;
	return rc;
}

/* EPOCH 0 tells nothing (racoon2 ignores it too): beta keeps its SAs. */
TEST(epoch_zero_ignored)
{
	uint64_t changes = stats_get(STAT_EPOCH_CHANGE);
	int nsas = beta.s_en.en_nsas;

	ASSERT_TRUE(nsas > 0);
	ASSERT_TRUE(status_with_epoch(0));
	ASSERT_INT_EQ(beta.s_en.en_nsas, nsas);
	ASSERT_INT_EQ(peer_of(&beta)->pe_epoch, alpha.s_en.en_epoch);
	ASSERT_TRUE(stats_get(STAT_EPOCH_CHANGE) == changes);
}

/* Another EPOCH: alpha restarted (3.7), beta drops every SA made with it. */
TEST(epoch_change_flushes)
{
	uint64_t changes = stats_get(STAT_EPOCH_CHANGE);
	uint32_t next = alpha.s_en.en_epoch + 1 ? alpha.s_en.en_epoch + 1 : 1;

	ASSERT_TRUE(beta.s_en.en_nsas > 0);
	ASSERT_TRUE(status_with_epoch(next));
	want_alpha = alpha.s_en.en_nsas;
	want_beta = 0;
	ASSERT_TRUE(pump_until(sas_are));
	ASSERT_INT_EQ(peer_of(&beta)->pe_epoch, next);
	ASSERT_TRUE(stats_get(STAT_EPOCH_CHANGE) == changes + 1);
}

/* SAs of `pair` at side `s` in direction `dir`. */
static int
pair_sas(struct side *s, uint32_t pair, int dir)
{
	struct kink_sarec *sr;
	int n = 0;

	for (sr = sarec_next(&s->s_en, NULL, NULL); sr != NULL;
	    sr = sarec_next(&s->s_en, sr, NULL))
		if (sr->sr_pair == pair && sr->sr_sa.sa_dir == dir)
			n++;
	return n;
}

/*
 * After a DELETE both sides keep their inbound SA for delete-grace (ESP
 * still in flight), the outbound ones go at once.  The grace is an hour
 * here, so only the order of events matters, not the clock.
 */
TEST(delete_grace_keeps_inbound)
{
	struct kink_sarec *sr, *twin;
	uint32_t pair = 0, bpair = 0, ga, gb;

	create_one_more();
	if (test_failed_cur)
		return;
	/* The newest pair: the one that has its twin at beta. */
	for (sr = sarec_next(&alpha.s_en, NULL, NULL); sr != NULL;
	    sr = sarec_next(&alpha.s_en, sr, NULL))
		if ((twin = sarec_find(&beta.s_en, sr->sr_sa.sa_proto,
		    sr->sr_sa.sa_spi, sr->sr_sa.sa_dir == SA_DIR_IN ?
		    SA_DIR_OUT : SA_DIR_IN)) != NULL) {
			pair = sr->sr_pair;
			bpair = twin->sr_pair;
		}
	ASSERT_TRUE(pair != 0 && bpair != 0);
	ga = alpha.s_en.en_conf->c_delgrace_ms;
	gb = beta.s_en.en_conf->c_delgrace_ms;
	alpha.s_en.en_conf->c_delgrace_ms = 3600000;
	beta.s_en.en_conf->c_delgrace_ms = 3600000;
	ASSERT_INT_EQ(xact_delete_start(&alpha.s_en, pair, NULL), 0);
	ASSERT_TRUE(pump_until(no_initiator));
	/* Time for any timer that is due to run: none should be. */
	pump_for(300);
	alpha.s_en.en_conf->c_delgrace_ms = ga;
	beta.s_en.en_conf->c_delgrace_ms = gb;
	ASSERT_INT_EQ(pair_sas(&alpha, pair, SA_DIR_OUT), 0);
	ASSERT_INT_EQ(pair_sas(&alpha, pair, SA_DIR_IN), 1);
	ASSERT_TRUE(strstr(beta.s_last_done, "responder DELETE") != NULL);
	ASSERT_INT_EQ(pair_sas(&beta, bpair, SA_DIR_OUT), 0);
	ASSERT_INT_EQ(pair_sas(&beta, bpair, SA_DIR_IN), 1);
}

/* A tell's selector: the test's own pairs, each call counted. */
static int tell_calls;

static int
tell_sel(const struct kink_sarec *sr, void *arg)
{
	(void)arg;
	tell_calls++;
	return sr->sr_pair >= 0x7f000000;
}

/*
 * A flush-like tell visits each record of the peer once, whatever the
 * number of DELETEs it starts (it walked the peer's records again for
 * every 32 pairs, a shutdown at 100,000 pairs quadratic), names each
 * picked pair once, and removes only those.
 */
TEST(tell_walks_each_record_once)
{
	struct kink_peer *pe = peer_of(&alpha);
	struct kink_sarec *sr, *in = NULL;
	struct kink_sa sa;
	int i, before, nd = 0, n;

	create_one_more();
	if (test_failed_cur)
		return;
	for (sr = sarec_next(&alpha.s_en, NULL, NULL); sr != NULL;
	    sr = sarec_next(&alpha.s_en, sr, NULL))
		if (sr->sr_sa.sa_dir == SA_DIR_IN)
			in = sr;
	ASSERT_TRUE(in != NULL);
	before = alpha.s_en.en_nsas;
	/* 70 pairs more, in and out, straight into the table. */
	for (i = 0; i < 140; i++) {
		sa_rec_get(&in->sr_sa, &sa);
		if (i % 2) {
			struct sockaddr_storage t = sa.sa_src;

			sa.sa_src = sa.sa_dst;
			sa.sa_dst = t;
			sa.sa_dir = SA_DIR_OUT;
		}
		sa.sa_spi = 0x70000000u + (uint32_t)i;
		ASSERT_TRUE(sarec_add(&alpha.s_en, pe, "p", sa.sa_reqid,
		    0x7f000000u + (uint32_t)(i / 2), 1, &sa, 0) != NULL);
		sa_free_keys(&sa);
	}
	ASSERT_INT_EQ(alpha.s_en.en_nsas, before + 140);
	tell_calls = 0;
	n = xact_delete_tell(&alpha.s_en, pe, tell_sel, NULL, "test", &nd);
	ASSERT_INT_EQ(tell_calls, before + 140);
	ASSERT_INT_EQ(n, 140);
	ASSERT_INT_EQ(nd, 3);	/* 32 + 32 + 6 pairs */
	ASSERT_INT_EQ(alpha.s_en.en_nsas, before);
	for (sr = sarec_next(&alpha.s_en, NULL, NULL); sr != NULL;
	    sr = sarec_next(&alpha.s_en, sr, NULL))
		ASSERT_TRUE(sr->sr_pair < 0x7f000000);
	/* beta answers SPIs it never had; the exchanges end. */
	ASSERT_TRUE(pump_until(no_initiator));
}

int
main(void)
{
	if ((rdir = getenv("KINK_REALM_DIR")) == NULL ||
	    (realm = getenv("REALM")) == NULL) {
		printf("FAIL test_engine: KINK_REALM_DIR/REALM not set "
		    "(run through tests/krb/run.sh)\n");
		return 1;
	}
	log_init("test_engine", 1, 0);
	base = event_base_new();
	alpha.s_other = &beta;
	beta.s_other = &alpha;
	if (side_open(&alpha) == -1 || side_open(&beta) == -1) {
		printf("FAIL test_engine: cannot set up the engines\n");
		return 1;
	}
	RUN(create);
	RUN(lost_create_is_retransmitted);
	RUN(lost_reply_answered_from_cache);
	RUN(duplicated_create_runs_once);
	RUN(undecryptable_create_dropped);
	RUN(bad_cksum_dropped);
	RUN(delete);
	RUN(status);
	RUN(xid_of_other_command_not_answered_from_cache);
	RUN(epoch_zero_ignored);
	RUN(epoch_change_flushes);
	RUN(delete_grace_keeps_inbound);
	RUN(tell_walks_each_record_once);
	side_close(&alpha);
	side_close(&beta);
	event_base_free(base);
	return test_done();
}
