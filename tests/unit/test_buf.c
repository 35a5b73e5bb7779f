/* buf: views never read past their end; owned buffers respect their cap. */
#include "buf.h"
#include "test.h"

TEST(rbuf_getters_bounds)
{
	const uint8_t d[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct rbuf r = rbuf_make(d, sizeof(d)), s;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	ASSERT_INT_EQ(rbuf_get_u8(&r, &u8), 0);
	ASSERT_INT_EQ(u8, 1);
	ASSERT_INT_EQ(rbuf_get_u16(&r, &u16), 0);
	ASSERT_INT_EQ(u16, 0x0203);
	ASSERT_INT_EQ(rbuf_get_u32(&r, &u32), 0);
	ASSERT_INT_EQ(u32, 0x04050607);
	ASSERT_INT_EQ(rbuf_get_u8(&r, &u8), -1);
	r = rbuf_make(d, 3);
	ASSERT_INT_EQ(rbuf_get_u32(&r, &u32), -1);
	ASSERT_INT_EQ(r.rb_len, 3);	/* a failed get does not move */
	ASSERT_INT_EQ(rbuf_sub(&r, 4, &s), -1);
	ASSERT_INT_EQ(rbuf_sub(&r, 2, &s), 0);
	ASSERT_INT_EQ(s.rb_len, 2);
	ASSERT_INT_EQ(r.rb_len, 1);
	ASSERT_INT_EQ(rbuf_skip(&r, 2), -1);
}

TEST(buf_put_align_cap)
{
	struct buf b;

	buf_init(&b, 8);
	ASSERT_INT_EQ(buf_put_u8(&b, 0xaa), 0);
	ASSERT_INT_EQ(buf_align(&b, 4), 0);
	ASSERT_INT_EQ(b.b_len, 4);
	ASSERT_INT_EQ(buf_put_u32(&b, 0x01020304), 0);
	ASSERT_INT_EQ(buf_put_u8(&b, 0), -1);	/* cap of 8 reached */
	ASSERT_INT_EQ(b.b_data[4], 1);
	ASSERT_INT_EQ(buf_set_u16(&b, 7, 1), -1);
	ASSERT_INT_EQ(buf_set_u16(&b, 6, 0xbeef), 0);
	ASSERT_INT_EQ(get_be16(b.b_data + 6), 0xbeef);
	buf_free(&b);
	ASSERT_TRUE(b.b_data == NULL);
	ASSERT_INT_EQ(b.b_max, 8);
}

int
main(void)
{
	RUN(rbuf_getters_bounds);
	RUN(buf_put_align_cap);
	return test_done();
}
