/*
 * The null SA backend behaves like a kernel backend as the daemon sees it:
 * completions arrive later from the loop (never inside the request),
 * SPIs are unique and outside 1..255, EEXIST/ESRCH like a kernel, replace
 * swaps keys, larval SPIs are not dumped, injected events come back
 * through the upcall.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>

#include "addr.h"
#include "isakmp_num.h"
#include "sadb.h"
#include "test.h"

struct result {
	int	 calls;
	int	 err;
	uint32_t spi;
	int	 ndump;
	int	 dump_end;
	struct kink_sa last;
	int	 nup;
	struct sadb_event ev;
};

static void
done_cb(int err, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->err = err;
}

static void
spi_cb(int err, uint32_t spi, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->err = err;
	r->spi = spi;
}

static void
dump_cb(int err, const struct kink_sa *sa, void *arg)
{
	struct result *r = arg;

	if (sa == NULL) {
		r->dump_end++;
		r->err = err;
		return;
	}
	r->ndump++;
	r->last = *sa;
}

/* spd_get answers: bit (dir - 1) set per call; err of each kept. */
struct spd_result {
	int	 calls;
	unsigned dirs;
	int	 err[4];
};

static void
spd_cb(int err, int dir, void *arg)
{
	struct spd_result *r = arg;

	r->calls++;
	if (dir >= SADB_SPD_OUT && dir <= SADB_SPD_FWD) {
		r->dirs |= 1u << (dir - 1);
		r->err[dir] = err;
	}
}

static void
up_cb(const struct sadb_event *ev, void *arg)
{
	struct result *r = arg;

	r->nup++;
	r->ev = *ev;
}

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

	for (i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
mksa(struct kink_sa *sa, uint32_t spi, uint8_t keybyte)
{
	memset(sa, 0, sizeof(*sa));
	addr4(&sa->sa_src, "192.0.2.2");
	addr4(&sa->sa_dst, "192.0.2.1");
	sa->sa_proto = 3;
	sa->sa_dir = SA_DIR_IN;
	sa->sa_spi = spi;
	sa->sa_enckey_len = 16;
	memset(sa->sa_enckey, keybyte, 16);
}

/*
 * The random draws of the code linked in: these take the place of
 * libbsd's, so a test can count them (each costs a system call) and hand
 * out chosen words once (`rigged`).
 */
static int draws, rigged;

static void
fill_random(void *p, size_t n)
{
	uint8_t *q = p;
	ssize_t r;

	while (n > 0) {
		if ((r = getrandom(q, n, 0)) <= 0)
			abort();
		q += r;
		n -= (size_t)r;
	}
}

uint32_t
arc4random(void)
{
	uint32_t v;

	draws++;
	fill_random(&v, sizeof(v));
	return v;
}

/* Rigged: reserved SPIs (5) and one value (0x12345678) over and over. */
void
arc4random_buf(void *p, size_t n)
{
	uint32_t w[2] = { 5, 0x12345678 };
	size_t i;

	draws++;
	if (!rigged) {
		fill_random(p, n);
		return;
	}
	rigged = 0;
	for (i = 0; i < n; i++)
		((uint8_t *)p)[i] = ((uint8_t *)w)[(i + 4) % sizeof(w)];
}

uint32_t
arc4random_uniform(uint32_t n)
{
	uint32_t v;

	draws++;
	fill_random(&v, sizeof(v));
	return n > 1 ? v % n : 0;
}

TEST(null_getspi_deferred_unique)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct sockaddr_storage s, d;
	struct result r;
	uint32_t seen[200];
	int i, j;

	ASSERT_TRUE(sd != NULL);
	ASSERT_STR_EQ(sadb_backend(sd), "null");
	addr4(&s, "192.0.2.2");
	addr4(&d, "192.0.2.1");
	for (i = 0; i < 200; i++) {
		memset(&r, 0, sizeof(r));
		ASSERT_INT_EQ(sadb_getspi(sd, &s, &d, 3, spi_cb, &r), 0);
		ASSERT_INT_EQ(r.calls, 0);	/* not inside the request */
		run_loop(base);
		ASSERT_INT_EQ(r.calls, 1);
		ASSERT_INT_EQ(r.err, 0);
		ASSERT_TRUE(r.spi >= 256);
		for (j = 0; j < i; j++)
			ASSERT_INT_NE(seen[j], r.spi);
		seen[i] = r.spi;
	}
	sadb_free(sd);
	event_base_free(base);
}

