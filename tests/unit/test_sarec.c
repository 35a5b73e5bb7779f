/*
 * The engine's indexes give the answers a walk of everything would: SA
 * records by (destination, protocol, SPI), by SPI alone, per peer, per
 * pair and in the order made; peers by name and principal; transactions
 * by (peer, XID) and serial.  Each is checked against a brute-force scan
 * of a reference array after deletes by every path (one record, a pair,
 * a peer's flush, a flush keeping one pair), with SPIs deliberately
 * shared between destinations and protocols.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "addr.h"
#include "conf.h"
#include "engine.h"
#include "isakmp_num.h"
#include "log.h"
#include "peer.h"
#include "sadb.h"
#include "sarec.h"
#include "test.h"
#include "xact.h"

#define NPAIRS	1500
#define NREC	(NPAIRS * 2)

struct fixture {
	struct event_base	*f_base;
	struct kink_conf	*f_conf;
	struct kink_engine	 f_en;
	struct conf_peer	 f_cp[3];
	struct kink_peer	*f_pe[3];
	struct kink_sarec	*f_rec[NREC];	/* NULL once deleted */
	uint32_t		 f_pair[NREC];
};

static void
addr4(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, a, &sin->sin_addr);
}

static void
run_loop(struct event_base *base)
{
	int i;

	for (i = 0; i < 8; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/*
 * Record i: pair i/2+1 with peer (i/2)%3; both SAs of a pair share one
 * SPI (distinct destinations), and every fifth pair is AH with the SPI
 * of the pair before it, so (SPI, destination) repeats across protocols.
 */
static void
mksa(struct kink_sa *sa, int i)
{
	int p = i / 2;
	char peer[32];

	memset(sa, 0, sizeof(*sa));
	snprintf(peer, sizeof(peer), "198.51.100.%d", p % 3 + 1);
	sa->sa_dir = i % 2 == 0 ? SA_DIR_IN : SA_DIR_OUT;
	addr4(&sa->sa_src, sa->sa_dir == SA_DIR_IN ? peer : "192.0.2.1");
	addr4(&sa->sa_dst, sa->sa_dir == SA_DIR_IN ? "192.0.2.1" : peer);
	sa->sa_proto = p % 5 == 4 ? PROTO_IPSEC_AH : PROTO_IPSEC_ESP;
	sa->sa_spi = 0x1000 + (p % 5 == 4 ? p - 1 : p);
	sa->sa_enckey_len = 16;
	memset(sa->sa_enckey, i & 0xff, 16);
}

static void
setup(struct fixture *f)
{
	static const char *names[] = { "a", "b", "c" };
	static const char *princs[] = { "kink/a@R", "kink/b@R", "kink/c@R" };
	struct kink_sa sa;
	int i;

	memset(f, 0, sizeof(*f));
	f->f_base = event_base_new();
	/* What xact_new() reads of a configuration. */
	f->f_conf = calloc(1, sizeof(*f->f_conf));
	f->f_conf->c_max_xact = 1000;
	f->f_conf->c_max_xact_peer = 1000;
	engine_init(&f->f_en);
	f->f_en.en_base = f->f_base;
	f->f_en.en_conf = f->f_conf;
	f->f_en.en_sadb = sadb_new(f->f_base, "null", NULL, NULL);
	for (i = 0; i < 3; i++) {
		f->f_cp[i].p_name = (char *)names[i];
		f->f_cp[i].p_principal = (char *)princs[i];
		f->f_pe[i] = peer_new(&f->f_en, &f->f_cp[i]);
	}
	for (i = 0; i < NREC; i++) {
		mksa(&sa, i);
		f->f_pair[i] = (uint32_t)(i / 2 + 1);
		f->f_rec[i] = sarec_add(&f->f_en, f->f_pe[i / 2 % 3], "pol",
		    7, f->f_pair[i], 1, &sa, 0);
	}
	run_loop(f->f_base);
}

static void
teardown(struct fixture *f)
{
	int i;

	sarec_forget_all(&f->f_en);
	for (i = 0; i < 3; i++)
		if (f->f_pe[i] != NULL)
			peer_free(f->f_pe[i]);
	run_loop(f->f_base);
	sadb_free(f->f_en.en_sadb);
	free(f->f_conf);
	event_base_free(f->f_base);
}

/* A record's destination as the storage lookups take. */
static const struct sockaddr_storage *
rec_dst(const struct kink_sarec *sr)
{
	static struct sockaddr_storage ss;

	sa_addr_get(&sr->sr_sa.sa_dst, &ss);
	return &ss;
}

/* What a walk of everything, oldest first, answers. */
static struct kink_sarec *
brute(struct fixture *f, const struct sockaddr_storage *dst,
    struct kink_peer *pe, uint8_t proto, uint32_t spi, uint8_t dir)
{
	struct kink_sarec *sr;
	int i;

	for (i = 0; i < NREC; i++) {
		if ((sr = f->f_rec[i]) == NULL)
			continue;
		if (sr->sr_sa.sa_spi == spi &&
		    (proto == 0 || sr->sr_sa.sa_proto == proto) &&
		    (dir == 0 || sr->sr_sa.sa_dir == dir) &&
		    (pe == NULL || sr->sr_peer == pe) &&
		    (dst == NULL || addr_eq((const struct sockaddr *)dst,
		    &sr->sr_sa.sa_dst.sa)))
			return sr;
	}
	return NULL;
}

static void
forget_pair(struct fixture *f, uint32_t pair)
{
	int i;

	for (i = 0; i < NREC; i++)
		if (f->f_pair[i] == pair)
			f->f_rec[i] = NULL;
}

static int
alive(struct fixture *f)
{
	int i, n = 0;

	for (i = 0; i < NREC; i++)
		n += f->f_rec[i] != NULL;
	return n;
}

/* Every lookup, for every record made (deleted ones included). */
static void
check_all(struct fixture *f)
{
	struct kink_sarec *sr, *prev;
	struct sarec_key k;
	struct kink_sa sa;
	int i, n, pi, p;

	for (i = 0; i < NREC; i++) {
		mksa(&sa, i);
		pi = i / 2 % 3;
		ASSERT_TRUE(sarec_find_dst(&f->f_en, &sa.sa_dst, sa.sa_proto,
		    sa.sa_spi) == brute(f, &sa.sa_dst, NULL, sa.sa_proto,
		    sa.sa_spi, 0));
		/* By its own key (a replacement may have moved it). */
		if (f->f_rec[i] != NULL)
			ASSERT_TRUE(sarec_find_dst(&f->f_en,
			    rec_dst(f->f_rec[i]), sa.sa_proto,
			    sa.sa_spi) == f->f_rec[i]);
		ASSERT_TRUE(sarec_find(&f->f_en, 0, sa.sa_spi, 0) ==
		    brute(f, NULL, NULL, 0, sa.sa_spi, 0));
		ASSERT_TRUE(sarec_find(&f->f_en, sa.sa_proto, sa.sa_spi,
		    sa.sa_dir) == brute(f, NULL, NULL, sa.sa_proto,
		    sa.sa_spi, sa.sa_dir));
		if (f->f_pe[pi] != NULL)
			ASSERT_TRUE(sarec_find_peer(&f->f_en, f->f_pe[pi],
			    sa.sa_proto, sa.sa_spi, sa.sa_dir) == brute(f,
			    NULL, f->f_pe[pi], sa.sa_proto, sa.sa_spi,
			    sa.sa_dir));
		if (f->f_rec[i] != NULL) {
			ASSERT_INT_EQ(f->f_rec[i]->sr_pair, f->f_pair[i]);
			ASSERT_TRUE(f->f_rec[i]->sr_peer == f->f_pe[pi]);
		}
	}
	/* Per pair: exactly the pair's live records, oldest first. */
	for (p = 1; p <= NPAIRS + 1; p++) {
		memset(&k, 0, sizeof(k));
		k.k_pair = p <= NPAIRS ? (uint32_t)p : 9999;
		sr = sarec_next(&f->f_en, NULL, &k);
		for (i = 0; i < NREC; i++)
			if (f->f_rec[i] != NULL && f->f_pair[i] == k.k_pair) {
				ASSERT_TRUE(sr == f->f_rec[i]);
				sr = sarec_next(&f->f_en, sr, &k);
			}
		ASSERT_TRUE(sr == NULL);
		ASSERT_INT_EQ(sarec_pair_dying(&f->f_en, k.k_pair) >= 0, 1);
	}
	/* Per peer: count, order made, first inbound. */
	for (pi = 0; pi < 3; pi++) {
		struct kink_sarec *first_in = NULL;

		if (f->f_pe[pi] == NULL)
			continue;
		memset(&k, 0, sizeof(k));
		k.k_peer = f->f_pe[pi];
		prev = NULL;
		for (i = 0, n = 0; i < NREC; i++) {
			if (f->f_rec[i] == NULL || i / 2 % 3 != pi)
				continue;
			sr = sarec_next(&f->f_en, prev, &k);
			ASSERT_TRUE(sr == f->f_rec[i]);
			if (first_in == NULL && sr->sr_sa.sa_dir == SA_DIR_IN)
				first_in = sr;
			prev = sr;
			n++;
		}
		ASSERT_TRUE(sarec_next(&f->f_en, prev, &k) == NULL);
		ASSERT_INT_EQ(sarec_count(&f->f_en, f->f_pe[pi]), n);
		ASSERT_TRUE(sarec_first_dir(&f->f_en, f->f_pe[pi],
		    SA_DIR_IN) == first_in);
	}
	/* All, in the order made, and resumable after any sequence. */
	prev = NULL;
	for (i = 0, n = 0; i < NREC; i++) {
		if (f->f_rec[i] == NULL)
			continue;
		sr = sarec_next(&f->f_en, prev, NULL);
		ASSERT_TRUE(sr == f->f_rec[i]);
		ASSERT_TRUE(sarec_after(&f->f_en, prev ? prev->sr_seq : 0) ==
		    sr);
		prev = sr;
		n++;
	}
	ASSERT_TRUE(sarec_next(&f->f_en, prev, NULL) == NULL);
	ASSERT_INT_EQ(n, f->f_en.en_nsas);
	ASSERT_INT_EQ(n, alive(f));
}

TEST(sarec_lookups_by_every_key_after_deletes)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kink_sarec *gone;
	int i;

	ASSERT_TRUE(f != NULL);
	setup(f);
	ASSERT_INT_EQ(f->f_en.en_nsas, NREC);
	check_all(f);
	/* One record at a time: every seventh. */
	for (i = 0; i < NREC; i += 7) {
		sarec_del(f->f_rec[i], "test");
		f->f_rec[i] = NULL;
	}
	/* Whole pairs: every fourth, of each peer in turn. */
	for (i = 3; i <= NPAIRS; i += 4) {
		sarec_pair_del(&f->f_en, (uint32_t)i, "test");
		forget_pair(f, (uint32_t)i);
	}
	run_loop(f->f_base);
	check_all(f);
	/* The oldest of an SPI goes: the next oldest answers. */
	gone = f->f_rec[1];
	ASSERT_TRUE(gone != NULL);
	sarec_forget(gone);
	f->f_rec[1] = NULL;
	check_all(f);
	/* Peer b loses all but pair 2; peer c everything. */
	sarec_flush_but(&f->f_en, f->f_pe[1], 2, "test");
	for (i = 0; i < NREC; i++)
		if (i / 2 % 3 == 1 && f->f_pair[i] != 2)
			f->f_rec[i] = NULL;
	ASSERT_INT_EQ(sarec_flush(&f->f_en, f->f_pe[2], "test") > 0, 1);
	for (i = 0; i < NREC; i++)
		if (i / 2 % 3 == 2)
			f->f_rec[i] = NULL;
	run_loop(f->f_base);
	check_all(f);
	ASSERT_INT_EQ(sarec_count(&f->f_en, f->f_pe[1]), 2);
	teardown(f);
	free(f);
}

TEST(sarec_replace_moves_pair)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kink_sarec *sr, *extra[64];
	struct sarec_key k;
	struct kink_sa sa;
	int i;

	ASSERT_TRUE(f != NULL);
	setup(f);
	mksa(&sa, 10);
	sr = sarec_add(&f->f_en, f->f_pe[5 % 3], "pol", 7, 9999, 1, &sa, 1);
	ASSERT_TRUE(sr == f->f_rec[10]);
	ASSERT_INT_EQ(f->f_en.en_nsas, NREC);
	f->f_pair[10] = 9999;
	memset(&k, 0, sizeof(k));
	k.k_pair = 9999;
	ASSERT_TRUE(sarec_next(&f->f_en, NULL, &k) == sr);
	ASSERT_TRUE(sarec_next(&f->f_en, sr, &k) == NULL);
	k.k_pair = 6;
	ASSERT_TRUE(sarec_next(&f->f_en, NULL, &k) == f->f_rec[11]);
	ASSERT_TRUE(sarec_next(&f->f_en, f->f_rec[11], &k) == NULL);
	run_loop(f->f_base);
	check_all(f);
	/* A replacement to another destination is found there, not before. */
	mksa(&sa, 10);
	addr4(&sa.sa_dst, "203.0.113.9");
	ASSERT_TRUE(sarec_add(&f->f_en, f->f_pe[2], "pol", 7, 9999, 1, &sa,
	    1) == sr);
	ASSERT_TRUE(sarec_find_dst(&f->f_en, &sa.sa_dst, sa.sa_proto,
	    sa.sa_spi) == sr);
	mksa(&sa, 10);
	ASSERT_TRUE(sarec_find_dst(&f->f_en, &sa.sa_dst, sa.sa_proto,
	    sa.sa_spi) == NULL);
	/* Keys on either side of it still sort around it. */
	for (i = 0; i < 64; i++) {
		char a[32];

		mksa(&sa, 10);
		snprintf(a, sizeof(a), "%d.0.0.1", 100 + 2 * i);
		addr4(&sa.sa_dst, a);
		extra[i] = sarec_add(&f->f_en, f->f_pe[0], "pol", 7, 20000, 1,
		    &sa, 0);
	}
	for (i = 0; i < 64; i++) {
		ASSERT_TRUE(sarec_find_dst(&f->f_en, rec_dst(extra[i]),
		    extra[i]->sr_sa.sa_proto, extra[i]->sr_sa.sa_spi) ==
		    extra[i]);
		sarec_forget(extra[i]);
	}
	mksa(&sa, 10);
	addr4(&sa.sa_dst, "203.0.113.9");
	ASSERT_TRUE(sarec_find_dst(&f->f_en, &sa.sa_dst, sa.sa_proto,
	    sa.sa_spi) == sr);
	check_all(f);
	teardown(f);
	free(f);
}

