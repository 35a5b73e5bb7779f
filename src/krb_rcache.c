/*
 * Replay cache without file I/O per authenticator (docs/arch/krb.md).
 *
 * Memory: an open-addressing hash set of digests with their ctime; an
 * entry counts while ctime + skew has not passed, an expired slot is a
 * tombstone reused by later inserts, and the table is rebuilt from the
 * live entries when tombstones crowd it.
 *
 * File: a header and a ring of KRB_RC_SLOTS {digest, ctime} records,
 * mmap'd MAP_SHARED once at open.  Storing is a memory write that the
 * page cache keeps across a crash or restart of the daemon; a reboot
 * (another boot id) or a damaged file cannot be trusted, and then every
 * authenticator made in an earlier second than the open is refused for
 * the one skew window in which it could still be accepted.  Seconds,
 * because MIT's cusec is a per-second counter that lags real time, not
 * a clock.  The same rule covers entries the ring had to overwrite while
 * they could still be replayed: `rh_lost_s` is the newest such second.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "krb_rcache.h"

#define RC_MAGIC	"KINKRC\0\1"
#define RC_BOOTID_MAX	48
#define RC_MIN_CAP	1024u
#define RC_SEC		1000000LL

struct rc_hdr {
	char		rh_magic[8];
	uint32_t	rh_nslots;
	uint32_t	rh_pad;
	uint64_t	rh_head;	/* next slot to write, mod nslots */
	int64_t		rh_lost_s;	/* refuse ctime seconds <= this */
	char		rh_boot[RC_BOOTID_MAX];
	uint8_t		rh_spare[40];
};

struct rc_slot {
	uint8_t		rs_dig[KRB_RC_DIGEST];
	int64_t		rs_ctime_us;	/* 0 = empty */
};

struct rc_ent {
	uint8_t		re_dig[KRB_RC_DIGEST];
	int64_t		re_ctime_us;	/* 0 = never used */
};

struct krb_rc {
	int64_t		 rc_skew_us;
	int64_t		 rc_lost_s;	/* memory copy when no file */
	struct rc_ent	*rc_tab;
	size_t		 rc_cap;	/* power of two */
	size_t		 rc_used;	/* slots ever filled (live + tombstones) */
	struct rc_hdr	*rc_hdr;	/* NULL: memory only */
	struct rc_slot	*rc_ring;
	size_t		 rc_maplen;
	int		 rc_fd;		/* holds the lock; -1 if none */
};

void
krb_rc_bootid(char *out, size_t len)
{
	FILE	*f;
	size_t	 n = 0;

	if (len == 0)
		return;
	out[0] = '\0';
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) == NULL)
		return;
	if (fgets(out, (int)len, f) != NULL)
		n = strcspn(out, "\n");
	out[n] = '\0';
	fclose(f);
}

static size_t
rc_hash(const uint8_t *dig, size_t cap)
{
	uint64_t h;

	/* The digest is already uniform: its first octets are the hash. */
	memcpy(&h, dig, sizeof(h));
	return (size_t)h & (cap - 1);
}

static int
rc_live(const struct krb_rc *rc, const struct rc_ent *e, int64_t now_us)
{
	return e->re_ctime_us != 0 && e->re_ctime_us + rc->rc_skew_us >= now_us;
}

/* Insert without a duplicate check (rebuild and load). */
static void
rc_put(struct krb_rc *rc, const uint8_t *dig, int64_t ctime_us)
{
	size_t i = rc_hash(dig, rc->rc_cap);

	while (rc->rc_tab[i].re_ctime_us != 0)
		i = (i + 1) & (rc->rc_cap - 1);
	memcpy(rc->rc_tab[i].re_dig, dig, KRB_RC_DIGEST);
	rc->rc_tab[i].re_ctime_us = ctime_us;
	rc->rc_used++;
}

