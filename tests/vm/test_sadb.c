/*
 * The sadb kernel backends against a real kernel (run inside the VM by
 * tests/vm/020-sadb.sh): two network namespaces A and B (tests/vm/
 * guest.sh), one sadb handle opened in each, driven on a libevent loop.
 *
 *	test_sadb BACKEND 4|6	getspi, SA pair + SPD, ping with ESP
 *				counters, dump, replace, AES-GCM, delete,
 *				ACQUIRE, soft/hard EXPIRE, flush, spd_del,
 *				ESP + IPComp, tunnel
 *	test_sadb caps		which backend needs CAP_NET_ADMIN after open
 */
#include <sys/syscall.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "isakmp_num.h"
#include "log.h"
#include "sadb.h"
#include "sadb_kern.h"
#include "test.h"

static struct event_base *base;
static const char *backend;
static int fam;
static struct sadb *sdA, *sdB;
static struct sockaddr_storage addrA, addrB;
static const char *strA, *strB;

#define REQID		0x1234
#define REQID_FOREIGN	0x1235

/* Events seen by the upcall, per host. */
struct evlog {
	int		 n;
	struct sadb_event ev[16];
};
static struct evlog evA, evB;

static void
upcall(const struct sadb_event *ev, void *arg)
{
	struct evlog *l = arg;

	if (l->n < 16)
		l->ev[l->n++] = *ev;
}

/* Run the loop until *flag is set or `secs` pass; 0 if it was set. */
static int done_flag;

static void
loop_timeout(evutil_socket_t fd, short w, void *arg)
{
	event_base_loopbreak(base);
}

static int
wait_flag(int *flag, int secs)
{
	struct timeval tv = { 0, 20000 };
	int i;

	for (i = 0; i < secs * 50 && !*flag; i++) {
		struct event *t = evtimer_new(base, loop_timeout, NULL);

		evtimer_add(t, &tv);
		event_base_loop(base, EVLOOP_ONCE);
		event_free(t);
	}
	return *flag ? 0 : -1;
}

static int res_err;
static uint32_t res_spi;

static void
done_cb(int err, void *arg)
{
	res_err = err;
	done_flag = 1;
}

static void
spi_cb(int err, uint32_t spi, void *arg)
{
	res_err = err;
	res_spi = spi;
	done_flag = 1;
}

static struct kink_sa dumped[32];
static int ndumped;

static void
dump_cb(int err, const struct kink_sa *sa, void *arg)
{
	if (sa != NULL) {
		if (ndumped < 32)
			dumped[ndumped++] = *sa;
		return;
	}
	res_err = err;
	done_flag = 1;
}

/* Synchronous wrappers: -1 if the call failed, else the kernel's errno. */
#define SYNC(call) (done_flag = 0, res_err = -1,			\
	(call) == -1 ? -1 : wait_flag(&done_flag, 8) == -1 ? -2 : res_err)

static int
t_getspi(struct sadb *sd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint32_t *spi)
{
	int r = SYNC(sadb_getspi(sd, src, dst, PROTO_IPSEC_ESP, spi_cb, NULL));

	*spi = res_spi;
	return r;
}

static int
t_getcpi(struct sadb *sd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint32_t *cpi)
{
	int r = SYNC(sadb_getspi(sd, src, dst, PROTO_IPCOMP, spi_cb, NULL));

	*cpi = res_spi;
	return r;
}

static int
t_dump(struct sadb *sd)
{
	ndumped = 0;
	return SYNC(sadb_dump(sd, dump_cb, NULL));
}

static int
t_get(struct sadb *sd, const struct kink_sa *sa)
{
	ndumped = 0;
	return SYNC(sadb_get(sd, sa, dump_cb, NULL));
}

static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Whole output of a command (truncated at size). */
static char *
capture(const char *cmd)
{
	static char out[16384];
	FILE *fp;
	size_t n;

	out[0] = '\0';
	if ((fp = popen(cmd, "r")) == NULL)
		return out;
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	pclose(fp);
	return out;
}

