/*
 * The SAs and policies behind the golden kernel messages in
 * tests/unit/data/kern/ (<format><4|6>-<kind>.hex), shared by the codec
 * unit tests and the fuzzers' seed checks.  Hosts A (10.0.0.1, fd00::1)
 * and B (10.0.0.2, fd00::2); every golden message has seq 0x01020304 and
 * (PF_KEY) pid 4242.
 */
#ifndef KINK_KERN_CASES_H
#define KINK_KERN_CASES_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include "isakmp_num.h"
#include "kern_msg.h"

#define KC_SEQ		0x01020304U
#define KC_PID		4242U
#define KC_LARVAL	0xc0000001U	/* the first getspi's reqid */
#define KC_STANDIN	0x2000U		/* PF_KEY's first stand-in reqid */

struct kc {
	int			 fam;
	struct sockaddr_storage	 a, b;
	struct kink_sa		 update;	/* inbound B->A, ESP AES-CBC+SHA1 */
	struct kink_sa		 add;		/* outbound A->B, same suite */
	struct kink_sa		 ah_tunnel;	/* AH SHA-256 tunnel, selectors */
	struct kink_sa		 gcm;		/* ESP AES-GCM-16, no source... */
	struct kink_sa		 gcm_nosrc;	/* ...for get without source */
	struct kink_policy	 transport;	/* ESP, ICMP, A<->B */
	struct kink_policy	 tunnel;	/* ESP+AH bundle, subnets */
};

static inline void
kc_addr(struct sockaddr_storage *ss, int fam, const char *s)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)fam;
	if (fam == AF_INET)
		inet_pton(fam, s, &((struct sockaddr_in *)ss)->sin_addr);
	else
		inet_pton(fam, s, &((struct sockaddr_in6 *)ss)->sin6_addr);
}

static inline void
kc_init(struct kc *c, int fam)
{
	struct kink_sa *sa;
	int v4 = fam == AF_INET, i;

	memset(c, 0, sizeof(*c));
	c->fam = fam;
	kc_addr(&c->a, fam, v4 ? "10.0.0.1" : "fd00::1");
	kc_addr(&c->b, fam, v4 ? "10.0.0.2" : "fd00::2");

	sa = &c->update;
	sa->sa_src = c->b;
	sa->sa_dst = c->a;
	sa->sa_proto = PROTO_IPSEC_ESP;
	sa->sa_mode = ENCAP_MODE_TRANSPORT;
	sa->sa_spi = 0x1000abcd;
	sa->sa_reqid = 0x1234;
	sa->sa_enc = ESP_AES_CBC;
	sa->sa_auth = AUTH_ALG_HMAC_SHA;
	for (i = 0; i < 16; i++)
		sa->sa_enckey[i] = (uint8_t)(0xa0 + i);
	sa->sa_enckey_len = 16;
	for (i = 0; i < 20; i++)
		sa->sa_authkey[i] = (uint8_t)(0x50 + i);
	sa->sa_authkey_len = 20;
	sa->sa_life_soft_secs = 100;
	sa->sa_life_hard_secs = 120;
	sa->sa_life_soft_bytes = 1000000;
	sa->sa_life_hard_bytes = 2000000;

	c->add = c->update;
	c->add.sa_src = c->a;
	c->add.sa_dst = c->b;
	c->add.sa_spi = 0x2000beef;

	sa = &c->ah_tunnel;
	*sa = c->add;
	sa->sa_proto = PROTO_IPSEC_AH;
	sa->sa_enc = 0;
	sa->sa_enckey_len = 0;
	sa->sa_auth = AUTH_ALG_HMAC_SHA2_256;
	sa->sa_authkey_len = 32;
	sa->sa_mode = ENCAP_MODE_TUNNEL;
	sa->sa_reqid = 0x12345678;
	sa->sa_life_soft_secs = sa->sa_life_hard_secs = 0;
	sa->sa_life_soft_bytes = sa->sa_life_hard_bytes = 0;
	kc_addr(&sa->sa_sel_src.sel_addr, fam, v4 ? "192.168.1.0" : "fd01::");
	sa->sa_sel_src.sel_plen = 24;
	kc_addr(&sa->sa_sel_dst.sel_addr, fam, v4 ? "192.168.2.0" : "fd02::");
	sa->sa_sel_dst.sel_plen = 24;
	sa->sa_sel_dst.sel_port = 443;
	sa->sa_sel_ulproto = 6;

	sa = &c->gcm;
	*sa = c->ah_tunnel;
	memset(&sa->sa_sel_src, 0, sizeof(sa->sa_sel_src));
	memset(&sa->sa_sel_dst, 0, sizeof(sa->sa_sel_dst));
	sa->sa_sel_ulproto = 0;
	sa->sa_proto = PROTO_IPSEC_ESP;
	sa->sa_enc = ESP_AES_GCM_16;
	sa->sa_auth = 0;
	sa->sa_authkey_len = 0;
	sa->sa_enckey_len = 20;
	sa->sa_mode = ENCAP_MODE_TRANSPORT;
	sa->sa_reqid = 7;
	c->gcm_nosrc = c->gcm;
	memset(&c->gcm_nosrc.sa_src, 0, sizeof(c->gcm_nosrc.sa_src));

	c->transport.pol_mode = ENCAP_MODE_TRANSPORT;
	c->transport.pol_src.sel_addr = c->a;
	c->transport.pol_src.sel_plen = v4 ? 32 : 128;
	c->transport.pol_dst.sel_addr = c->b;
	c->transport.pol_dst.sel_plen = v4 ? 32 : 128;
	c->transport.pol_ulproto = 1;
	c->transport.pol_nsuites = 1;
	c->transport.pol_suites[0].s_esp.x_present = 1;
	c->transport.pol_reqid = 0x1234;

	c->tunnel = c->transport;
	c->tunnel.pol_mode = ENCAP_MODE_TUNNEL;
	c->tunnel.pol_ulproto = 0;
	kc_addr(&c->tunnel.pol_src.sel_addr, fam, v4 ? "192.168.1.0" :
	    "fd01::");
	c->tunnel.pol_src.sel_plen = 24;
	c->tunnel.pol_src.sel_port = 80;
	kc_addr(&c->tunnel.pol_dst.sel_addr, fam, v4 ? "192.168.2.0" :
	    "fd02::");
	c->tunnel.pol_dst.sel_plen = 24;
	c->tunnel.pol_suites[0].s_ah.x_present = 1;
	c->tunnel.pol_tun_local = c->a;
	c->tunnel.pol_tun_remote = c->b;
	c->tunnel.pol_reqid = 0x12345678;
}

