/*
 * Finding and confirming range peers' names (docs/arch/hostid.md).
 *
 * DNS answers are cached as answers, not as verdicts: one entry per PTR
 * (keyed by the address), A or AAAA (keyed by the name) query, kept for
 * its TTL capped at max_ttl_ms, failures for fail_cache_ms.  A query in
 * flight is an entry too: a second request for the same name waits on it
 * instead of asking again.  Requests (struct hostid_req) step through
 * PTR -> forward (initiator) or forward alone (responder) and end in one
 * callback.  Pattern and file modes answer at once.
 *
 * evdns runs its callbacks deferred, from the loop, and one already
 * scheduled cannot be cancelled; hostid_free therefore leaves entries
 * still in flight on a static orphan list, where their last callback
 * finds and frees them.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "addr.h"
#include "hostid.h"
#include "hostid_int.h"
#include "log.h"
#include "ratelim.h"
#include "timer.h"

#define CACHE_MAX	4096	/* DNS answers kept */
#define ENT_ADDRS	16	/* addresses kept per A/AAAA answer */
#define FILE_ENTRIES	100000	/* lines kept per mapping file */
#define FILE_BADLOG	20	/* bad lines logged per load */
#define DEF_FAIL_MS	30000
#define DEF_TTL_MS	3600000
#define DEF_PER_S	10

enum qtype { Q_PTR, Q_A, Q_AAAA };

struct hostid_ent {
	TAILQ_ENTRY(hostid_ent)	 e_link;	/* oldest first */
	struct hostid		*e_h;		/* NULL: orphaned by hostid_free */
	enum qtype		 e_type;
	char			 e_key[HOSTID_NAME_MAX]; /* name, or address */
	int			 e_pending;	/* query in flight */
	int			 e_serving;	/* its waiters being stepped */
	enum hostid_status	 e_status;	/* OK, NOTFOUND, TEMPFAIL */
	uint64_t		 e_expires;
	char			 e_name[HOSTID_NAME_MAX]; /* PTR answer */
	int			 e_naddr;
	uint8_t			 e_addr[ENT_ADDRS][16];
};
TAILQ_HEAD(ent_list, hostid_ent);

struct hostid_req {
	TAILQ_ENTRY(hostid_req)	 r_link;
	int			 r_check;	/* responder (hostid_check) */
	int			 r_counted;	/* charged to the rate limit */
	struct hostid_ent	*r_wait;
	struct sockaddr_storage	 r_addr;
	char			 r_ppat[HOSTID_PRINC_MAX];
	char			 r_princ[HOSTID_PRINC_MAX];
	char			 r_host[HOSTID_NAME_MAX]; /* being confirmed */
	hostid_cb		*r_cb;
	void			*r_arg;
};

struct file_line {
	struct sockaddr_storage	 fl_addr;
	char			*fl_princ;
	int			 fl_lineno;
};

struct hostid_file {
	LIST_ENTRY(hostid_file)	 f_link;
	char			*f_path;
	struct stat		 f_st;		/* of the loaded version */
	int			 f_errno;	/* last open/read failure */
	struct file_line	*f_lines;
	int			 f_nlines;
};

struct hostid {
	struct event_base	*h_base;
	struct evdns_base	*h_dns;
	struct hostid_opts	 h_opts;
	struct sockaddr_storage	*h_ns;
	struct ent_list		 h_ents;
	int			 h_nents;
	TAILQ_HEAD(, hostid_req) h_reqs;
	struct ratelim		 h_rl;
	LIST_HEAD(, hostid_file) h_files;
};

static struct ent_list orphans = TAILQ_HEAD_INITIALIZER(orphans);

static void	req_step(struct hostid *, struct hostid_req *);
static void	file_flush(struct hostid *);

const char *
hostid_status_str(enum hostid_status s)
{
	switch (s) {
	case HOSTID_OK: return "ok";
	case HOSTID_MISMATCH: return "mismatch";
	case HOSTID_NOTFOUND: return "not found";
	case HOSTID_TEMPFAIL: return "temporary failure";
	case HOSTID_LIMITED: return "rate limited";
	case HOSTID_BADPRINC: return "principal does not match the pattern";
	}
	return "?";
}