/* SPIs are drawn many at a time: 200 cost 4 draws, not 200. */
TEST(null_getspi_draws_in_batches)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct sockaddr_storage s, d;
	struct result r;
	int i;

	ASSERT_TRUE(sd != NULL);
	addr4(&s, "192.0.2.2");
	addr4(&d, "192.0.2.1");
	draws = 0;
	for (i = 0; i < 200; i++) {
		memset(&r, 0, sizeof(r));
		ASSERT_INT_EQ(sadb_getspi(sd, &s, &d, 3, spi_cb, &r), 0);
		run_loop(base);
		ASSERT_INT_EQ(r.err, 0);
	}
	ASSERT_INT_EQ(draws, 4);
	sadb_free(sd);
	event_base_free(base);
}

/* A batch of reserved and repeated words: none handed out twice or < 256. */
TEST(null_getspi_skips_reserved_and_taken)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct sockaddr_storage s, d;
	struct result r;
	uint32_t first;

	ASSERT_TRUE(sd != NULL);
	addr4(&s, "192.0.2.2");
	addr4(&d, "192.0.2.1");
	rigged = 1;
	memset(&r, 0, sizeof(r));
	ASSERT_INT_EQ(sadb_getspi(sd, &s, &d, 3, spi_cb, &r), 0);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	ASSERT_INT_EQ(r.spi, 0x12345678);
	first = r.spi;
	memset(&r, 0, sizeof(r));
	draws = 0;
	ASSERT_INT_EQ(sadb_getspi(sd, &s, &d, 3, spi_cb, &r), 0);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	ASSERT_TRUE(r.spi >= 256);
	ASSERT_INT_NE(r.spi, first);
	ASSERT_INT_EQ(draws, 1);	/* the rest of the batch was unusable */
	sadb_free(sd);
	event_base_free(base);
}