/* Sum of the packet counters of the SAs in namespace ns. */
static long
esp_packets(const char *ns)
{
	char cmd[128], *p, *start;
	long n = 0;

	snprintf(cmd, sizeof(cmd), "/usr/sbin/ip -n %s -s xfrm state", ns);
	p = capture(cmd);
	start = p;
	while ((p = strstr(p, "(packets)")) != NULL) {
		char *q = p;

		while (q > start && q[-1] >= '0' && q[-1] <= '9')
			q--;
		n += strtol(q, NULL, 10);
		p += 9;
	}
	return n;
}

static int
ping_ok(void)
{
	return sh("/usr/sbin/ip netns exec A ping -c 2 -i 0.3 -W 2 %s >/dev/null 2>&1",
	    strB) == 0;
}

static int
enter_ns(const char *name)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r;
}

static void
mkaddr(struct sockaddr_storage *ss, const char *s)
{
	memset(ss, 0, sizeof(*ss));
	if (fam == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		inet_pton(AF_INET, s, &sin->sin_addr);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, s, &sin6->sin6_addr);
	}
}

static void
mksa(struct kink_sa *sa, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint32_t spi, uint8_t dir,
    uint8_t keybyte)
{
	memset(sa, 0, sizeof(*sa));
	sa->sa_src = *src;
	sa->sa_dst = *dst;
	sa->sa_proto = PROTO_IPSEC_ESP;
	sa->sa_dir = dir;
	sa->sa_mode = ENCAP_MODE_TRANSPORT;
	sa->sa_spi = spi;
	sa->sa_reqid = REQID;
	sa->sa_enc = ESP_AES_CBC;
	sa->sa_enc_keylen = 128;
	sa->sa_auth = AUTH_ALG_HMAC_SHA;
	memset(sa->sa_enckey, keybyte, 16);
	sa->sa_enckey_len = 16;
	memset(sa->sa_authkey, keybyte ^ 0x5a, 20);
	sa->sa_authkey_len = 20;
}

static void
mkgcm(struct kink_sa *sa, uint8_t keybyte)
{
	sa->sa_enc = ESP_AES_GCM_16;
	sa->sa_auth = 0;
	memset(sa->sa_enckey, keybyte, 20);	/* 16 key + 4 salt */
	sa->sa_enckey_len = 20;
	sa->sa_authkey_len = 0;
}

static void
mkpol(struct kink_policy *pol, const struct sockaddr_storage *local,
    const struct sockaddr_storage *remote)
{
	memset(pol, 0, sizeof(*pol));
	strlcpy(pol->pol_name, "vm", sizeof(pol->pol_name));
	pol->pol_mode = ENCAP_MODE_TRANSPORT;
	pol->pol_src.sel_addr = *local;
	pol->pol_src.sel_plen = fam == 4 ? 32 : 128;
	pol->pol_dst.sel_addr = *remote;
	pol->pol_dst.sel_plen = fam == 4 ? 32 : 128;
	pol->pol_suites[0].s_esp.x_present = 1;
	pol->pol_suites[0].s_esp.x_id = ESP_AES_CBC;
	pol->pol_nsuites = 1;
	pol->pol_reqid = REQID;
}

/* State carried from case to case (they run in this order). */
static uint32_t spiA, spiB;	/* inbound SPIs of A and of B */
static struct kink_sa aOut, aIn, bOut, bIn;
static struct kink_policy polA, polB;

TEST(open_both)
{
	ASSERT_TRUE(enter_ns("A") == 0);
	sdA = sadb_new(base, backend, upcall, &evA);
	ASSERT_TRUE(sdA != NULL);
	ASSERT_TRUE(enter_ns("B") == 0);
	sdB = sadb_new(base, backend, upcall, &evB);
	ASSERT_TRUE(sdB != NULL);
	ASSERT_STR_EQ(sadb_backend(sdA), backend);
	/* Dump and flush look at our reqid only; REQID_FOREIGN is someone
	 * else's (installed with ip below). */
	sdA->sd_reqid_min = sdA->sd_reqid_max = REQID;
	sdB->sd_reqid_min = sdB->sd_reqid_max = REQID;
}

