/*
 * Engine <-> broker codec (privsep), table-driven: a message type is a row
 * naming its fields; each field kind has one writer and one reader that
 * apply the same bounds.  Pure (docs/arch/privsep.md, "Adding an op").
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>

#include "broker_msg.h"

enum bm_field {
	F_END = 0,
	F_SRC,		/* bm_src */
	F_DST,		/* bm_dst */
	F_PROTO,	/* bm_proto */
	F_FLAG,		/* bm_flag */
	F_ERR,		/* bm_err */
	F_SPI,		/* bm_spi */
	F_SA,		/* bm_sa, keys included */
	F_POL,		/* bm_pol */
	F_XF,		/* bm_xf */
	F_EV,		/* bm_ev */
	F_TEXT,		/* bm_text */
	F_CAPS,		/* bm_caps but kc_source */
};

#define BM_FIELDS_MAX	4

static const struct bm_row {
	uint8_t		 type;
	uint8_t		 dir;
	const char	*name;
	uint8_t		 fields[BM_FIELDS_MAX];
} bm_table[] = {
	{ BM_GETSPI,	BM_FROM_ENGINE, "GETSPI", { F_SRC, F_DST, F_PROTO } },
	{ BM_ADD,	BM_FROM_ENGINE, "ADD", { F_SA, F_FLAG } },
	{ BM_DEL,	BM_FROM_ENGINE, "DEL", { F_SA } },
	{ BM_DUMP,	BM_FROM_ENGINE, "DUMP", { F_END } },
	{ BM_SPD_ADD,	BM_FROM_ENGINE, "SPD_ADD", { F_POL } },
	{ BM_SPD_DEL,	BM_FROM_ENGINE, "SPD_DEL", { F_POL } },
	{ BM_GET,	BM_FROM_ENGINE, "GET", { F_SA } },
	{ BM_SUPPORTS,	BM_FROM_ENGINE, "SUPPORTS", { F_PROTO, F_XF } },
	{ BM_DEL_LARVAL, BM_FROM_ENGINE, "DEL_LARVAL", { F_SA } },
	{ BM_SPD_REPAIR, BM_FROM_ENGINE, "SPD_REPAIR", { F_POL } },
	{ BM_SPD_GET,	BM_FROM_ENGINE, "SPD_GET", { F_POL } },
	{ BM_TEST,	BM_FROM_ENGINE, "TEST", { F_FLAG, F_SPI, F_SA } },
	{ BM_TEST_EVENT, BM_FROM_ENGINE, "TEST_EVENT", { F_EV } },
	{ BM_CAPS,	BM_FROM_ENGINE, "CAPS", { F_END } },
	{ BM_R_DONE,	BM_FROM_BROKER, "R_DONE", { F_ERR } },
	{ BM_R_SPI,	BM_FROM_BROKER, "R_SPI", { F_ERR, F_SPI } },
	{ BM_R_SA,	BM_FROM_BROKER, "R_SA", { F_SA } },
	{ BM_R_END,	BM_FROM_BROKER, "R_END", { F_ERR } },
	{ BM_R_SUPPORTS, BM_FROM_BROKER, "R_SUPPORTS", { F_FLAG, F_TEXT } },
	{ BM_R_EVENT,	BM_FROM_BROKER, "R_EVENT", { F_EV } },
	{ BM_R_HELLO,	BM_FROM_BROKER, "R_HELLO", { F_TEXT } },
	{ BM_R_SIGNAL,	BM_FROM_BROKER, "R_SIGNAL", { F_FLAG } },
	{ BM_R_COUNT,	BM_FROM_BROKER, "R_COUNT", { F_ERR, F_FLAG } },
	{ BM_R_SPD,	BM_FROM_BROKER, "R_SPD", { F_ERR, F_FLAG } },
	{ BM_R_CAPS,	BM_FROM_BROKER, "R_CAPS", { F_ERR, F_CAPS, F_TEXT } },
};