/* --- configuration ------------------------------------------------------ */

static int
set_nameservers(struct hostid *h, const struct hostid_opts *o)
{
	struct sockaddr_storage *ns = NULL;
	char buf[ADDR_STRLEN];
	int i;

	if (o->nnameservers > 0) {
		ns = calloc((size_t)o->nnameservers, sizeof(*ns));
		if (ns == NULL)
			return -1;
		memcpy(ns, o->nameservers, (size_t)o->nnameservers *
		    sizeof(*ns));
	}
	free(h->h_ns);
	h->h_ns = ns;
	h->h_opts = *o;
	h->h_opts.nameservers = ns;
	if (h->h_opts.fail_cache_ms == 0)
		h->h_opts.fail_cache_ms = DEF_FAIL_MS;
	if (h->h_opts.max_ttl_ms == 0)
		h->h_opts.max_ttl_ms = DEF_TTL_MS;
	if (h->h_opts.per_source_per_s == 0)
		h->h_opts.per_source_per_s = DEF_PER_S;
	if (h->h_opts.per_source_per_s > INT_MAX / RATELIM_SRCS)
		h->h_opts.per_source_per_s = INT_MAX / RATELIM_SRCS;
	for (i = 0; i < o->nnameservers; i++) {
		if (addr_port(addr_sa(&ns[i])) == 0)
			addr_set_port(&ns[i], 53);
		if (evdns_base_nameserver_sockaddr_add(h->h_dns,
		    addr_sa(&ns[i]), addr_len(addr_sa(&ns[i])), 0) != 0)
			log_warnx("hostid: nameserver %s refused by evdns",
			    addr_ntop(addr_sa(&ns[i]), buf, sizeof(buf)));
	}
	if (o->nnameservers <= 0 && evdns_base_resolv_conf_parse(h->h_dns,
	    DNS_OPTION_NAMESERVERS, "/etc/resolv.conf") != 0)
		log_warnx("hostid: no nameserver from /etc/resolv.conf");
	if (evdns_base_count_nameservers(h->h_dns) == 0)
		log_warnx("hostid: no nameserver: DNS lookups fail");
	return 0;
}

/* evdns's own messages (a nameserver down or back) through our logger,
   not libevent's default of raw stderr */
static void
evdns_log(int is_warn, const char *msg)
{
	if (is_warn)
		log_info("hostid: evdns: %s", msg);
	else
		log_debug3("hostid: evdns: %s", msg);
}

struct hostid *
hostid_new(struct event_base *base, const struct hostid_opts *o)
{
	struct hostid *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->h_base = base;
	evdns_set_log_fn(evdns_log);
	TAILQ_INIT(&h->h_ents);
	TAILQ_INIT(&h->h_reqs);
	LIST_INIT(&h->h_files);
	/* inactive: an idle resolver keeps no event alive */
	h->h_dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (h->h_dns == NULL) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	/* a dead nameserver is a TEMPFAIL in about two seconds, not ten */
	evdns_base_set_option(h->h_dns, "timeout:", "1");
	evdns_base_set_option(h->h_dns, "attempts:", "2");
	if (set_nameservers(h, o) != 0) {
		hostid_free(h);
		return NULL;
	}
	return h;
}

static void
ent_free(struct hostid *h, struct hostid_ent *e)
{
	TAILQ_REMOVE(&h->h_ents, e, e_link);
	h->h_nents--;
	free(e);
}

/* Drops every answer not in flight (the nameservers or files changed). */
static void
cache_flush(struct hostid *h)
{
	struct hostid_ent *e, *n;

	TAILQ_FOREACH_SAFE(e, &h->h_ents, e_link, n)
		if (!e->e_pending && !e->e_serving)
			ent_free(h, e);
	file_flush(h);
}

int
hostid_reconfigure(struct hostid *h, const struct hostid_opts *o)
{
	/* queries in flight are sent again to the new servers on resume */
	evdns_base_clear_nameservers_and_suspend(h->h_dns);
	if (set_nameservers(h, o) != 0) {
		evdns_base_resume(h->h_dns);
		return -1;
	}
	evdns_base_resume(h->h_dns);
	cache_flush(h);
	return 0;
}