/* Rebuild from the live entries, at least 4 slots per live entry. */
static int
rc_rebuild(struct krb_rc *rc, int64_t now_us)
{
	struct rc_ent	*old = rc->rc_tab;
	size_t		 oldcap = rc->rc_cap, live = 0, cap = RC_MIN_CAP, i;

	for (i = 0; i < oldcap; i++)
		if (rc_live(rc, &old[i], now_us))
			live++;
	while (cap < live * 4)
		cap *= 2;
	if ((rc->rc_tab = calloc(cap, sizeof(*rc->rc_tab))) == NULL) {
		rc->rc_tab = old;
		return -1;
	}
	rc->rc_cap = cap;
	rc->rc_used = 0;
	for (i = 0; i < oldcap; i++)
		if (rc_live(rc, &old[i], now_us))
			rc_put(rc, old[i].re_dig, old[i].re_ctime_us);
	free(old);
	return 0;
}

static int64_t *
rc_lostp(struct krb_rc *rc)
{
	return rc->rc_hdr != NULL ? &rc->rc_hdr->rh_lost_s : &rc->rc_lost_s;
}

/* Append to the file's ring; an overwritten entry that could still be
 * replayed moves the trust horizon. */
static void
rc_ring_put(struct krb_rc *rc, const uint8_t *dig, int64_t ctime_us,
    int64_t now_us)
{
	struct rc_slot	*s;

	if (rc->rc_hdr == NULL)
		return;
	s = &rc->rc_ring[rc->rc_hdr->rh_head % rc->rc_hdr->rh_nslots];
	if (s->rs_ctime_us != 0 && s->rs_ctime_us + rc->rc_skew_us >= now_us &&
	    s->rs_ctime_us / RC_SEC > rc->rc_hdr->rh_lost_s)
		rc->rc_hdr->rh_lost_s = s->rs_ctime_us / RC_SEC;
	memcpy(s->rs_dig, dig, KRB_RC_DIGEST);
	s->rs_ctime_us = ctime_us;
	rc->rc_hdr->rh_head++;
}

enum krb_rc_verdict
krb_rc_check(struct krb_rc *rc, const uint8_t dig[KRB_RC_DIGEST],
    int64_t ctime_us, int64_t now_us)
{
	size_t	i, slot = (size_t)-1;

	if (ctime_us / RC_SEC <= *rc_lostp(rc))
		return KRB_RC_UNKNOWN;
	if (ctime_us == 0)
		ctime_us = 1;	/* 0 marks an empty slot */
	if (rc->rc_used * 4 > rc->rc_cap * 3)
		(void)rc_rebuild(rc, now_us);
	/* Out of memory with a full table: refusing is the safe answer. */
	if (rc->rc_used + 1 >= rc->rc_cap)
		return KRB_RC_UNKNOWN;
	i = rc_hash(dig, rc->rc_cap);
	for (; rc->rc_tab[i].re_ctime_us != 0; i = (i + 1) & (rc->rc_cap - 1)) {
		struct rc_ent *e = &rc->rc_tab[i];

		if (!rc_live(rc, e, now_us)) {
			if (slot == (size_t)-1)
				slot = i;
			continue;
		}
		if (memcmp(e->re_dig, dig, KRB_RC_DIGEST) == 0)
			return KRB_RC_REPLAY;
	}
	if (slot == (size_t)-1) {
		slot = i;
		rc->rc_used++;
	}
	memcpy(rc->rc_tab[slot].re_dig, dig, KRB_RC_DIGEST);
	rc->rc_tab[slot].re_ctime_us = ctime_us;
	rc_ring_put(rc, dig, ctime_us, now_us);
	return KRB_RC_FRESH;
}

size_t
krb_rc_count(const struct krb_rc *rc)
{
	size_t	i, n = 0;

	for (i = 0; i < rc->rc_cap; i++)
		if (rc->rc_tab[i].re_ctime_us != 0)
			n++;
	return n;
}

/* Map the file; 1 if its contents can be trusted, 0 if rebuilt, -1 if
 * it cannot be used at all. */