static const struct bm_row *
bm_row(uint8_t type)
{
	size_t i;

	for (i = 0; i < sizeof(bm_table) / sizeof(bm_table[0]); i++)
		if (bm_table[i].type == type)
			return &bm_table[i];
	return NULL;
}

const char *
bm_type_name(uint8_t type)
{
	const struct bm_row *r = bm_row(type);

	return r != NULL ? r->name : NULL;
}

int
bm_type_dir(uint8_t type)
{
	const struct bm_row *r = bm_row(type);

	return r != NULL ? r->dir : 0;
}

const char *
bm_strerror(int err)
{
	switch (err) {
	case BM_OK:
		return "ok";
	case BM_E_SHORT:
		return "truncated";
	case BM_E_LONG:
		return "too long";
	case BM_E_VERSION:
		return "unknown version";
	case BM_E_TYPE:
		return "unknown or misdirected type";
	case BM_E_TRAILING:
		return "trailing octets";
	case BM_E_FAMILY:
		return "bad address family";
	case BM_E_RANGE:
		return "field out of range";
	case BM_E_TEXT:
		return "bad text";
	default:
		return "unknown error";
	}
}

/* ---- writer: a cursor that fails once and stays failed ------------------ */

struct wr {
	uint8_t	*p;
	size_t	 len, cap;
	int	 bad;
};

static void
w_bytes(struct wr *w, const void *p, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void
w_u8(struct wr *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void
w_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	w_bytes(w, b, 2);
}

static void
w_u32(struct wr *w, uint32_t v)
{
	w_u16(w, v >> 16);
	w_u16(w, v & 0xffff);
}

static void
w_u64(struct wr *w, uint64_t v)
{
	w_u32(w, (uint32_t)(v >> 32));
	w_u32(w, (uint32_t)v);
}

/* u8 family (0, 4, 6), u16 port, then 0, 4 or 16 octets. */
static void
w_addr(struct wr *w, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	switch (ss->ss_family) {
	case AF_UNSPEC:
		w_u8(w, 0);
		w_u16(w, 0);
		break;
	case AF_INET:
		w_u8(w, 4);
		w_u16(w, ntohs(s4->sin_port));
		w_bytes(w, &s4->sin_addr, 4);
		break;
	case AF_INET6:
		w_u8(w, 6);
		w_u16(w, ntohs(s6->sin6_port));
		w_bytes(w, &s6->sin6_addr, 16);
		break;
	default:
		w->bad = 1;
	}
}

static void
w_sel(struct wr *w, const struct kink_selector *s)
{
	if (s->sel_plen > (s->sel_addr.ss_family == AF_INET6 ? 128 :
	    s->sel_addr.ss_family == AF_INET ? 32 : 0))
		w->bad = 1;
	w_addr(w, &s->sel_addr);
	w_u8(w, s->sel_plen);
	w_u16(w, s->sel_port);
}

static void
w_key(struct wr *w, const uint8_t *k, uint8_t len)
{
	if (len > SA_KEY_MAX) {
		w->bad = 1;
		return;
	}
	w_u8(w, len);
	w_bytes(w, k, len);
}

static void
w_sa(struct wr *w, const struct kink_sa *sa)
{
	if (sa->sa_dir > SA_DIR_OUT)
		w->bad = 1;
	w_addr(w, &sa->sa_src);
	w_addr(w, &sa->sa_dst);
	w_u8(w, sa->sa_proto);
	w_u8(w, sa->sa_dir);
	w_u8(w, sa->sa_mode);
	w_u32(w, sa->sa_spi);
	w_u32(w, sa->sa_reqid);
	w_u8(w, sa->sa_enc);
	w_u16(w, sa->sa_enc_keylen);
	w_u16(w, sa->sa_auth);
	w_key(w, sa->sa_enckey, sa->sa_enckey_len);
	w_key(w, sa->sa_authkey, sa->sa_authkey_len);
	w_u32(w, sa->sa_life_soft_secs);
	w_u32(w, sa->sa_life_hard_secs);
	w_u64(w, sa->sa_life_soft_bytes);
	w_u64(w, sa->sa_life_hard_bytes);
	w_sel(w, &sa->sa_sel_src);
	w_sel(w, &sa->sa_sel_dst);
	w_u8(w, sa->sa_sel_ulproto);
	w_u64(w, sa->sa_cur_bytes);
	w_u64(w, sa->sa_cur_packets);
}

static void
w_xf(struct wr *w, const struct kink_xform *x)
{
	if (x->x_present > 1)
		w->bad = 1;
	w_u8(w, x->x_present);
	w_u8(w, x->x_id);
	w_u16(w, x->x_keylen);
	w_u16(w, x->x_auth);
}

static int
text_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* u8 length, then that many printable octets (no NUL). */
static void
w_text(struct wr *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max || !text_ok(s, n)) {
		w->bad = 1;
		return;
	}
	w_u8(w, (uint8_t)n);
	w_bytes(w, s, n);
}