TEST(getspi)
{
	uint32_t again;

	ASSERT_INT_EQ(t_getspi(sdA, &addrB, &addrA, &spiA), 0);
	ASSERT_INT_EQ(t_getspi(sdB, &addrA, &addrB, &spiB), 0);
	ASSERT_TRUE(spiA >= 0x100 && spiB >= 0x100);
	/* A second reservation for the same pair is a different SPI. */
	ASSERT_INT_EQ(t_getspi(sdA, &addrB, &addrA, &again), 0);
	ASSERT_INT_NE(again, spiA);
	/* The kernel holds the reservation (larval SA). */
	{
		char hex[16];

		snprintf(hex, sizeof(hex), "spi 0x%08x", spiA);
		ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
		    hex) != NULL);
	}
}

TEST(add_pair_spd_ping)
{
	long before, after, bafter;

	mksa(&aOut, &addrA, &addrB, spiB, SA_DIR_OUT, 0x11);
	mksa(&aIn, &addrB, &addrA, spiA, SA_DIR_IN, 0x22);
	bOut = aIn;
	bOut.sa_dir = SA_DIR_OUT;
	bIn = aOut;
	bIn.sa_dir = SA_DIR_IN;
	/* Inbound ones replace the larval SAs getspi left (UPDATE). */
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &aIn, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &aOut, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &bIn, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &bOut, 0, done_cb, NULL)), 0);
	mkpol(&polA, &addrA, &addrB);
	mkpol(&polB, &addrB, &addrA);
	ASSERT_INT_EQ(SYNC(sadb_spd_add(sdA, &polA, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_spd_add(sdB, &polB, done_cb, NULL)), 0);
	/* Again: a restarted daemon re-installs its policies. */
	ASSERT_INT_EQ(SYNC(sadb_spd_add(sdA, &polA, done_cb, NULL)), 0);
	before = esp_packets("A");
	if (!ping_ok())
		sh("for n in A B; do echo \"  == $n\"; /usr/sbin/ip -n $n -s xfrm state;"
		    " /usr/sbin/ip -n $n xfrm policy; done | sed 's/^/  /'");
	ASSERT_TRUE(ping_ok());
	after = esp_packets("A");
	bafter = esp_packets("B");
	printf("  esp packets: A %ld->%ld, B %ld\n", before, after, bafter);
	ASSERT_TRUE(after >= before + 4);
	ASSERT_TRUE(bafter >= 4);
	/* get: one SA as the kernel has it, with its counters, no keys. */
	ASSERT_INT_EQ(t_get(sdA, &aOut), 0);
	ASSERT_INT_EQ(ndumped, 1);
	ASSERT_INT_EQ(dumped[0].sa_spi, spiB);
	ASSERT_INT_EQ(dumped[0].sa_reqid, REQID);
	ASSERT_INT_EQ(dumped[0].sa_enc, ESP_AES_CBC);
	ASSERT_INT_EQ(dumped[0].sa_enckey_len, 0);
	ASSERT_TRUE(dumped[0].sa_cur_packets >= 2);
	ASSERT_TRUE(dumped[0].sa_cur_bytes > 0);
	/* The keys landed as given. */
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "0x11111111111111111111111111111111") != NULL);
}

static int
dumped_has(uint32_t spi)
{
	int i;

	for (i = 0; i < ndumped; i++)
		if (dumped[i].sa_spi == spi)
			return 1;
	return 0;
}

TEST(dump_scoped)
{
	int i;

	/* Someone else's SA, with a reqid outside kinkd's range. */
	ASSERT_INT_EQ(sh("/usr/sbin/ip -n A xfrm state add src %s dst %s "
	    "proto esp spi 0x7777 reqid %u mode transport enc 'cbc(aes)' "
	    "0x000102030405060708090a0b0c0d0e0f", strA, strB, REQID_FOREIGN),
	    0);
	ASSERT_INT_EQ(t_dump(sdA), 0);
	ASSERT_INT_EQ(ndumped, 2);
	ASSERT_TRUE(dumped_has(spiA) && dumped_has(spiB));
	ASSERT_TRUE(!dumped_has(0x7777));
	for (i = 0; i < ndumped; i++) {
		ASSERT_INT_EQ(dumped[i].sa_reqid, REQID);
		ASSERT_INT_EQ(dumped[i].sa_enc, ESP_AES_CBC);
		ASSERT_INT_EQ(dumped[i].sa_auth, AUTH_ALG_HMAC_SHA);
		ASSERT_INT_EQ(dumped[i].sa_enckey_len, 0);	/* no keys */
	}
}

