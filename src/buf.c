/* Bounds-checked views and owned, capped, wipe-on-free buffers. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* libbsd's overlay gives <string.h> explicit_bzero and <stdlib.h> freezero. */

int
rbuf_get_u8(struct rbuf *r, uint8_t *v)
{
	if (r->rb_len < 1)
		return -1;
	*v = r->rb_p[0];
	r->rb_p++;
	r->rb_len--;
	return 0;
}

int
rbuf_get_u16(struct rbuf *r, uint16_t *v)
{
	if (r->rb_len < 2)
		return -1;
	*v = get_be16(r->rb_p);
	r->rb_p += 2;
	r->rb_len -= 2;
	return 0;
}

int
rbuf_get_u32(struct rbuf *r, uint32_t *v)
{
	if (r->rb_len < 4)
		return -1;
	*v = get_be32(r->rb_p);
	r->rb_p += 4;
	r->rb_len -= 4;
	return 0;
}

int
rbuf_get_bytes(struct rbuf *r, void *dst, size_t len)
{
	if (r->rb_len < len)
		return -1;
	if (len > 0)
		memcpy(dst, r->rb_p, len);
	r->rb_p += len;
	r->rb_len -= len;
	return 0;
}

int
rbuf_skip(struct rbuf *r, size_t len)
{
	if (r->rb_len < len)
		return -1;
	r->rb_p += len;
	r->rb_len -= len;
	return 0;
}

int
rbuf_sub(struct rbuf *r, size_t len, struct rbuf *sub)
{
	if (r->rb_len < len)
		return -1;
	sub->rb_p = r->rb_p;
	sub->rb_len = len;
	r->rb_p += len;
	r->rb_len -= len;
	return 0;
}

int
rbuf_eq(const struct rbuf *r, const void *p, size_t len)
{
	return r->rb_len == len && (len == 0 || memcmp(r->rb_p, p, len) == 0);
}

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->b_max = max;
}

void
buf_free(struct buf *b)
{
	size_t max = b->b_max;

	if (b->b_data != NULL)
		freezero(b->b_data, b->b_cap);
	memset(b, 0, sizeof(*b));
	b->b_max = max;
}

void
buf_reset(struct buf *b)
{
	if (b->b_data != NULL)
		explicit_bzero(b->b_data, b->b_cap);
	b->b_len = 0;
}

int
buf_reserve(struct buf *b, size_t need)
{
	size_t max = b->b_max ? b->b_max : BUF_MAX, ncap;
	uint8_t *n;

	if (need > max || b->b_len > max - need)
		return -1;
	if (b->b_len + need <= b->b_cap)
		return 0;
	ncap = b->b_cap ? b->b_cap : 256;
	while (ncap < b->b_len + need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	/* Not realloc: the old block may hold key material and must be wiped. */
	if ((n = malloc(ncap)) == NULL)
		return -1;
	if (b->b_data != NULL) {
		memcpy(n, b->b_data, b->b_len);
		freezero(b->b_data, b->b_cap);
	}
	b->b_data = n;
	b->b_cap = ncap;
	return 0;
}

int
buf_put(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->b_data + b->b_len, p, len);
	b->b_len += len;
	return 0;
}

int
buf_put_zero(struct buf *b, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	if (len > 0)
		memset(b->b_data + b->b_len, 0, len);
	b->b_len += len;
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t t[2];

	put_be16(t, v);
	return buf_put(b, t, 2);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t t[4];

	put_be32(t, v);
	return buf_put(b, t, 4);
}

int
buf_align(struct buf *b, size_t align)
{
	size_t rem = b->b_len % align;

	return rem == 0 ? 0 : buf_put_zero(b, align - rem);
}

int
buf_set_u8(struct buf *b, size_t off, uint8_t v)
{
	if (off >= b->b_len)
		return -1;
	b->b_data[off] = v;
	return 0;
}

int
buf_set_u16(struct buf *b, size_t off, uint16_t v)
{
	if (off > b->b_len || b->b_len - off < 2)
		return -1;
	put_be16(b->b_data + off, v);
	return 0;
}

int
buf_set_u32(struct buf *b, size_t off, uint32_t v)
{
	if (off > b->b_len || b->b_len - off < 4)
		return -1;
	put_be32(b->b_data + off, v);
	return 0;
}

int
buf_copy(struct buf *dst, const void *p, size_t len)
{
	buf_reset(dst);
	return buf_put(dst, p, len);
}