static void
w_pol(struct wr *w, const struct kink_policy *p)
{
	int i;

	if (p->pol_nsuites < 0 || p->pol_nsuites > POL_MAX_SUITES) {
		w->bad = 1;
		return;
	}
	w_text(w, p->pol_name, POL_NAME_MAX - 1);
	w_u8(w, p->pol_mode);
	w_sel(w, &p->pol_src);
	w_sel(w, &p->pol_dst);
	w_u8(w, p->pol_ulproto);
	w_u8(w, (uint8_t)p->pol_nsuites);
	for (i = 0; i < p->pol_nsuites; i++) {
		w_xf(w, &p->pol_suites[i].s_esp);
		w_xf(w, &p->pol_suites[i].s_ah);
		w_xf(w, &p->pol_suites[i].s_ipcomp);
	}
	w_u32(w, p->pol_life_secs);
	w_u32(w, p->pol_life_kbytes);
	w_u16(w, p->pol_pfs_group);
	w_addr(w, &p->pol_tun_local);
	w_addr(w, &p->pol_tun_remote);
	w_u32(w, p->pol_reqid);
}

/* How many entries of a flag list count: up to the last one set. */
static uint8_t
caps_count(const uint8_t *have)
{
	uint8_t n = SADB_CAPS_MAX;

	while (n > 0 && !have[n - 1])
		n--;
	return n;
}

/*
 * u8 known (0, 1); u8 n (<= SADB_CAPS_MAX), n x (u8 have (0, 1),
 * u16 min bits, u16 max bits) for encryption; u8 n, n x u8 have for
 * integrity; u8 compression known (0, 1), u8 n, n x u8 have for IPComp.
 * Entries past n are not set (their key bounds, meaningless then, are
 * not sent).
 */
static void
w_caps(struct wr *w, const struct sadb_caps *c)
{
	uint8_t i, n;

	if (c->kc_known > 1 || c->kc_known < 0)
		w->bad = 1;
	w_u8(w, (uint8_t)c->kc_known);
	n = caps_count(c->kc_enc);
	w_u8(w, n);
	for (i = 0; i < n; i++) {
		if (c->kc_enc[i] > 1)
			w->bad = 1;
		w_u8(w, c->kc_enc[i]);
		w_u16(w, c->kc_enc_min[i]);
		w_u16(w, c->kc_enc_max[i]);
	}
	n = caps_count(c->kc_auth);
	w_u8(w, n);
	for (i = 0; i < n; i++) {
		if (c->kc_auth[i] > 1)
			w->bad = 1;
		w_u8(w, c->kc_auth[i]);
	}
	if (c->kc_comp_known > 1 || c->kc_comp_known < 0)
		w->bad = 1;
	w_u8(w, (uint8_t)c->kc_comp_known);
	n = caps_count(c->kc_comp);
	w_u8(w, n);
	for (i = 0; i < n; i++) {
		if (c->kc_comp[i] > 1)
			w->bad = 1;
		w_u8(w, c->kc_comp[i]);
	}
}