void
hostid_free(struct hostid *h)
{
	struct hostid_req *r;
	struct hostid_ent *e;

	if (h == NULL)
		return;
	while ((r = TAILQ_FIRST(&h->h_reqs)) != NULL) {
		TAILQ_REMOVE(&h->h_reqs, r, r_link);
		free(r);
	}
	while ((e = TAILQ_FIRST(&h->h_ents)) != NULL) {
		if (!e->e_pending) {
			ent_free(h, e);
			continue;
		}
		TAILQ_REMOVE(&h->h_ents, e, e_link);
		e->e_h = NULL;
		TAILQ_INSERT_TAIL(&orphans, e, e_link);
	}
	file_flush(h);
	/* every request left gets its (deferred) callback: the orphans go */
	if (h->h_dns != NULL)
		evdns_base_free(h->h_dns, 1);
	free(h->h_ns);
	free(h);
}

/* --- requests ----------------------------------------------------------- */

static void
req_done(struct hostid *h, struct hostid_req *r, enum hostid_status st,
    const char *princ, const char *how)
{
	TAILQ_REMOVE(&h->h_reqs, r, r_link);
	r->r_cb(r->r_arg, st, princ != NULL && *princ != '\0' ? princ : NULL,
	    how);
	free(r);
}

void
hostid_cancel(struct hostid *h, void *arg)
{
	struct hostid_req *r, *n;

	TAILQ_FOREACH_SAFE(r, &h->h_reqs, r_link, n)
		if (r->r_arg == arg) {
			TAILQ_REMOVE(&h->h_reqs, r, r_link);
			free(r);
		}
}

static struct hostid_req *
req_new(struct hostid *h, const struct hostid_rule *rule,
    const struct sockaddr *addr, hostid_cb *cb, void *arg)
{
	struct hostid_req *r;

	if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (rule->principal != NULL &&
	    strlen(rule->principal) >= sizeof(r->r_ppat)) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	memcpy(&r->r_addr, addr, addr_len(addr));
	addr_set_port(&r->r_addr, 0);
	if (rule->principal != NULL)
		snprintf(r->r_ppat, sizeof(r->r_ppat), "%s", rule->principal);
	r->r_cb = cb;
	r->r_arg = arg;
	TAILQ_INSERT_TAIL(&h->h_reqs, r, r_link);
	return r;
}

/* --- pattern and file modes --------------------------------------------- */

static void
pattern_req(struct hostid *h, struct hostid_req *r, const char *pattern)
{
	char host[HOSTID_NAME_MAX], princ[HOSTID_PRINC_MAX];

	if (hostid_pattern_host(pattern, addr_sa(&r->r_addr), host,
	    sizeof(host)) != 0 || hostid_host_principal(r->r_ppat, host, princ,
	    sizeof(princ)) != 0) {
		req_done(h, r, HOSTID_NOTFOUND, NULL, "pattern");
		return;
	}
	if (!r->r_check)
		req_done(h, r, HOSTID_OK, princ, "pattern");
	else if (strcmp(princ, r->r_princ) == 0)
		req_done(h, r, HOSTID_OK, r->r_princ, "pattern");
	else
		req_done(h, r, HOSTID_MISMATCH, r->r_princ, "pattern");
}

