/*
 * src/krb_rcache.c on its own: the replay cache's memory set, its file
 * ring across a restart, and what it refuses when the file cannot be
 * trusted (another boot, damage, entries the ring overwrote).  Times are
 * given, not read, so nothing here depends on the machine's speed.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "krb_rcache.h"

#define SEC	1000000LL
#define T0	(1700000000LL * SEC)

static char	path[600];

static void
dig(uint8_t d[KRB_RC_DIGEST], unsigned int n)
{
	unsigned int i;

	/* Spread n over the octets the hash reads first. */
	for (i = 0; i < KRB_RC_DIGEST; i++)
		d[i] = (uint8_t)((n * 2654435761u) >> (8 * (i % 4))) ^ (uint8_t)i;
}

TEST(same_authenticator_twice_refused)
{
	struct krb_rc	*rc;
	uint8_t		 a[KRB_RC_DIGEST], b[KRB_RC_DIGEST];

	dig(a, 1);
	dig(b, 2);
	ASSERT_TRUE((rc = krb_rc_open(NULL, 5, T0, "boot", NULL, 0)) != NULL);
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + 1, T0 + 2), KRB_RC_FRESH);
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + 1, T0 + 3), KRB_RC_REPLAY);
	ASSERT_INT_EQ(krb_rc_check(rc, b, T0 + 1, T0 + 3), KRB_RC_FRESH);
	/* Still refused at the edge of the skew window, and forgotten only
	 * once the authenticator could no longer pass the skew check. */
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + 1, T0 + 1 + 5 * SEC),
	    KRB_RC_REPLAY);
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + 1, T0 + 1 + 7 * SEC),
	    KRB_RC_FRESH);
	krb_rc_close(rc);
}

/* More entries than the first table holds: it grows, nothing is lost,
 * and expired entries make room instead of piling up. */
TEST(many_entries_exact)
{
	struct krb_rc	*rc;
	uint8_t		 d[KRB_RC_DIGEST];
	unsigned int	 i, fresh = 0, replay = 0;

	ASSERT_TRUE((rc = krb_rc_open(NULL, 5, T0, "boot", NULL, 0)) != NULL);
	for (i = 0; i < 20000; i++) {
		dig(d, i);
		fresh += krb_rc_check(rc, d, T0 + 1 + i, T0 + 2 * SEC) ==
		    KRB_RC_FRESH;
	}
	for (i = 0; i < 20000; i++) {
		dig(d, i);
		replay += krb_rc_check(rc, d, T0 + 1 + i, T0 + 3 * SEC) ==
		    KRB_RC_REPLAY;
	}
	ASSERT_INT_EQ(fresh, 20000);
	ASSERT_INT_EQ(replay, 20000);
	/* A minute later all have expired: new ones reuse their room. */
	for (i = 0; i < 20000; i++) {
		dig(d, 100000 + i);
		ASSERT_INT_EQ(krb_rc_check(rc, d, T0 + 60 * SEC + i,
		    T0 + 60 * SEC + i), KRB_RC_FRESH);
	}
	ASSERT_TRUE(krb_rc_count(rc) < 20000 * 4);
	krb_rc_close(rc);
}

TEST(restart_same_boot_refuses_replay)
{
	struct krb_rc	*rc;
	uint8_t		 a[KRB_RC_DIGEST], b[KRB_RC_DIGEST];
	char		 why[256];

	dig(a, 7);
	dig(b, 8);
	unlink(path);
	ASSERT_TRUE((rc = krb_rc_open(path, 5, T0, "boot-1", why,
	    sizeof(why))) != NULL);
	ASSERT_TRUE(why[0] != '\0');	/* a new file is not trusted */
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + SEC, T0 + SEC), KRB_RC_FRESH);
	krb_rc_close(rc);
	/* The restart: same boot, two seconds later. */
	ASSERT_TRUE((rc = krb_rc_open(path, 5, T0 + 3 * SEC, "boot-1", why,
	    sizeof(why))) != NULL);
	ASSERT_STR_EQ(why, "");
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + SEC, T0 + 3 * SEC),
	    KRB_RC_REPLAY);
	/* Made before the restart but never seen: the file vouches for it. */
	ASSERT_INT_EQ(krb_rc_check(rc, b, T0 + 2 * SEC, T0 + 3 * SEC),
	    KRB_RC_FRESH);
	krb_rc_close(rc);
}

/* A reboot (other boot id) or a damaged file: everything made before the
 * open is refused, everything after is accepted once. */
TEST(reboot_or_damage_refuses_older)
{
	struct krb_rc	*rc;
	uint8_t		 a[KRB_RC_DIGEST], b[KRB_RC_DIGEST];
	char		 why[256];
	int		 fd;

	dig(a, 9);
	dig(b, 10);
	unlink(path);
	ASSERT_TRUE((rc = krb_rc_open(path, 5, T0, "boot-1", NULL, 0)) != NULL);
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + SEC, T0 + SEC), KRB_RC_FRESH);
	krb_rc_close(rc);
	ASSERT_TRUE((rc = krb_rc_open(path, 5, T0 + 2 * SEC, "boot-2", why,
	    sizeof(why))) != NULL);
	ASSERT_TRUE(strstr(why, "reboot") != NULL);
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + SEC, T0 + 2 * SEC),
	    KRB_RC_UNKNOWN);
	ASSERT_INT_EQ(krb_rc_check(rc, b, T0 + 2 * SEC + 1, T0 + 2 * SEC + 1),
	    KRB_RC_FRESH);
	ASSERT_INT_EQ(krb_rc_check(rc, b, T0 + 2 * SEC + 1, T0 + 2 * SEC + 2),
	    KRB_RC_REPLAY);
	krb_rc_close(rc);

	/* Damage: the header overwritten. */
	ASSERT_TRUE((fd = open(path, O_WRONLY)) != -1);
	ASSERT_INT_EQ(write(fd, "garbage!", 8), 8);
	close(fd);
	ASSERT_TRUE((rc = krb_rc_open(path, 5, T0 + 3 * SEC, "boot-2", why,
	    sizeof(why))) != NULL);
	ASSERT_TRUE(strstr(why, "not a kinkd replay cache") != NULL);
	ASSERT_INT_EQ(krb_rc_check(rc, b, T0 + 2 * SEC + 1, T0 + 3 * SEC),
	    KRB_RC_UNKNOWN);
	krb_rc_close(rc);

	/* Truncated. */
	ASSERT_INT_EQ(truncate(path, 100), 0);
	ASSERT_TRUE((rc = krb_rc_open(path, 5, T0 + 4 * SEC, "boot-2", why,
	    sizeof(why))) != NULL);
	ASSERT_TRUE(strstr(why, "wrong size") != NULL);
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + 3 * SEC, T0 + 4 * SEC),
	    KRB_RC_UNKNOWN);
	krb_rc_close(rc);
}