TEST(null_add_replace_delete_dump)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct sockaddr_storage s, d;
	struct kink_sa sa;
	struct result r;
	uint32_t spi;

	addr4(&s, "192.0.2.2");
	addr4(&d, "192.0.2.1");
	memset(&r, 0, sizeof(r));
	sadb_getspi(sd, &s, &d, 3, spi_cb, &r);
	run_loop(base);
	spi = r.spi;

	/* a larval SPI is not an SA yet */
	memset(&r, 0, sizeof(r));
	ASSERT_INT_EQ(sadb_dump(sd, dump_cb, &r), 0);
	ASSERT_INT_EQ(r.dump_end, 0);
	run_loop(base);
	ASSERT_INT_EQ(r.dump_end, 1);
	ASSERT_INT_EQ(r.ndump, 0);

	/* add onto the larval SPI, then a second add is EEXIST */
	mksa(&sa, spi, 0x11);
	memset(&r, 0, sizeof(r));
	sadb_add(sd, &sa, 0, done_cb, &r);
	ASSERT_INT_EQ(r.calls, 0);
	run_loop(base);
	ASSERT_INT_EQ(r.calls, 1);
	ASSERT_INT_EQ(r.err, 0);
	mksa(&sa, spi, 0x22);
	memset(&r, 0, sizeof(r));
	sadb_add(sd, &sa, 0, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, EEXIST);

	/* replace swaps the keys */
	memset(&r, 0, sizeof(r));
	sadb_add(sd, &sa, 1, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	memset(&r, 0, sizeof(r));
	sadb_dump(sd, dump_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.ndump, 1);
	ASSERT_INT_EQ(r.last.sa_spi, spi);
	ASSERT_INT_EQ(r.last.sa_enckey[0], 0x22);

	/* get: the SA without its keys, then the end; later, not inside */
	memset(&r, 0, sizeof(r));
	ASSERT_INT_EQ(sadb_get(sd, &sa, dump_cb, &r), 0);
	ASSERT_INT_EQ(r.dump_end, 0);
	run_loop(base);
	ASSERT_INT_EQ(r.ndump, 1);
	ASSERT_INT_EQ(r.dump_end, 1);
	ASSERT_INT_EQ(r.last.sa_spi, spi);
	ASSERT_INT_EQ(r.last.sa_enckey_len, 0);
	ASSERT_INT_EQ(r.last.sa_enckey[0], 0);

	/* delete, then deleting again is ESRCH */
	memset(&r, 0, sizeof(r));
	sadb_del(sd, &sa, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	memset(&r, 0, sizeof(r));
	sadb_del(sd, &sa, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, ESRCH);
	memset(&r, 0, sizeof(r));
	sadb_dump(sd, dump_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.ndump, 0);
	/* get of what is gone: ESRCH and no SA */
	memset(&r, 0, sizeof(r));
	sadb_get(sd, &sa, dump_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.ndump, 0);
	ASSERT_INT_EQ(r.dump_end, 1);
	ASSERT_INT_EQ(r.err, ESRCH);
	sadb_free(sd);
	event_base_free(base);
}

/*
 * IPComp: CPIs from 0x100..0xefff (RFC 3173 2.2), unique per
 * destination; an IPComp SA (no keys, sa_enc the transform id) is added,
 * dumped, got and deleted like an ESP one, apart from an ESP SA with the
 * same number.
 */
TEST(null_ipcomp_cpi_and_sa)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct sockaddr_storage s, d;
	struct kink_sa sa, esp;
	struct result r;
	uint32_t seen[300];
	int i, j;

	ASSERT_TRUE(sd != NULL);
	addr4(&s, "192.0.2.2");
	addr4(&d, "192.0.2.1");
	for (i = 0; i < 300; i++) {
		memset(&r, 0, sizeof(r));
		ASSERT_INT_EQ(sadb_getspi(sd, &s, &d, PROTO_IPCOMP, spi_cb,
		    &r), 0);
		run_loop(base);
		ASSERT_INT_EQ(r.err, 0);
		ASSERT_TRUE(r.spi >= 0x100 && r.spi <= 0xefff);
		for (j = 0; j < i; j++)
			ASSERT_INT_NE(seen[j], r.spi);
		seen[i] = r.spi;
	}
	memset(&sa, 0, sizeof(sa));
	addr4(&sa.sa_src, "192.0.2.2");
	addr4(&sa.sa_dst, "192.0.2.1");
	sa.sa_proto = PROTO_IPCOMP;
	sa.sa_dir = SA_DIR_IN;
	sa.sa_spi = seen[0];
	sa.sa_enc = IPCOMP_DEFLATE;
	memset(&r, 0, sizeof(r));
	sadb_add(sd, &sa, 0, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	/* An ESP SA with the same number is another SA. */
	mksa(&esp, seen[0], 0x33);
	memset(&r, 0, sizeof(r));
	sadb_add(sd, &esp, 0, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	memset(&r, 0, sizeof(r));
	sadb_get(sd, &sa, dump_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.ndump, 1);
	ASSERT_INT_EQ(r.last.sa_proto, PROTO_IPCOMP);
	ASSERT_INT_EQ(r.last.sa_spi, seen[0]);
	ASSERT_INT_EQ(r.last.sa_enc, IPCOMP_DEFLATE);
	memset(&r, 0, sizeof(r));
	sadb_dump(sd, dump_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.ndump, 2);
	memset(&r, 0, sizeof(r));
	sadb_del(sd, &sa, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	memset(&r, 0, sizeof(r));
	sadb_dump(sd, dump_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.ndump, 1);
	ASSERT_INT_EQ(r.last.sa_proto, 3);
	sadb_free(sd);
	event_base_free(base);
}

TEST(null_spd)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct kink_policy pol;
	struct result r;

	memset(&pol, 0, sizeof(pol));
	pol.pol_reqid = 77;
	memset(&r, 0, sizeof(r));
	sadb_spd_add(sd, &pol, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	memset(&r, 0, sizeof(r));
	sadb_spd_del(sd, &pol, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, 0);
	memset(&r, 0, sizeof(r));
	sadb_spd_del(sd, &pol, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.err, ESRCH);
	sadb_free(sd);
	event_base_free(base);
}

/*
 * spd_get reads the store as it is when the answer runs (later, from the
 * loop), one answer per direction, and changes nothing.
 */
TEST(null_spd_get)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct kink_policy pol, tun;
	struct spd_result g;
	struct result r;

	memset(&pol, 0, sizeof(pol));
	pol.pol_reqid = 77;
	pol.pol_mode = ENCAP_MODE_TRANSPORT;
	tun = pol;
	tun.pol_reqid = 78;
	tun.pol_mode = ENCAP_MODE_TUNNEL;
	memset(&r, 0, sizeof(r));
	sadb_spd_add(sd, &pol, done_cb, &r);
	sadb_spd_add(sd, &tun, done_cb, &r);
	run_loop(base);
	ASSERT_INT_EQ(r.calls, 2);

	memset(&g, 0, sizeof(g));
	ASSERT_INT_EQ(sadb_spd_get(sd, &pol, spd_cb, &g), 2);
	ASSERT_INT_EQ(g.calls, 0);		/* never inside the call */
	run_loop(base);
	ASSERT_INT_EQ(g.calls, 2);
	ASSERT_INT_EQ(g.dirs, 3);		/* out, in */
	ASSERT_INT_EQ(g.err[SADB_SPD_OUT], 0);
	ASSERT_INT_EQ(g.err[SADB_SPD_IN], 0);
	memset(&g, 0, sizeof(g));
	ASSERT_INT_EQ(sadb_spd_get(sd, &tun, spd_cb, &g), 3);
	run_loop(base);
	ASSERT_INT_EQ(g.dirs, 7);		/* and fwd */
	ASSERT_INT_EQ(g.err[SADB_SPD_FWD], 0);

	/* Gone from the store: ENOENT; the other policy is untouched. */
	sadb_spd_del(sd, &pol, done_cb, &r);
	run_loop(base);
	memset(&g, 0, sizeof(g));
	ASSERT_INT_EQ(sadb_spd_get(sd, &pol, spd_cb, &g), 2);
	run_loop(base);
	ASSERT_INT_EQ(g.calls, 2);
	ASSERT_INT_EQ(g.err[SADB_SPD_OUT], ENOENT);
	ASSERT_INT_EQ(g.err[SADB_SPD_IN], ENOENT);
	memset(&g, 0, sizeof(g));
	ASSERT_INT_EQ(sadb_spd_get(sd, &tun, spd_cb, &g), 3);
	run_loop(base);
	ASSERT_INT_EQ(g.err[SADB_SPD_IN], 0);
	sadb_free(sd);
	event_base_free(base);
}

static const struct sadb_ops no_spd_get_ops = { .name = "bare" };

/* A backend without the op: ENOTSUP, and no callback ever. */
TEST(spd_get_enotsup)
{
	struct sadb sd = { .sd_ops = &no_spd_get_ops };
	struct kink_policy pol;
	struct spd_result g;

	memset(&pol, 0, sizeof(pol));
	memset(&g, 0, sizeof(g));
	errno = 0;
	ASSERT_INT_EQ(sadb_spd_get(&sd, &pol, spd_cb, &g), -1);
	ASSERT_INT_EQ(errno, ENOTSUP);
	ASSERT_INT_EQ(g.calls, 0);
}

TEST(null_inject_upcall_deferred)
{
	struct event_base *base = event_base_new();
	struct result r;
	struct sadb *sd;
	struct sadb_event ev;

	memset(&r, 0, sizeof(r));
	sd = sadb_new(base, "null", up_cb, &r);
	memset(&ev, 0, sizeof(ev));
	ev.ev_type = SADB_EV_ACQUIRE;
	ev.ev_reqid = 42;
	ASSERT_INT_EQ(sadb_null_event(sd, &ev), 0);
	ASSERT_INT_EQ(r.nup, 0);
	run_loop(base);
	ASSERT_INT_EQ(r.nup, 1);
	ASSERT_INT_EQ(r.ev.ev_type, SADB_EV_ACQUIRE);
	ASSERT_INT_EQ(r.ev.ev_reqid, 42);
	sadb_free(sd);
	event_base_free(base);
}

/* Requests still queued when the backend closes are dropped, not run. */
TEST(null_close_with_pending)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct kink_sa sa;
	struct result r;

	mksa(&sa, 1000, 1);
	memset(&r, 0, sizeof(r));
	sadb_add(sd, &sa, 0, done_cb, &r);
	sadb_free(sd);
	run_loop(base);
	ASSERT_INT_EQ(r.calls, 0);
	event_base_free(base);
}

/* The GCM knob: refused suites are named, others (and AH) pass. */
TEST(null_supports_knob)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct kink_suite gcm = { .s_esp = { 1, ESP_AES_GCM_16, 256, 0 } };
	struct kink_suite cbc = { .s_esp = { 1, 12, 128, 2 } };
	struct kink_suite ah = { .s_ah = { 1, 2, 0, 2 } };
	const char *why = NULL;

	ASSERT_TRUE(sd != NULL);
	ASSERT_INT_EQ(sadb_supports(sd, &gcm, &why), 1);
	ASSERT_INT_EQ(sadb_null_refuse_gcm(sd, 1), 0);
	ASSERT_INT_EQ(sadb_supports(sd, &gcm, &why), 0);
	ASSERT_TRUE(why != NULL && strstr(why, "AES-GCM") != NULL);
	ASSERT_INT_EQ(sadb_supports(sd, &cbc, NULL), 1);
	ASSERT_INT_EQ(sadb_supports(sd, &ah, NULL), 1);
	ASSERT_INT_EQ(sadb_null_refuse_gcm(sd, 0), 0);
	ASSERT_INT_EQ(sadb_supports(sd, &gcm, NULL), 1);
	sadb_free(sd);
	event_base_free(base);
}