TEST(replace_keys)
{
	long before;

	memset(aIn.sa_enckey, 0x33, 16);
	bOut = aIn;
	bOut.sa_dir = SA_DIR_OUT;
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &aIn, 1, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &bOut, 1, done_cb, NULL)), 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "0x33333333333333333333333333333333") != NULL);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "0x22222222222222222222222222222222") == NULL);
	before = esp_packets("A");
	ASSERT_TRUE(ping_ok());
	ASSERT_TRUE(esp_packets("A") >= before + 4);
	/* replace of an SPI that does not exist is a plain add. */
}

TEST(aes_gcm)
{
	struct kink_sa a = aOut, b = bIn;
	int r;

	mkgcm(&a, 0x44);
	mkgcm(&b, 0x44);
	r = SYNC(sadb_add(sdA, &a, 1, done_cb, NULL));
	if (strcmp(backend, "pfkey") == 0) {
		/* Linux af_key knows no AEAD: the kernel refuses it. */
		ASSERT_TRUE(r > 0);
		printf("  pfkey AES-GCM add: %s (expected)\n", strerror(r));
		/* Put the CBC SA back for the next cases. */
		ASSERT_INT_EQ(SYNC(sadb_add(sdA, &aOut, 1, done_cb, NULL)), 0);
		return;
	}
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &b, 1, done_cb, NULL)), 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "rfc4106(gcm(aes))") != NULL);
	{
		long before = esp_packets("A");

		ASSERT_TRUE(ping_ok());
		ASSERT_TRUE(esp_packets("A") >= before + 4);
	}
	ASSERT_INT_EQ(t_dump(sdA), 0);
	ASSERT_TRUE(dumped_has(spiB));
	{
		int i;

		for (i = 0; i < ndumped; i++)
			if (dumped[i].sa_spi == spiB)
				ASSERT_INT_EQ(dumped[i].sa_enc, ESP_AES_GCM_16);
	}
}

TEST(delete_pair)
{
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &aIn, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &aOut, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdB, &bIn, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdB, &bOut, done_cb, NULL)), 0);
	ASSERT_INT_EQ(t_dump(sdA), 0);
	ASSERT_INT_EQ(ndumped, 0);
	/* Gone from the kernel: get and deleting again say ESRCH. */
	ASSERT_INT_EQ(t_get(sdA, &aIn), ESRCH);
	ASSERT_INT_EQ(ndumped, 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &aIn, done_cb, NULL)), ESRCH);
	/* The foreign SA stays. */
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "0x00007777") != NULL);
}

/* Run the loop for about ms milliseconds. */
static void
pump(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *t = evtimer_new(base, loop_timeout, NULL);

	evtimer_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
}

/* Index in l of the first event of type (with spi, if nonzero) seen
 * within secs, or -1. */
static int
wait_event(struct evlog *l, enum sadb_event_type type, uint32_t spi,
    int secs)
{
	int i, j;

	for (i = 0; i < secs * 10; i++) {
		for (j = 0; j < l->n; j++)
			if (l->ev[j].ev_type == type &&
			    (spi == 0 || l->ev[j].ev_sa.sa_spi == spi))
				return j;
		pump(100);
	}
	return -1;
}

TEST(acquire)
{
	int got;

	evA.n = 0;
	/* Policies, no SA: the kernel asks the key manager; no reply. */
	ASSERT_TRUE(!ping_ok());
	got = wait_event(&evA, SADB_EV_ACQUIRE, 0, 5);
	ASSERT_TRUE(got != -1);
	ASSERT_INT_EQ(evA.ev[got].ev_reqid, REQID);
	ASSERT_TRUE(addr_eq(addr_sa(&evA.ev[got].ev_src), addr_sa(&addrA)));
	ASSERT_TRUE(addr_eq(addr_sa(&evA.ev[got].ev_dst), addr_sa(&addrB)));
}