/*
 * The pair an IPComp ACQUIRE is checked against (upcall.c): an outbound
 * SA of that peer and policy, mature or soft-expired, not one a DELETE
 * names, not an inbound one, not another policy's.
 */
TEST(sarec_live_out_states)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kink_sarec *in, *out;
	struct kink_sa sa;

	ASSERT_TRUE(f != NULL);
	setup(f);
	sarec_forget_all(&f->f_en);
	run_loop(f->f_base);
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[0], "pol") == NULL);
	mksa(&sa, 0);
	in = sarec_add(&f->f_en, f->f_pe[0], "pol", 7, 1, 1, &sa, 0);
	ASSERT_TRUE(in != NULL);
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[0], "pol") == NULL);
	mksa(&sa, 1);
	out = sarec_add(&f->f_en, f->f_pe[0], "pol", 7, 1, 1, &sa, 0);
	ASSERT_TRUE(out != NULL);
	run_loop(f->f_base);
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[0], "pol") == out);
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[0], "other") == NULL);
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[1], "pol") == NULL);
	/* Soft expiry: rekey pending, still in force. */
	ASSERT_INT_EQ(sarec_pair_dying(&f->f_en, 1), 2);
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[0], "pol") == out);
	/* A DELETE names it: going. */
	out->sr_del_serial = 5;
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[0], "pol") == NULL);
	out->sr_del_serial = 0;
	out->sr_installed = 0;
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[0], "pol") == NULL);
	out->sr_state = CTL_SA_LARVAL;
	ASSERT_TRUE(sarec_live_out(&f->f_en, f->f_pe[0], "pol") == NULL);
	teardown(f);
	free(f);
}