struct bulk {
	int	 calls, errs, ndump, dump_end, probes, probes_mid;
	int	 seen_dir_out;
};

static void
bulk_done(int err, void *arg)
{
	struct bulk *b = arg;

	b->calls++;
	b->errs += err != 0;
}

static void
bulk_dump(int err, const struct kink_sa *sa, void *arg)
{
	struct bulk *b = arg;

	if (sa == NULL)
		b->dump_end++;
	else
		b->ndump++;
}

/* Runs once per loop pass while a dump is under way. */
static void
bulk_probe(evutil_socket_t fd, short what, void *arg)
{
	struct bulk *b = arg;

	b->probes++;
	b->probes_mid += b->ndump > 0 && b->dump_end == 0;
}

/* Pair p: inbound SPI to 192.0.2.1, outbound the same SPI to .2. */
static void
pair_sa(struct kink_sa *sa, int i)
{
	mksa(sa, 0x1000 + (uint32_t)(i / 2), (uint8_t)i);
	if (i % 2) {
		addr4(&sa->sa_dst, "192.0.2.2");
		addr4(&sa->sa_src, "192.0.2.1");
		sa->sa_dir = SA_DIR_OUT;
	}
}

static void
bulk_dump_all(struct event_base *base, struct sadb *sd, struct bulk *b)
{
	struct event *probe = event_new(base, -1, EV_PERSIST, bulk_probe, b);
	struct timeval zero = { 0, 0 };
	int pass;

	b->ndump = b->dump_end = b->probes = b->probes_mid = 0;
	ASSERT_INT_EQ(sadb_dump(sd, bulk_dump, b), 0);
	event_add(probe, &zero);
	for (pass = 0; pass < 100000 && b->dump_end == 0; pass++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	event_free(probe);
}

/*
 * 100,000 pairs: nothing capped below that, lookups by key right after
 * deletes, and a dump that lets other events run between its chunks.
 */
TEST(null_holds_100k_pairs)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct kink_sa sa;
	struct result r;
	struct bulk b;
	int i, n = 200000, gone = 0;

	ASSERT_TRUE(sd != NULL);
	memset(&b, 0, sizeof(b));
	for (i = 0; i < n; i++) {
		pair_sa(&sa, i);
		ASSERT_INT_EQ(sadb_add(sd, &sa, 0, bulk_done, &b), 0);
		if (i % 1024 == 1023)
			run_loop(base);
	}
	run_loop(base);
	ASSERT_INT_EQ(b.calls, n);
	ASSERT_INT_EQ(b.errs, 0);
	bulk_dump_all(base, sd, &b);
	ASSERT_INT_EQ(b.dump_end, 1);
	ASSERT_INT_EQ(b.ndump, n);
	ASSERT_TRUE(b.probes_mid > 0);	/* other events ran mid-dump */
	/* Every third SA goes; each is then looked up by its key. */
	b.calls = b.errs = 0;
	for (i = 0; i < n; i += 3, gone++) {
		pair_sa(&sa, i);
		ASSERT_INT_EQ(sadb_del(sd, &sa, bulk_done, &b), 0);
	}
	run_loop(base);
	ASSERT_INT_EQ(b.calls, gone);
	ASSERT_INT_EQ(b.errs, 0);
	for (i = 0; i < 3000; i++) {
		pair_sa(&sa, i);
		memset(&r, 0, sizeof(r));
		ASSERT_INT_EQ(sadb_get(sd, &sa, dump_cb, &r), 0);
		run_loop(base);
		if (i % 3 == 0)
			ASSERT_INT_EQ(r.err, ESRCH);
		else {
			ASSERT_INT_EQ(r.err, 0);
			ASSERT_INT_EQ(r.ndump, 1);
			ASSERT_INT_EQ(r.last.sa_spi, sa.sa_spi);
			ASSERT_INT_EQ(r.last.sa_dir, sa.sa_dir);
			ASSERT_TRUE(addr_eq((struct sockaddr *)&r.last.sa_dst,
			    (struct sockaddr *)&sa.sa_dst));
		}
	}
	bulk_dump_all(base, sd, &b);
	ASSERT_INT_EQ(b.ndump, n - gone);
	sadb_free(sd);
	event_base_free(base);
}