static void
w_field(struct wr *w, uint8_t f, const struct bmsg *m)
{
	switch (f) {
	case F_SRC:
		w_addr(w, &m->bm_src);
		break;
	case F_DST:
		w_addr(w, &m->bm_dst);
		break;
	case F_PROTO:
		w_u8(w, m->bm_proto);
		break;
	case F_FLAG:
		w_u32(w, m->bm_flag);
		break;
	case F_ERR:
		if (m->bm_err < 0)
			w->bad = 1;
		w_u32(w, (uint32_t)m->bm_err);
		break;
	case F_SPI:
		w_u32(w, m->bm_spi);
		break;
	case F_SA:
		w_sa(w, &m->bm_sa);
		break;
	case F_POL:
		w_pol(w, &m->bm_pol);
		break;
	case F_XF:
		w_xf(w, &m->bm_xf);
		break;
	case F_EV:
		if (m->bm_ev.ev_type < SADB_EV_ACQUIRE ||
		    m->bm_ev.ev_type > SADB_EV_EXPIRE_HARD)
			w->bad = 1;
		w_u8(w, (uint8_t)m->bm_ev.ev_type);
		w_u32(w, m->bm_ev.ev_reqid);
		w_u8(w, m->bm_ev.ev_proto);
		w_addr(w, &m->bm_ev.ev_src);
		w_addr(w, &m->bm_ev.ev_dst);
		w_sa(w, &m->bm_ev.ev_sa);
		break;
	case F_TEXT:
		w_text(w, m->bm_text, BM_TEXT_MAX);
		break;
	case F_CAPS:
		w_caps(w, &m->bm_caps);
		break;
	default:
		w->bad = 1;
	}
}

int
bm_encode(const struct bmsg *m, uint8_t *out, size_t cap)
{
	const struct bm_row *r = bm_row(m->bm_type);
	struct wr w = { out, 0, cap > BM_MAX ? BM_MAX : cap, 0 };
	size_t i;

	if (r == NULL) {
		errno = EINVAL;
		return -1;
	}
	w_u8(&w, BM_VERSION);
	w_u8(&w, m->bm_type);
	w_u16(&w, 0);
	w_u32(&w, m->bm_seq);
	for (i = 0; i < BM_FIELDS_MAX && r->fields[i] != F_END; i++)
		w_field(&w, r->fields[i], m);
	if (w.bad) {
		errno = EMSGSIZE;
		return -1;
	}
	return (int)w.len;
}

/* ---- reader: the first error sticks ------------------------------------ */

struct rd {
	const uint8_t	*p;
	size_t		 len;
	int		 err;
};

