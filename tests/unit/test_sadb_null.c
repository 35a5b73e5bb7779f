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
#include <string.h>

#include <event2/event.h>

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

int
main(void)
{
	RUN(null_getspi_deferred_unique);
	RUN(null_add_replace_delete_dump);
	RUN(null_spd);
	RUN(null_inject_upcall_deferred);
	RUN(null_close_with_pending);
	RUN(null_supports_knob);
	return test_done();
}