/* The store is keyed by address: a family without one is refused. */
TEST(null_refuses_unkeyed_family)
{
	struct event_base *base = event_base_new();
	struct sadb *sd = sadb_new(base, "null", up_cb, NULL);
	struct kink_sa sa;
	struct result r;

	mksa(&sa, 0x4242, 1);
	sa.sa_dst.ss_family = AF_UNIX;
	memset(&r, 0, sizeof(r));
	ASSERT_INT_EQ(sadb_add(sd, &sa, 0, done_cb, &r), 0);
	run_loop(base);
	ASSERT_INT_EQ(r.calls, 1);
	ASSERT_INT_EQ(r.err, EAFNOSUPPORT);
	memset(&r, 0, sizeof(r));
	ASSERT_INT_EQ(sadb_getspi(sd, &sa.sa_src, &sa.sa_dst, 3, spi_cb, &r),
	    0);
	run_loop(base);
	ASSERT_INT_EQ(r.err, EAFNOSUPPORT);
	sadb_free(sd);
	event_base_free(base);
}

int
main(void)
{
	RUN(null_getspi_deferred_unique);
	RUN(null_getspi_draws_in_batches);
	RUN(null_getspi_skips_reserved_and_taken);
	RUN(null_add_replace_delete_dump);
	RUN(null_ipcomp_cpi_and_sa);
	RUN(null_spd);
	RUN(null_spd_get);
	RUN(spd_get_enotsup);
	RUN(null_inject_upcall_deferred);
	RUN(null_close_with_pending);
	RUN(null_supports_knob);
	RUN(null_holds_100k_pairs);
	RUN(null_refuses_unkeyed_family);
	return test_done();
}