static void
r_bytes(struct rd *r, void *out, size_t n)
{
	if (r->err != BM_OK)
		return;
	if (n > r->len) {
		r->err = BM_E_SHORT;
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
	r->len -= n;
}

static uint8_t
r_u8(struct rd *r)
{
	uint8_t v = 0;

	r_bytes(r, &v, 1);
	return v;
}

static uint16_t
r_u16(struct rd *r)
{
	uint8_t b[2] = { 0, 0 };

	r_bytes(r, b, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
r_u32(struct rd *r)
{
	uint32_t hi = r_u16(r);

	return hi << 16 | r_u16(r);
}

static uint64_t
r_u64(struct rd *r)
{
	uint64_t hi = r_u32(r);

	return hi << 32 | r_u32(r);
}

static void
r_fail(struct rd *r, int err)
{
	if (r->err == BM_OK)
		r->err = err;
}

static void
r_addr(struct rd *r, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	uint8_t fam = r_u8(r);
	uint16_t port = r_u16(r);

	memset(ss, 0, sizeof(*ss));
	switch (fam) {
	case 0:
		if (port != 0)
			r_fail(r, BM_E_RANGE);
		break;
	case 4:
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		r_bytes(r, &s4->sin_addr, 4);
		break;
	case 6:
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		r_bytes(r, &s6->sin6_addr, 16);
		break;
	default:
		r_fail(r, BM_E_FAMILY);
	}
}

static void
r_sel(struct rd *r, struct kink_selector *s)
{
	r_addr(r, &s->sel_addr);
	s->sel_plen = r_u8(r);
	s->sel_port = r_u16(r);
	if (s->sel_plen > (s->sel_addr.ss_family == AF_INET6 ? 128 :
	    s->sel_addr.ss_family == AF_INET ? 32 : 0))
		r_fail(r, BM_E_RANGE);
}

static uint8_t
r_key(struct rd *r, uint8_t *k)
{
	uint8_t len = r_u8(r);

	if (len > SA_KEY_MAX) {
		r_fail(r, BM_E_RANGE);
		return 0;
	}
	r_bytes(r, k, len);
	return len;
}

static void
r_sa(struct rd *r, struct kink_sa *sa)
{
	r_addr(r, &sa->sa_src);
	r_addr(r, &sa->sa_dst);
	sa->sa_proto = r_u8(r);
	sa->sa_dir = r_u8(r);
	sa->sa_mode = r_u8(r);
	sa->sa_spi = r_u32(r);
	sa->sa_reqid = r_u32(r);
	sa->sa_enc = r_u8(r);
	sa->sa_enc_keylen = r_u16(r);
	sa->sa_auth = r_u16(r);
	sa->sa_enckey_len = r_key(r, sa->sa_enckey);
	sa->sa_authkey_len = r_key(r, sa->sa_authkey);
	sa->sa_life_soft_secs = r_u32(r);
	sa->sa_life_hard_secs = r_u32(r);
	sa->sa_life_soft_bytes = r_u64(r);
	sa->sa_life_hard_bytes = r_u64(r);
	r_sel(r, &sa->sa_sel_src);
	r_sel(r, &sa->sa_sel_dst);
	sa->sa_sel_ulproto = r_u8(r);
	sa->sa_cur_bytes = r_u64(r);
	sa->sa_cur_packets = r_u64(r);
	if (sa->sa_dir > SA_DIR_OUT)
		r_fail(r, BM_E_RANGE);
}

static void
r_xf(struct rd *r, struct kink_xform *x)
{
	x->x_present = r_u8(r);
	x->x_id = r_u8(r);
	x->x_keylen = r_u16(r);
	x->x_auth = r_u16(r);
	if (x->x_present > 1)
		r_fail(r, BM_E_RANGE);
}

static void
r_text(struct rd *r, char *out, size_t max)
{
	uint8_t n = r_u8(r);

	if (n > max) {
		r_fail(r, BM_E_RANGE);
		return;
	}
	r_bytes(r, out, n);
	if (r->err == BM_OK && !text_ok(out, n))
		r_fail(r, BM_E_TEXT);
	out[n] = '\0';
}

static void
r_pol(struct rd *r, struct kink_policy *p)
{
	int i;

	r_text(r, p->pol_name, POL_NAME_MAX - 1);
	p->pol_mode = r_u8(r);
	r_sel(r, &p->pol_src);
	r_sel(r, &p->pol_dst);
	p->pol_ulproto = r_u8(r);
	p->pol_nsuites = r_u8(r);
	if (p->pol_nsuites > POL_MAX_SUITES) {
		r_fail(r, BM_E_RANGE);
		return;
	}
	for (i = 0; i < p->pol_nsuites; i++) {
		r_xf(r, &p->pol_suites[i].s_esp);
		r_xf(r, &p->pol_suites[i].s_ah);
		r_xf(r, &p->pol_suites[i].s_ipcomp);
	}
	p->pol_life_secs = r_u32(r);
	p->pol_life_kbytes = r_u32(r);
	p->pol_pfs_group = r_u16(r);
	r_addr(r, &p->pol_tun_local);
	r_addr(r, &p->pol_tun_remote);
	p->pol_reqid = r_u32(r);
}

/*
 * The writer's layout and bounds; a last entry not set is refused too,
 * as the writer never sends one, so what decodes encodes the same.
 */
static void
r_caps(struct rd *r, struct sadb_caps *c)
{
	uint8_t i, n;

	c->kc_known = r_u8(r);
	if (c->kc_known > 1)
		r_fail(r, BM_E_RANGE);
	if ((n = r_u8(r)) > SADB_CAPS_MAX) {
		r_fail(r, BM_E_RANGE);
		return;
	}
	for (i = 0; i < n; i++) {
		c->kc_enc[i] = r_u8(r);
		c->kc_enc_min[i] = r_u16(r);
		c->kc_enc_max[i] = r_u16(r);
		if (c->kc_enc[i] > 1 || (i == n - 1 && !c->kc_enc[i]))
			r_fail(r, BM_E_RANGE);
	}
	if ((n = r_u8(r)) > SADB_CAPS_MAX) {
		r_fail(r, BM_E_RANGE);
		return;
	}
	for (i = 0; i < n; i++) {
		c->kc_auth[i] = r_u8(r);
		if (c->kc_auth[i] > 1 || (i == n - 1 && !c->kc_auth[i]))
			r_fail(r, BM_E_RANGE);
	}
	c->kc_comp_known = r_u8(r);
	if (c->kc_comp_known > 1)
		r_fail(r, BM_E_RANGE);
	if ((n = r_u8(r)) > SADB_CAPS_MAX) {
		r_fail(r, BM_E_RANGE);
		return;
	}
	for (i = 0; i < n; i++) {
		c->kc_comp[i] = r_u8(r);
		if (c->kc_comp[i] > 1 || (i == n - 1 && !c->kc_comp[i]))
			r_fail(r, BM_E_RANGE);
	}
}

static void
r_field(struct rd *r, uint8_t f, struct bmsg *m)
{
	uint8_t t;

	switch (f) {
	case F_SRC:
		r_addr(r, &m->bm_src);
		break;
	case F_DST:
		r_addr(r, &m->bm_dst);
		break;
	case F_PROTO:
		m->bm_proto = r_u8(r);
		break;
	case F_FLAG:
		m->bm_flag = r_u32(r);
		break;
	case F_ERR:
		m->bm_err = (int32_t)r_u32(r);
		if (m->bm_err < 0)
			r_fail(r, BM_E_RANGE);
		break;
	case F_SPI:
		m->bm_spi = r_u32(r);
		break;
	case F_SA:
		r_sa(r, &m->bm_sa);
		break;
	case F_POL:
		r_pol(r, &m->bm_pol);
		break;
	case F_XF:
		r_xf(r, &m->bm_xf);
		break;
	case F_EV:
		t = r_u8(r);
		if (t < SADB_EV_ACQUIRE || t > SADB_EV_EXPIRE_HARD)
			r_fail(r, BM_E_RANGE);
		m->bm_ev.ev_type = (enum sadb_event_type)t;
		m->bm_ev.ev_reqid = r_u32(r);
		m->bm_ev.ev_proto = r_u8(r);
		r_addr(r, &m->bm_ev.ev_src);
		r_addr(r, &m->bm_ev.ev_dst);
		r_sa(r, &m->bm_ev.ev_sa);
		break;
	case F_TEXT:
		r_text(r, m->bm_text, BM_TEXT_MAX);
		break;
	case F_CAPS:
		r_caps(r, &m->bm_caps);
		break;
	}
}

int
bm_decode(const uint8_t *p, size_t len, int from, struct bmsg *m)
{
	const struct bm_row *row;
	struct rd r = { p, len, BM_OK };
	size_t i;

	memset(m, 0, sizeof(*m));
	if (len > BM_MAX)
		return BM_E_LONG;
	if (r_u8(&r) != BM_VERSION)
		return r.err != BM_OK ? r.err : BM_E_VERSION;
	m->bm_type = r_u8(&r);
	if (r_u16(&r) != 0 && r.err == BM_OK)
		return BM_E_RANGE;
	m->bm_seq = r_u32(&r);
	if (r.err != BM_OK)
		return r.err;
	if ((row = bm_row(m->bm_type)) == NULL || row->dir != from)
		return BM_E_TYPE;
	for (i = 0; i < BM_FIELDS_MAX && row->fields[i] != F_END; i++)
		r_field(&r, row->fields[i], m);
	if (r.err != BM_OK)
		return r.err;
	return r.len != 0 ? BM_E_TRAILING : BM_OK;
}