/* Unknown boot id ("" : no /proc): the file is never trusted. */
TEST(unknown_boot_never_trusted)
{
	struct krb_rc	*rc;
	uint8_t		 a[KRB_RC_DIGEST];

	dig(a, 11);
	unlink(path);
	ASSERT_TRUE((rc = krb_rc_open(path, 5, T0, "", NULL, 0)) != NULL);
	krb_rc_close(rc);
	ASSERT_TRUE((rc = krb_rc_open(path, 5, T0 + SEC, "", NULL, 0)) != NULL);
	ASSERT_INT_EQ(krb_rc_check(rc, a, T0 + SEC - 1, T0 + SEC),
	    KRB_RC_UNKNOWN);
	krb_rc_close(rc);
}

/* A second user of the same file (two daemons sharing a directory) must
 * not write into the first one's ring. */
TEST(second_user_memory_only)
{
	struct krb_rc	*r1, *r2;
	uint8_t		 a[KRB_RC_DIGEST];
	char		 why[256];

	dig(a, 12);
	unlink(path);
	ASSERT_TRUE((r1 = krb_rc_open(path, 5, T0, "b", NULL, 0)) != NULL);
	ASSERT_TRUE((r2 = krb_rc_open(path, 5, T0, "b", why, sizeof(why))) !=
	    NULL);
	ASSERT_TRUE(strstr(why, "locked") != NULL);
	ASSERT_INT_EQ(krb_rc_check(r1, a, T0 + 1, T0 + 1), KRB_RC_FRESH);
	ASSERT_INT_EQ(krb_rc_check(r2, a, T0 + 1, T0 + 1), KRB_RC_FRESH);
	krb_rc_close(r2);
	krb_rc_close(r1);
	ASSERT_TRUE((r1 = krb_rc_open(path, 5, T0 + 2, "b", NULL, 0)) != NULL);
	ASSERT_INT_EQ(krb_rc_check(r1, a, T0 + 1, T0 + 2), KRB_RC_REPLAY);
	krb_rc_close(r1);
}

/* More authenticators within one skew window than the ring holds: after
 * a restart, the overwritten ones cannot be vouched for and are refused;
 * the newest, still in the ring, are known exactly. */
TEST(ring_overflow_moves_horizon)
{
	struct krb_rc	*rc;
	uint8_t		 d[KRB_RC_DIGEST];
	unsigned int	 i, n = KRB_RC_SLOTS + 10;
	int64_t		 later = T0 + (int64_t)n * 1000 + SEC;

	unlink(path);
	ASSERT_TRUE((rc = krb_rc_open(path, 300, T0, "b", NULL, 0)) != NULL);
	/* One a millisecond: 262 s, all within the 300 s window. */
	for (i = 0; i < n; i++) {
		dig(d, i);
		ASSERT_INT_EQ(krb_rc_check(rc, d, T0 + SEC + (int64_t)i * 1000,
		    T0 + SEC + (int64_t)i * 1000), KRB_RC_FRESH);
	}
	krb_rc_close(rc);
	ASSERT_TRUE((rc = krb_rc_open(path, 300, later, "b", NULL, 0)) !=
	    NULL);
	dig(d, 0);		/* overwritten */
	ASSERT_INT_EQ(krb_rc_check(rc, d, T0 + SEC, later), KRB_RC_UNKNOWN);
	dig(d, 9);		/* overwritten */
	ASSERT_INT_EQ(krb_rc_check(rc, d, T0 + SEC + 9000, later),
	    KRB_RC_UNKNOWN);
	dig(d, n - 1);		/* in the ring */
	ASSERT_INT_EQ(krb_rc_check(rc, d, T0 + SEC + (int64_t)(n - 1) * 1000,
	    later), KRB_RC_REPLAY);
	dig(d, 5000000);	/* never seen, newer than the horizon */
	ASSERT_INT_EQ(krb_rc_check(rc, d, T0 + 5 * SEC, later), KRB_RC_FRESH);
	krb_rc_close(rc);
}

int
main(void)
{
	const char *dir = getenv("KINK_REALM_DIR");

	if (dir == NULL) {
		printf("FAIL test_rcache: KINK_REALM_DIR not set "
		    "(run through tests/krb/run.sh)\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/test_rcache.rcache", dir);
	RUN(same_authenticator_twice_refused);
	RUN(many_entries_exact);
	RUN(restart_same_boot_refuses_replay);
	RUN(reboot_or_damage_refuses_older);
	RUN(unknown_boot_never_trusted);
	RUN(second_user_memory_only);
	RUN(ring_overflow_moves_horizon);
	unlink(path);
	return test_done();
}