TEST(expire_soft_hard)
{
	struct kink_sa sa;
	int soft, hard;

	mksa(&sa, &addrA, &addrB, 0x4242, SA_DIR_OUT, 0x55);
	sa.sa_life_soft_secs = 1;
	sa.sa_life_hard_secs = 3;
	evA.n = 0;
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &sa, 0, done_cb, NULL)), 0);
	soft = wait_event(&evA, SADB_EV_EXPIRE_SOFT, 0x4242, 8);
	ASSERT_TRUE(soft != -1);
	hard = wait_event(&evA, SADB_EV_EXPIRE_HARD, 0x4242, 8);
	ASSERT_TRUE(hard != -1);
	ASSERT_TRUE(soft < hard);
	ASSERT_INT_EQ(evA.ev[hard].ev_sa.sa_reqid, REQID);
	ASSERT_TRUE(addr_eq(addr_sa(&evA.ev[hard].ev_sa.sa_dst), addr_sa(&addrB)));
	/* The kernel removed it at the hard limit. */
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &sa, done_cb, NULL)), ESRCH);
}

TEST(flush_scoped)
{
	struct kink_sa s1, s2;

	mksa(&s1, &addrA, &addrB, 0x5151, SA_DIR_OUT, 0x66);
	mksa(&s2, &addrB, &addrA, 0x5252, SA_DIR_IN, 0x77);
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &s1, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &s2, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(t_dump(sdA), 0);
	ASSERT_INT_EQ(ndumped, 2);
	ASSERT_INT_EQ(SYNC(sadb_flush(sdA, done_cb, NULL)), 0);
	ASSERT_INT_EQ(t_dump(sdA), 0);
	ASSERT_INT_EQ(ndumped, 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "0x00007777") != NULL);
	/* Nothing left of ours: flush is a no-op that still answers. */
	ASSERT_INT_EQ(SYNC(sadb_flush(sdA, done_cb, NULL)), 0);
	/* Fire and forget (NULL callback), answered with ESRCH: no crash. */
	ASSERT_INT_EQ(sadb_del(sdA, &s1, NULL, NULL), 0);
	pump(300);
}

TEST(spd_del)
{
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm policy"),
	    "dir out") != NULL);
	ASSERT_INT_EQ(SYNC(sadb_spd_del(sdA, &polA, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_spd_del(sdB, &polB, done_cb, NULL)), 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm policy"),
	    "dir") == NULL);
	/* Deleting what is not there is an error the caller sees. */
	ASSERT_INT_EQ(SYNC(sadb_spd_del(sdA, &polA, done_cb, NULL)), ENOENT);
	/* Without policies the ping goes in clear again. */
	ASSERT_TRUE(ping_ok());
}

/*
 * Packets of the SAs of protocol proto ("comp", "esp") in namespace ns,
 * those from src only when src is not NULL.  An outbound IPComp SA counts
 * every packet it sees, compressed or not; an inbound one only those
 * that came with an IPComp header.
 */
static long
proto_packets(const char *ns, const char *proto, const char *src)
{
	char cmd[160], *p, *start;
	long n = 0;

	snprintf(cmd, sizeof(cmd), "/usr/sbin/ip -n %s -s xfrm state list "
	    "%s%s proto %s", ns, src != NULL ? "src " : "",
	    src != NULL ? src : "", proto);
	p = capture(cmd);
	start = p;
	while ((p = strstr(p, "(packets)")) != NULL) {
		char *q = p;

		while (q > start && q[-1] >= '0' && q[-1] <= '9')
			q--;
		n += strtol(q, NULL, 10);
		p += 9;
	}
	return n;
}

static void
mkcomp(struct kink_sa *sa, const struct kink_sa *esp, uint32_t cpi)
{
	*sa = *esp;
	sa->sa_proto = PROTO_IPCOMP;
	sa->sa_spi = cpi;
	sa->sa_enc = IPCOMP_DEFLATE;
	sa->sa_enc_keylen = 0;
	sa->sa_auth = 0;
	sa->sa_enckey_len = sa->sa_authkey_len = 0;
}

/*
 * ESP + IPComp transport (RFC 3173): CPIs reserved by getspi (16 bits),
 * the IPComp SAs beside the ESP ones, policies with the optional IPComp
 * template innermost.  Large compressible pings go compressed (the
 * IPComp SAs count them), small ones uncompressed through the same
 * policy; dump returns the IPComp SAs as kinkd's; delete removes them.
 */