TEST(peer_lookups_after_removal)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct conf_peer cp;

	ASSERT_TRUE(f != NULL);
	setup(f);
	ASSERT_TRUE(peer_by_name(&f->f_en, "b") == f->f_pe[1]);
	ASSERT_TRUE(peer_by_principal(&f->f_en, "kink/c@R") == f->f_pe[2]);
	sarec_flush(&f->f_en, f->f_pe[1], "test");
	peer_free(f->f_pe[1]);
	f->f_pe[1] = NULL;
	ASSERT_TRUE(peer_by_name(&f->f_en, "b") == NULL);
	ASSERT_TRUE(peer_by_principal(&f->f_en, "kink/b@R") == NULL);
	ASSERT_TRUE(peer_by_name(&f->f_en, "a") == f->f_pe[0]);
	ASSERT_TRUE(peer_by_principal(&f->f_en, "kink/a@R") == f->f_pe[0]);
	ASSERT_TRUE(peer_by_name(&f->f_en, "") == NULL);
	ASSERT_TRUE(peer_by_principal(&f->f_en, "kink/a@") == NULL);
	/* A reload's moment with two peers of one principal: the oldest. */
	memset(&cp, 0, sizeof(cp));
	cp.p_name = (char *)"a2";
	cp.p_principal = (char *)"kink/a@R";
	f->f_pe[1] = peer_new(&f->f_en, &cp);
	ASSERT_TRUE(peer_by_principal(&f->f_en, "kink/a@R") == f->f_pe[0]);
	ASSERT_TRUE(peer_by_name(&f->f_en, "a2") == f->f_pe[1]);
	sarec_flush(&f->f_en, f->f_pe[0], "test");
	peer_free(f->f_pe[0]);
	f->f_pe[0] = NULL;
	ASSERT_TRUE(peer_by_principal(&f->f_en, "kink/a@R") == f->f_pe[1]);
	teardown(f);
	free(f);
}

