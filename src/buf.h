/*
 * Byte buffers.  Two kinds, kept apart on purpose:
 *
 *  struct rbuf  a read-only view (pointer + length) into memory somebody
 *               else owns.  Parsers take and return views; nothing is
 *               copied.  Every getter checks the remaining length first and
 *               fails without moving the cursor.
 *  struct buf   an owned, growable byte array with a hard size cap.  Freed
 *               with buf_free(), which wipes the contents first (key
 *               material lives in these).
 *
 * Conventions: getters/putters return 0 on success, -1 on failure.
 */
#ifndef KINK_BUF_H
#define KINK_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Nothing kinkd builds or keeps in one buffer is larger than this. */
#define BUF_MAX		(1024 * 1024)

struct rbuf {
	const uint8_t	*rb_p;		/* next unread octet */
	size_t		 rb_len;	/* octets remaining */
};

struct buf {
	uint8_t		*b_data;
	size_t		 b_len;		/* octets in use */
	size_t		 b_cap;		/* octets allocated */
	size_t		 b_max;		/* growth limit; 0 = BUF_MAX */
};

/* Views. */
static inline struct rbuf
rbuf_make(const void *p, size_t len)
{
	struct rbuf r = { (const uint8_t *)p, len };
	return r;
}
int	rbuf_get_u8(struct rbuf *, uint8_t *);
int	rbuf_get_u16(struct rbuf *, uint16_t *);	/* network order */
int	rbuf_get_u32(struct rbuf *, uint32_t *);	/* network order */
int	rbuf_get_bytes(struct rbuf *, void *, size_t);
int	rbuf_skip(struct rbuf *, size_t);
/* Split off the next `len` octets as a view of their own. */
int	rbuf_sub(struct rbuf *, size_t, struct rbuf *);
int	rbuf_eq(const struct rbuf *, const void *, size_t);

/* Owned buffers.  A zeroed struct buf is a valid empty buffer. */
void	buf_init(struct buf *, size_t max);
void	buf_free(struct buf *);		/* wipes, frees, leaves an empty buf */
void	buf_reset(struct buf *);	/* wipes contents, keeps memory */
int	buf_reserve(struct buf *, size_t);
int	buf_put_u8(struct buf *, uint8_t);
int	buf_put_u16(struct buf *, uint16_t);
int	buf_put_u32(struct buf *, uint32_t);
int	buf_put(struct buf *, const void *, size_t);
int	buf_put_zero(struct buf *, size_t);
/* Pad with zero octets until b_len is a multiple of `align`. */
int	buf_align(struct buf *, size_t align);
/* Overwrite in place; the range must already be in use. */
int	buf_set_u8(struct buf *, size_t off, uint8_t);
int	buf_set_u16(struct buf *, size_t off, uint16_t);
int	buf_set_u32(struct buf *, size_t off, uint32_t);
int	buf_copy(struct buf *dst, const void *, size_t);	/* replace contents */
static inline struct rbuf
buf_view(const struct buf *b)
{
	return rbuf_make(b->b_data, b->b_len);
}

/* Big-endian loads and stores on raw memory. */
static inline uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}
static inline void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8; p[1] = v & 0xff;
}
static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

#endif