/* Reads the file into f, logging every bad line (escaped) with file:line. */
static void
file_load(struct hostid_file *f, FILE *fp)
{
	char *line = NULL, princ[HOSTID_PRINC_MAX];
	struct sockaddr_storage ss;
	size_t cap = 0, len;
	ssize_t n;
	const char *why;
	void *nl;
	int lineno = 0, bad = 0, rc, i;

	/* the logger escapes what it prints (log.c): no raw octet of the
	   file reaches a terminal; a NUL ends the quoted text early */
	while ((n = getline(&line, &cap, fp)) != -1) {
		len = (size_t)n;
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		rc = hostid_file_line(line, len, &ss, princ, sizeof(princ),
		    &why);
		if (rc == 1 && f->f_nlines >= FILE_ENTRIES) {
			rc = -1;
			why = "too many lines";
		}
		for (i = 0; rc == 1 && i < f->f_nlines; i++)
			if (addr_eq(addr_sa(&ss), addr_sa(&f->f_lines[i].fl_addr))) {
				rc = -1;
				why = "address already mapped (the first line wins)";
			}
		if (rc == 1 && (f->f_nlines & 63) == 0) {
			nl = reallocarray(f->f_lines, (size_t)f->f_nlines + 64,
			    sizeof(*f->f_lines));
			if (nl == NULL) {
				rc = -1;
				why = "out of memory";
			} else
				f->f_lines = nl;
		}
		if (rc == 1 && (f->f_lines[f->f_nlines].fl_princ =
		    strdup(princ)) == NULL) {
			rc = -1;
			why = "out of memory";
		}
		if (rc == 1) {
			f->f_lines[f->f_nlines].fl_addr = ss;
			f->f_lines[f->f_nlines++].fl_lineno = lineno;
		} else if (rc == -1 && bad++ < FILE_BADLOG)
			log_warnx("hostid: %s:%d: %s, line ignored: \"%.*s%s\"",
			    f->f_path, lineno, why, (int)(len > 80 ? 80 : len),
			    line, len > 80 ? "..." : "");
	}
	if (bad > FILE_BADLOG)
		log_warnx("hostid: %s: %d more bad lines ignored", f->f_path,
		    bad - FILE_BADLOG);
	free(line);
}

static void
file_clear(struct hostid_file *f)
{
	int i;

	for (i = 0; i < f->f_nlines; i++)
		free(f->f_lines[i].fl_princ);
	free(f->f_lines);
	f->f_lines = NULL;
	f->f_nlines = 0;
}

static void
file_flush(struct hostid *h)
{
	struct hostid_file *f;

	while ((f = LIST_FIRST(&h->h_files)) != NULL) {
		LIST_REMOVE(f, f_link);
		file_clear(f);
		free(f->f_path);
		free(f);
	}
}

/* The file's current contents: read again when it changed on disk. */
static struct hostid_file *
file_get(struct hostid *h, const char *path)
{
	struct hostid_file *f;
	struct stat st;
	FILE *fp;

	LIST_FOREACH(f, &h->h_files, f_link)
		if (strcmp(f->f_path, path) == 0)
			break;
	if (f == NULL) {
		if ((f = calloc(1, sizeof(*f))) == NULL ||
		    (f->f_path = strdup(path)) == NULL) {
			free(f);
			return NULL;
		}
		f->f_errno = -1;
		LIST_INSERT_HEAD(&h->h_files, f, f_link);
	}
	if ((fp = fopen(path, "re")) == NULL || fstat(fileno(fp), &st) != 0) {
		if (f->f_errno != errno)	/* once per cause */
			log_warnx("hostid: %s: %s", path, strerror(errno));
		f->f_errno = errno;
		if (fp != NULL)
			fclose(fp);
		file_clear(f);
		return f;
	}
	if (f->f_errno == 0 && st.st_ino == f->f_st.st_ino &&
	    st.st_dev == f->f_st.st_dev && st.st_size == f->f_st.st_size &&
	    st.st_mtim.tv_sec == f->f_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == f->f_st.st_mtim.tv_nsec) {
		fclose(fp);
		return f;
	}
	file_clear(f);
	f->f_st = st;
	f->f_errno = 0;
	file_load(f, fp);
	fclose(fp);
	log_debug("hostid: %s: %d addresses", path, f->f_nlines);
	return f;
}

static void
file_req(struct hostid *h, struct hostid_req *r, const char *path)
{
	struct hostid_file *f;
	struct file_line *l = NULL;
	char how[32], host[HOSTID_NAME_MAX];
	int i;

	if ((f = file_get(h, path)) == NULL || f->f_errno != 0) {
		req_done(h, r, HOSTID_TEMPFAIL, NULL, "file");
		return;
	}
	for (i = 0; i < f->f_nlines && l == NULL; i++)
		if (addr_eq(addr_sa(&r->r_addr), addr_sa(&f->f_lines[i].fl_addr)))
			l = &f->f_lines[i];
	if (l == NULL) {
		req_done(h, r, HOSTID_NOTFOUND, r->r_princ, "file");
		return;
	}
	snprintf(how, sizeof(how), "file:%d", l->fl_lineno);
	/* a line outside the range's principal pattern binds nothing */
	if (r->r_ppat[0] != '\0' && hostid_principal_host(r->r_ppat,
	    l->fl_princ, host, sizeof(host)) != 0)
		req_done(h, r, r->r_check ? HOSTID_MISMATCH : HOSTID_BADPRINC,
		    r->r_check ? r->r_princ : l->fl_princ, how);
	else if (!r->r_check)
		req_done(h, r, HOSTID_OK, l->fl_princ, how);
	else if (strcmp(l->fl_princ, r->r_princ) == 0)
		req_done(h, r, HOSTID_OK, r->r_princ, how);
	else
		req_done(h, r, HOSTID_MISMATCH, r->r_princ, how);
}