TEST(xact_lookups_after_free)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kink_xact *x[60];
	uint64_t serial[60];
	int i;

	ASSERT_TRUE(f != NULL);
	setup(f);
	/* XIDs repeat across peers and roles, as peers choose theirs. */
	for (i = 0; i < 60; i++) {
		x[i] = xact_new(&f->f_en, f->f_pe[i % 3], 100 + (uint32_t)i / 6,
		    i % 2 ? XR_INIT : XR_RESP, KINK_MSGTYPE_STATUS);
		ASSERT_TRUE(x[i] != NULL);
		serial[i] = x[i]->xa_serial;
	}
	for (i = 0; i < 60; i += 4) {
		xact_free(x[i]);
		x[i] = NULL;
	}
	for (i = 0; i < 60; i++) {
		struct kink_xact *want = NULL;
		int j;

		/* The oldest live one with that (peer, XID, role). */
		for (j = 0; j < 60 && want == NULL; j++)
			if (x[j] != NULL && x[j]->xa_xid == 100 + (uint32_t)i /
			    6 && x[j]->xa_role == (i % 2 ? XR_INIT : XR_RESP) &&
			    x[j]->xa_peer == f->f_pe[i % 3])
				want = x[j];
		ASSERT_TRUE(xact_find(&f->f_en, f->f_pe[i % 3],
		    100 + (uint32_t)i / 6, i % 2 ? XR_INIT : XR_RESP) == want);
		ASSERT_TRUE(xact_by_serial(&f->f_en, serial[i]) == x[i]);
	}
	ASSERT_TRUE(xact_find(&f->f_en, NULL, 99, XR_INIT) == NULL);
	for (i = 0; i < 60; i++)
		if (x[i] != NULL)
			xact_free(x[i]);
	teardown(f);
	free(f);
}

int
main(void)
{
	log_init("test_sarec", 1, 0);
	RUN(sarec_lookups_by_every_key_after_deletes);
	RUN(sarec_replace_moves_pair);
	RUN(sarec_live_out_states);
	RUN(peer_lookups_after_removal);
	RUN(xact_lookups_after_free);
	return test_done();
}