TEST(ipcomp_ping)
{
	struct kink_policy pa, pb;
	struct kink_sa ao, ai, bo, bi, cao, cai, cbo, cbi;
	uint32_t cpiA, cpiB;
	long cb, ca, eb, ea, ib;
	int i, ncomp = 0;

	ASSERT_INT_EQ(t_getcpi(sdA, &addrB, &addrA, &cpiA), 0);
	ASSERT_INT_EQ(t_getcpi(sdB, &addrA, &addrB, &cpiB), 0);
	printf("  CPIs: A 0x%x, B 0x%x\n", cpiA, cpiB);
	ASSERT_TRUE(cpiA >= 0x100 && cpiA <= 0xefff);
	ASSERT_TRUE(cpiB >= 0x100 && cpiB <= 0xefff);
	mksa(&ao, &addrA, &addrB, 0x6101, SA_DIR_OUT, 0x91);
	mksa(&ai, &addrB, &addrA, 0x6102, SA_DIR_IN, 0x92);
	bo = ai;
	bo.sa_dir = SA_DIR_OUT;
	bi = ao;
	bi.sa_dir = SA_DIR_IN;
	mkcomp(&cao, &ao, cpiB);
	mkcomp(&cai, &ai, cpiA);
	mkcomp(&cbo, &bo, cpiA);
	mkcomp(&cbi, &bi, cpiB);
	/* The inbound IPComp SAs replace the larval ones (UPDATE). */
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &cai, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &cao, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &cbi, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &cbo, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &ai, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &ao, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &bi, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &bo, 0, done_cb, NULL)), 0);
	mkpol(&pa, &addrA, &addrB);
	mkpol(&pb, &addrB, &addrA);
	pa.pol_suites[0].s_ipcomp.x_present = 1;
	pa.pol_suites[0].s_ipcomp.x_id = IPCOMP_DEFLATE;
	pb.pol_suites[0].s_ipcomp = pa.pol_suites[0].s_ipcomp;
	ASSERT_INT_EQ(SYNC(sadb_spd_add(sdA, &pa, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_spd_add(sdB, &pb, done_cb, NULL)), 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "comp deflate") != NULL);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm policy"),
	    "proto comp") != NULL);
	cb = proto_packets("A", "comp", NULL);
	eb = proto_packets("A", "esp", NULL);
	if (sh("/usr/sbin/ip netns exec A ping -c 3 -i 0.3 -W 2 -s 1400 "
	    "-p 00 %s >/dev/null 2>&1", strB) != 0) {
		sh("for n in A B; do echo \"  == $n\"; /usr/sbin/ip -n $n -s "
		    "xfrm state; /usr/sbin/ip -n $n xfrm policy; done | "
		    "sed 's/^/  /'");
		test_fail(__FILE__, __LINE__, "large pings did not cross");
		return;
	}
	ca = proto_packets("A", "comp", NULL);
	ea = proto_packets("A", "esp", NULL);
	printf("  large pings: comp packets A %ld->%ld (in %ld), esp "
	    "%ld->%ld, comp in B %ld\n", cb, ca, proto_packets("A", "comp",
	    strB), eb, ea, proto_packets("B", "comp", strA));
	ASSERT_TRUE(ca >= cb + 6);	/* 3 requests out, 3 replies in */
	ASSERT_TRUE(ea >= eb + 6);
	/* Decompressed on both sides. */
	ASSERT_TRUE(proto_packets("A", "comp", strB) >= 3);
	ASSERT_TRUE(proto_packets("B", "comp", strA) >= 3);
	/* Small packets go uncompressed (no IPComp header): they cross
	 * because the template is optional on the receiving side. */
	ib = proto_packets("A", "comp", strB);
	eb = proto_packets("A", "esp", NULL);
	ASSERT_TRUE(ping_ok());
	ASSERT_INT_EQ(proto_packets("A", "comp", strB), ib);
	ASSERT_TRUE(proto_packets("A", "esp", NULL) >= eb + 4);
	/* dump: the IPComp SAs are kinkd's, with CPI, deflate and reqid */
	ASSERT_INT_EQ(t_dump(sdA), 0);
	for (i = 0; i < ndumped; i++) {
		if (dumped[i].sa_proto != PROTO_IPCOMP)
			continue;
		ncomp++;
		ASSERT_TRUE(dumped[i].sa_spi == cpiA ||
		    dumped[i].sa_spi == cpiB);
		ASSERT_INT_EQ(dumped[i].sa_enc, IPCOMP_DEFLATE);
		ASSERT_INT_EQ(dumped[i].sa_reqid, REQID);
	}
	ASSERT_INT_EQ(ncomp, 2);
	ASSERT_INT_EQ(t_get(sdA, &cao), 0);
	ASSERT_INT_EQ(ndumped, 1);
	ASSERT_INT_EQ(dumped[0].sa_proto, PROTO_IPCOMP);
	ASSERT_TRUE(dumped[0].sa_cur_packets >= 3);
	/* delete: IPComp SAs and policies go like ESP ones */
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &cai, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &cao, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdB, &cbi, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdB, &cbo, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &cao, done_cb, NULL)), ESRCH);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "proto comp") == NULL);
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &ai, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &ao, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdB, &bi, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdB, &bo, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_spd_del(sdA, &pa, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_spd_del(sdB, &pb, done_cb, NULL)), 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm policy"),
	    "dir") == NULL);
}