/* --- DNS ---------------------------------------------------------------- */

static uint64_t
cache_until(struct hostid *h, enum hostid_status st, int ttl)
{
	uint64_t ms = h->h_opts.fail_cache_ms;

	if (st == HOSTID_OK) {
		ms = ttl > 0 ? (uint64_t)ttl * 1000 : 0;
		if (ms > h->h_opts.max_ttl_ms)
			ms = h->h_opts.max_ttl_ms;
	}
	return timer_now_ms() + ms;
}

static void
dns_answer(int result, char type, int count, int ttl, void *addrs, void *arg)
{
	struct hostid_ent *e = arg;
	struct hostid *h = e->e_h;
	struct hostid_req *r;
	char *name;
	int i;

	if (h == NULL) {		/* hostid_free ran */
		TAILQ_REMOVE(&orphans, e, e_link);
		free(e);
		return;
	}
	e->e_pending = 0;
	if (result == DNS_ERR_NOTEXIST || result == DNS_ERR_NODATA ||
	    (result == DNS_ERR_NONE && count <= 0))
		e->e_status = HOSTID_NOTFOUND;
	else if (result != DNS_ERR_NONE)
		e->e_status = HOSTID_TEMPFAIL;
	else if (e->e_type == Q_PTR && type == DNS_PTR) {
		name = *(char **)addrs;
		e->e_status = HOSTID_OK;
		snprintf(e->e_name, sizeof(e->e_name), "%s", name);
		if (strlen(name) >= sizeof(e->e_name) ||
		    !hostid_name_ok(e->e_name)) {
			log_debug("hostid: PTR %s: not a host name: \"%.80s\"",
			    e->e_key, name);
			e->e_name[0] = '\0';
		}
		for (i = 0; e->e_name[i] != '\0'; i++)
			if (e->e_name[i] >= 'A' && e->e_name[i] <= 'Z')
				e->e_name[i] += 'a' - 'A';
	} else if ((e->e_type == Q_A && type == DNS_IPv4_A) ||
	    (e->e_type == Q_AAAA && type == DNS_IPv6_AAAA)) {
		e->e_status = HOSTID_OK;
		for (i = 0; i < count && i < ENT_ADDRS; i++)
			memcpy(e->e_addr[i], (uint8_t *)addrs +
			    i * (type == DNS_IPv4_A ? 4 : 16),
			    type == DNS_IPv4_A ? 4 : 16);
		e->e_naddr = i;
	} else
		e->e_status = HOSTID_TEMPFAIL;
	e->e_expires = cache_until(h, e->e_status, ttl);
	log_debug2("hostid: %s %s: %s (dns %d, ttl %d)",
	    e->e_type == Q_PTR ? "PTR" : e->e_type == Q_A ? "A" : "AAAA",
	    e->e_key, hostid_status_str(e->e_status), result, ttl);
	/* a callback may add or cancel requests: look again from the head */
	e->e_serving = 1;
again:
	TAILQ_FOREACH(r, &h->h_reqs, r_link)
		if (r->r_wait == e) {
			r->r_wait = NULL;
			req_step(h, r);
			goto again;
		}
	e->e_serving = 0;
}