/* One golden message: its file's kind and the request that builds it. */
struct kc_case {
	const char	*name;
	struct kreq	 rq;
};

/*
 * Every request kind for one family; reqids are the kernel's (PF_KEY's
 * stand-in for 0x12345678 where pfkey is set).  Returns the count.
 */
static inline int
kc_cases(const struct kc *c, int pfkey, struct kc_case *out, int dirs_out,
    int dirs_in, int dirs_fwd)
{
	uint32_t big = pfkey ? KC_STANDIN : 0x12345678;
	int n = 0;

#define KC(nm, ...) do {						\
	struct kreq _r = { .kr_seq = KC_SEQ, __VA_ARGS__ };		\
	out[n].name = (nm);						\
	out[n++].rq = _r;						\
} while (0)
	KC("getspi", .kr_op = KREQ_GETSPI, .kr_src = &c->b, .kr_dst = &c->a,
	    .kr_proto = PROTO_IPSEC_ESP, .kr_reqid = KC_LARVAL);
	KC("update", .kr_op = KREQ_UPDATE, .kr_sa = &c->update,
	    .kr_reqid = 0x1234);
	KC("update-fallback", .kr_op = KREQ_ADD, .kr_sa = &c->update,
	    .kr_reqid = 0x1234);
	KC("add", .kr_op = KREQ_ADD, .kr_sa = &c->add, .kr_reqid = 0x1234);
	KC("replace-delete", .kr_op = KREQ_DELETE, .kr_sa = &c->add);
	KC("replace-add", .kr_op = KREQ_ADD, .kr_sa = &c->add,
	    .kr_reqid = 0x1234);
	KC("add-ah-tunnel", .kr_op = KREQ_ADD, .kr_sa = &c->ah_tunnel,
	    .kr_reqid = big);
	KC("add-gcm", .kr_op = KREQ_ADD, .kr_sa = &c->gcm, .kr_reqid = 7);
	KC("del", .kr_op = KREQ_DELETE, .kr_sa = &c->gcm);
	KC("get", .kr_op = KREQ_GET, .kr_sa = &c->gcm);
	KC("get-nosrc", .kr_op = KREQ_GET, .kr_sa = &c->gcm_nosrc);
	KC("dump", .kr_op = KREQ_DUMP);
	KC("spdadd-transport-out", .kr_op = KREQ_SPD_ADD,
	    .kr_pol = &c->transport, .kr_dir = (uint8_t)dirs_out,
	    .kr_reqid = 0x1234);
	KC("spdadd-transport-in", .kr_op = KREQ_SPD_ADD,
	    .kr_pol = &c->transport, .kr_dir = (uint8_t)dirs_in,
	    .kr_reqid = 0x1234);
	KC("spddel-transport-out", .kr_op = KREQ_SPD_DEL,
	    .kr_pol = &c->transport, .kr_dir = (uint8_t)dirs_out);
	KC("spddel-transport-in", .kr_op = KREQ_SPD_DEL,
	    .kr_pol = &c->transport, .kr_dir = (uint8_t)dirs_in);
	KC("spdadd-tunnel-out", .kr_op = KREQ_SPD_ADD, .kr_pol = &c->tunnel,
	    .kr_dir = (uint8_t)dirs_out, .kr_reqid = big);
	KC("spdadd-tunnel-in", .kr_op = KREQ_SPD_ADD, .kr_pol = &c->tunnel,
	    .kr_dir = (uint8_t)dirs_in, .kr_reqid = big);
	KC("spdadd-tunnel-fwd", .kr_op = KREQ_SPD_ADD, .kr_pol = &c->tunnel,
	    .kr_dir = (uint8_t)dirs_fwd, .kr_reqid = big);
	KC("spddel-tunnel-out", .kr_op = KREQ_SPD_DEL, .kr_pol = &c->tunnel,
	    .kr_dir = (uint8_t)dirs_out);
	KC("spddel-tunnel-in", .kr_op = KREQ_SPD_DEL, .kr_pol = &c->tunnel,
	    .kr_dir = (uint8_t)dirs_in);
	KC("spddel-tunnel-fwd", .kr_op = KREQ_SPD_DEL, .kr_pol = &c->tunnel,
	    .kr_dir = (uint8_t)dirs_fwd);
	if (pfkey) {
		KC("register-esp", .kr_op = KREQ_REGISTER,
		    .kr_proto = PROTO_IPSEC_ESP);
		KC("register-ah", .kr_op = KREQ_REGISTER,
		    .kr_proto = PROTO_IPSEC_AH);
		KC("spddump", .kr_op = KREQ_SPD_DUMP);
	}
#undef KC
	return n;
}

#define KC_MAXCASES	32

#endif