/*
 * Tunnel mode: subnets 10.1.0.0/24 behind A and 10.2.0.0/24 behind B
 * (fd01::/64, fd02::/64), their first addresses on lo, routed via the
 * peer; policies with tunnel endpoints A and B (out, in and fwd).
 */
TEST(tunnel_ping)
{
	struct kink_policy ta, tb;
	struct kink_sa ao, ai, bo, bi;
	struct sockaddr_storage na, nb;
	const char *ha = fam == 4 ? "10.1.0.1" : "fd01::1";
	const char *hb = fam == 4 ? "10.2.0.1" : "fd02::1";
	long before, after;

	ASSERT_INT_EQ(sh(fam == 4 ?
	    "/usr/sbin/ip -n A addr add 10.1.0.1/32 dev lo &&"
	    "/usr/sbin/ip -n B addr add 10.2.0.1/32 dev lo &&"
	    "/usr/sbin/ip -n A route add 10.2.0.0/24 via 10.0.0.2 src 10.1.0.1 &&"
	    "/usr/sbin/ip -n B route add 10.1.0.0/24 via 10.0.0.1 src 10.2.0.1" :
	    "/usr/sbin/ip -n A addr add fd01::1/128 dev lo &&"
	    "/usr/sbin/ip -n B addr add fd02::1/128 dev lo &&"
	    "/usr/sbin/ip -n A route add fd02::/64 via fd00::2 src fd01::1 &&"
	    "/usr/sbin/ip -n B route add fd01::/64 via fd00::1 src fd02::1"), 0);
	mkaddr(&na, fam == 4 ? "10.1.0.0" : "fd01::");
	mkaddr(&nb, fam == 4 ? "10.2.0.0" : "fd02::");
	mkpol(&ta, &na, &nb);
	ta.pol_src.sel_plen = ta.pol_dst.sel_plen = fam == 4 ? 24 : 64;
	ta.pol_mode = ENCAP_MODE_TUNNEL;
	ta.pol_tun_local = addrA;
	ta.pol_tun_remote = addrB;
	/* Above 0x3fff, as conf's hashed reqids are: PF_KEY needs the
	 * backend's stand-in reqid for policy and SAs alike. */
	ta.pol_reqid = 0x12345678;
	tb = ta;
	tb.pol_src = ta.pol_dst;
	tb.pol_dst = ta.pol_src;
	tb.pol_tun_local = addrB;
	tb.pol_tun_remote = addrA;
	mksa(&ao, &addrA, &addrB, 0x6001, SA_DIR_OUT, 0x81);
	mksa(&ai, &addrB, &addrA, 0x6002, SA_DIR_IN, 0x82);
	ao.sa_mode = ai.sa_mode = ENCAP_MODE_TUNNEL;
	ao.sa_reqid = ai.sa_reqid = 0x12345678;
	bo = ai;
	bi = ao;
	ASSERT_INT_EQ(SYNC(sadb_spd_add(sdA, &ta, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_spd_add(sdB, &tb, done_cb, NULL)), 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm policy"),
	    "dir fwd") != NULL);
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &ao, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdA, &ai, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &bo, 0, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_add(sdB, &bi, 0, done_cb, NULL)), 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm state"),
	    "mode tunnel") != NULL);
	before = esp_packets("A");
	ASSERT_INT_EQ(sh("/usr/sbin/ip netns exec A ping -c 2 -i 0.3 -W 2 "
	    "-I %s %s >/dev/null 2>&1", ha, hb), 0);
	after = esp_packets("A");
	printf("  tunnel esp packets: A %ld->%ld\n", before, after);
	ASSERT_TRUE(after >= before + 4);
	/* Between the outer addresses themselves: no policy, in clear. */
	ASSERT_TRUE(ping_ok());
	ASSERT_INT_EQ(esp_packets("A"), after);
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &ao, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdA, &ai, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdB, &bo, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_del(sdB, &bi, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_spd_del(sdA, &ta, done_cb, NULL)), 0);
	ASSERT_INT_EQ(SYNC(sadb_spd_del(sdB, &tb, done_cb, NULL)), 0);
	ASSERT_TRUE(strstr(capture("/usr/sbin/ip -n A xfrm policy"),
	    "dir") == NULL);
}