static void
cache_evict(struct hostid *h)
{
	struct hostid_ent *e, *n;
	uint64_t now = timer_now_ms();

	TAILQ_FOREACH_SAFE(e, &h->h_ents, e_link, n)
		if (!e->e_pending && !e->e_serving && e->e_expires <= now)
			ent_free(h, e);
	TAILQ_FOREACH_SAFE(e, &h->h_ents, e_link, n) {
		if (h->h_nents < CACHE_MAX)
			break;
		if (!e->e_pending && !e->e_serving)
			ent_free(h, e);
	}
}

static struct evdns_request *
dns_send(struct hostid *h, struct hostid_ent *e, const struct sockaddr *a)
{
	if (evdns_base_count_nameservers(h->h_dns) == 0)
		return NULL;
	if (e->e_type == Q_A)
		return evdns_base_resolve_ipv4(h->h_dns, e->e_key,
		    DNS_QUERY_NO_SEARCH, dns_answer, e);
	if (e->e_type == Q_AAAA)
		return evdns_base_resolve_ipv6(h->h_dns, e->e_key,
		    DNS_QUERY_NO_SEARCH, dns_answer, e);
	if (a->sa_family == AF_INET)
		return evdns_base_resolve_reverse(h->h_dns,
		    &((const struct sockaddr_in *)a)->sin_addr,
		    DNS_QUERY_NO_SEARCH, dns_answer, e);
	return evdns_base_resolve_reverse_ipv6(h->h_dns,
	    &((const struct sockaddr_in6 *)a)->sin6_addr,
	    DNS_QUERY_NO_SEARCH, dns_answer, e);
}

/*
 * The cached answer for (type, key), or a new query for it.  NULL when the
 * request is over its source's budget (*st = LIMITED) or nothing could be
 * asked (*st = TEMPFAIL).  A request is charged once, at its first query.
 */
static struct hostid_ent *
ent_get(struct hostid *h, struct hostid_req *r, enum qtype t, const char *key,
    enum hostid_status *st)
{
	struct hostid_ent *e;