static int
rc_map(struct krb_rc *rc, const char *path, const char *bootid, char *why,
    size_t whylen)
{
	struct stat	 st;
	size_t		 len = sizeof(struct rc_hdr) +
			    (size_t)KRB_RC_SLOTS * sizeof(struct rc_slot);
	void		*p;
	int		 fd, ok = 1;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1 || fstat(fd, &st) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* Two writers would overwrite each other's ring: the second one
	 * keeps its set in memory only. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(why, whylen, "locked by another user of the file");
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size != len) {
		snprintf(why, whylen, "%s", st.st_size == 0 ?
		    "new file" : "wrong size");
		ok = 0;
		if (!S_ISREG(st.st_mode) || ftruncate(fd, 0) == -1 ||
		    ftruncate(fd, (off_t)len) == -1) {
			snprintf(why, whylen, "cannot size: %s",
			    strerror(errno));
			close(fd);
			return -1;
		}
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(why, whylen, "mmap: %s", strerror(errno));
		close(fd);
		return -1;
	}
	rc->rc_fd = fd;		/* kept for the lock only */
	rc->rc_hdr = p;
	rc->rc_ring = (struct rc_slot *)(rc->rc_hdr + 1);
	rc->rc_maplen = len;
	if (ok && (memcmp(rc->rc_hdr->rh_magic, RC_MAGIC, 8) != 0 ||
	    rc->rc_hdr->rh_nslots != KRB_RC_SLOTS)) {
		snprintf(why, whylen, "not a kinkd replay cache");
		ok = 0;
	}
	if (ok && (bootid[0] == '\0' || strncmp(rc->rc_hdr->rh_boot, bootid,
	    RC_BOOTID_MAX) != 0)) {
		snprintf(why, whylen, "written before the last reboot");
		ok = 0;
	}
	return ok;
}

struct krb_rc *
krb_rc_open(const char *path, uint32_t skew, int64_t now_us,
    const char *bootid, char *why, size_t whylen)
{
	struct krb_rc	*rc;
	char		 dummy[1];
	size_t		 i;
	int		 trusted = 0;

	if (why == NULL) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (whylen > 0)
		why[0] = '\0';
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return NULL;
	/* A second of margin on both sides of MIT's skew test. */
	rc->rc_skew_us = ((int64_t)skew + 1) * 1000000;
	rc->rc_cap = RC_MIN_CAP;
	rc->rc_fd = -1;
	if ((rc->rc_tab = calloc(rc->rc_cap, sizeof(*rc->rc_tab))) == NULL) {
		free(rc);
		return NULL;
	}
	if (path == NULL)
		snprintf(why, whylen, "no replay cache file");
	else
		trusted = rc_map(rc, path, bootid, why, whylen);
	if (trusted == 1) {
		for (i = 0; i < KRB_RC_SLOTS; i++) {
			struct rc_slot *s = &rc->rc_ring[i];

			if (s->rs_ctime_us != 0 &&
			    s->rs_ctime_us + rc->rc_skew_us >= now_us) {
				if (rc->rc_used * 4 > rc->rc_cap * 3 &&
				    rc_rebuild(rc, now_us) == -1)
					break;
				rc_put(rc, s->rs_dig, s->rs_ctime_us);
			}
		}
		if (i < KRB_RC_SLOTS && rc->rc_hdr->rh_lost_s < now_us / RC_SEC)
			rc->rc_hdr->rh_lost_s = now_us / RC_SEC;	/* no memory */
		return rc;
	}
	if (rc->rc_hdr != NULL) {
		memset(rc->rc_hdr, 0, rc->rc_maplen);
		memcpy(rc->rc_hdr->rh_magic, RC_MAGIC, 8);
		rc->rc_hdr->rh_nslots = KRB_RC_SLOTS;
		strncpy(rc->rc_hdr->rh_boot, bootid, RC_BOOTID_MAX - 1);
	}
	*rc_lostp(rc) = now_us / RC_SEC - 1;
	return rc;
}

void
krb_rc_close(struct krb_rc *rc)
{
	if (rc == NULL)
		return;
	if (rc->rc_hdr != NULL)
		munmap(rc->rc_hdr, rc->rc_maplen);
	if (rc->rc_fd != -1)
		close(rc->rc_fd);
	free(rc->rc_tab);
	free(rc);
}