TEST(close_both)
{
	sadb_free(sdA);
	sadb_free(sdB);
	sdA = sdB = NULL;
}

/* CAP_NET_ADMIN dropped after the sockets opened: what still works? */
static int
drop_net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) == -1)
		return -1;
	d[CAP_NET_ADMIN / 32].effective &= ~(1U << (CAP_NET_ADMIN % 32));
	d[CAP_NET_ADMIN / 32].permitted &= ~(1U << (CAP_NET_ADMIN % 32));
	return (int)syscall(SYS_capset, &h, d);
}

static struct sadb *capP, *capX;

TEST(caps_open_then_drop)
{
	uint32_t spi;
	int r;

	ASSERT_TRUE(enter_ns("A") == 0);
	capP = sadb_new(base, "pfkey", upcall, &evA);
	capX = sadb_new(base, "xfrm", upcall, &evA);
	ASSERT_TRUE(capP != NULL && capX != NULL);
	ASSERT_INT_EQ(drop_net_admin(), 0);
	/* PF_KEY checks CAP_NET_ADMIN when the socket is created only. */
	ASSERT_INT_EQ(t_getspi(capP, &addrB, &addrA, &spi), 0);
	/* XFRM netlink checks it on every message. */
	r = t_getspi(capX, &addrB, &addrA, &spi);
	printf("  xfrm getspi without CAP_NET_ADMIN: %s\n",
	    r > 0 ? strerror(r) : "ok");
	ASSERT_INT_EQ(r, EPERM);
	/* And neither can be opened any more. */
	ASSERT_TRUE(sadb_new(base, "pfkey", upcall, &evA) == NULL);
	ASSERT_TRUE(sadb_new(base, "xfrm", upcall, &evA) == NULL);
	sadb_free(capP);
	sadb_free(capX);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_sadb pfkey|xfrm 4|6 | caps\n");
		return 2;
	}
	log_init("test_sadb", 1, getenv("SADB_VERBOSE") ? 2 : 0);
	base = event_base_new();
	backend = argv[1];
	fam = argc > 2 ? atoi(argv[2]) : 4;
	strA = fam == 4 ? "10.0.0.1" : "fd00::1";
	strB = fam == 4 ? "10.0.0.2" : "fd00::2";
	mkaddr(&addrA, strA);
	mkaddr(&addrB, strB);
	if (strcmp(backend, "caps") == 0) {
		RUN(caps_open_then_drop);
	} else {
		/* Case names carry backend and family: one line each. */
		RUN(open_both);
		if (sdA != NULL && sdB != NULL) {
			RUN(getspi);
			RUN(add_pair_spd_ping);
			RUN(dump_scoped);
			RUN(replace_keys);
			RUN(aes_gcm);
			RUN(delete_pair);
			RUN(acquire);
			RUN(expire_soft_hard);
			RUN(flush_scoped);
			RUN(spd_del);
			RUN(ipcomp_ping);
			RUN(tunnel_ping);
			RUN(close_both);
		}
	}
	event_base_free(base);
	return test_done();
}