	TAILQ_FOREACH(e, &h->h_ents, e_link)
		if (e->e_type == t && strcmp(e->e_key, key) == 0)
			break;
	if (e != NULL && (e->e_pending || e->e_serving ||
	    e->e_expires > timer_now_ms()))
		return e;
	if (e != NULL)
		ent_free(h, e);
	/* the total: what a full table of sources may ask together, so many
	   sources at once cannot go unbudgeted either */
	if (!r->r_counted && !ratelim_ok(&h->h_rl, addr_sa(&r->r_addr),
	    timer_now_ms(), (int)h->h_opts.per_source_per_s,
	    (int)h->h_opts.per_source_per_s * RATELIM_SRCS)) {
		*st = HOSTID_LIMITED;
		return NULL;
	}
	r->r_counted = 1;
	cache_evict(h);
	*st = HOSTID_TEMPFAIL;
	if (h->h_nents >= CACHE_MAX || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->e_h = h;
	e->e_type = t;
	snprintf(e->e_key, sizeof(e->e_key), "%s", key);
	e->e_pending = 1;
	if (dns_send(h, e, addr_sa(&r->r_addr)) == NULL) {
		free(e);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&h->h_ents, e, e_link);
	h->h_nents++;
	return e;
}

static int
ent_has(const struct hostid_ent *e, const struct sockaddr *a)
{
	const uint8_t *b;
	size_t n;
	int i;

	b = addr_bytes(a, &n);
	for (i = 0; i < e->e_naddr; i++)
		if (memcmp(e->e_addr[i], b, n) == 0)
			return 1;
	return 0;
}

/* Forward confirmation of r_host: its A/AAAA answer must hold r_addr. */
static void
dns_forward(struct hostid *h, struct hostid_req *r)
{
	int v6 = r->r_addr.ss_family == AF_INET6;
	const char *how = r->r_check ? (v6 ? "dns aaaa" : "dns a") :
	    (v6 ? "dns ptr+aaaa" : "dns ptr+a");
	struct hostid_ent *e;
	enum hostid_status st;

	if ((e = ent_get(h, r, v6 ? Q_AAAA : Q_A, r->r_host, &st)) == NULL) {
		req_done(h, r, st, r->r_princ, how);
		return;
	}
	if (e->e_pending) {
		r->r_wait = e;
		return;
	}
	if (e->e_status == HOSTID_OK)
		st = ent_has(e, addr_sa(&r->r_addr)) ? HOSTID_OK :
		    HOSTID_MISMATCH;
	else if (e->e_status == HOSTID_NOTFOUND)
		/* the initiator's PTR named a host that does not exist */
		st = r->r_check ? HOSTID_NOTFOUND : HOSTID_MISMATCH;
	else
		st = e->e_status;
	req_done(h, r, st, r->r_princ, how);
}

static void
req_step(struct hostid *h, struct hostid_req *r)
{
	char key[ADDR_STRLEN];
	struct hostid_ent *e;
	enum hostid_status st;

	if (r->r_check || r->r_host[0] != '\0') {
		dns_forward(h, r);
		return;
	}
	addr_ntop(addr_sa(&r->r_addr), key, sizeof(key));
	if ((e = ent_get(h, r, Q_PTR, key, &st)) == NULL) {
		req_done(h, r, st, NULL, "dns ptr");
		return;
	}
	if (e->e_pending) {
		r->r_wait = e;
		return;
	}
	if (e->e_status != HOSTID_OK) {
		req_done(h, r, e->e_status, NULL, "dns ptr");
		return;
	}
	if (e->e_name[0] == '\0' || hostid_host_principal(r->r_ppat,
	    e->e_name, r->r_princ, sizeof(r->r_princ)) != 0) {
		req_done(h, r, HOSTID_MISMATCH, NULL, "dns ptr");
		return;
	}
	snprintf(r->r_host, sizeof(r->r_host), "%s", e->e_name);
	dns_forward(h, r);
}

/* --- entry points -------------------------------------------------------- */

static int
rule_ok(const struct hostid_rule *rule)
{
	char host[HOSTID_NAME_MAX];

	switch (rule->mode) {
	case HOSTID_DNS:
		break;
	case HOSTID_PATTERN:
		if (rule->pattern == NULL)
			return 0;
		break;
	case HOSTID_FILE:
		/* the principal pattern is optional here */
		return rule->file != NULL && (rule->principal == NULL ||
		    hostid_host_principal(rule->principal, "h", host,
		    sizeof(host)) == 0);
	default:
		return 0;
	}
	return hostid_host_principal(rule->principal, "h", host,
	    sizeof(host)) == 0;
}

static void
req_start(struct hostid *h, const struct hostid_rule *rule,
    struct hostid_req *r)
{
	if (rule->mode == HOSTID_PATTERN)
		pattern_req(h, r, rule->pattern);
	else if (rule->mode == HOSTID_FILE)
		file_req(h, r, rule->file);
	else
		req_step(h, r);
}

int
hostid_lookup(struct hostid *h, const struct hostid_rule *rule,
    const struct sockaddr *addr, hostid_cb *cb, void *arg)
{
	struct hostid_req *r;

	if (!rule_ok(rule)) {
		errno = EINVAL;
		return -1;
	}
	if ((r = req_new(h, rule, addr, cb, arg)) == NULL)
		return -1;
	req_start(h, rule, r);
	return 0;
}

int
hostid_check(struct hostid *h, const struct hostid_rule *rule,
    const char *principal, const struct sockaddr *addr, hostid_cb *cb,
    void *arg)
{
	struct hostid_req *r;
	char host[HOSTID_NAME_MAX];
	int bad;

	if (!rule_ok(rule) || principal == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((r = req_new(h, rule, addr, cb, arg)) == NULL)
		return -1;
	r->r_check = 1;
	bad = strlen(principal) >= sizeof(r->r_princ);
	if (!bad)
		snprintf(r->r_princ, sizeof(r->r_princ), "%s", principal);
	if (!bad && r->r_ppat[0] != '\0')
		bad = hostid_principal_host(r->r_ppat, principal, host,
		    sizeof(host)) != 0;
	if (bad) {
		req_done(h, r, HOSTID_BADPRINC, r->r_princ, rule->mode == HOSTID_DNS ?
		    "dns" : rule->mode == HOSTID_FILE ? "file" : "pattern");
		return 0;
	}
	if (rule->mode == HOSTID_DNS)
		snprintf(r->r_host, sizeof(r->r_host), "%s", host);
	req_start(h, rule, r);
	return 0;
}
