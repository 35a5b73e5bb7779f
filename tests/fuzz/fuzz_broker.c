/*
 * libFuzzer harness for the broker's request parser (src/broker_msg.c)
 * and its policy check (src/broker_check.c): the input is one datagram
 * as a compromised engine could send it.  Checks, and traps when one
 * breaks: the decoder answers BM_OK or a defined error; what decodes
 * encodes back to exactly the same octets (no field is read loosely); a
 * decoded request can be checked against a configuration without fault,
 * and an allowed SPD entry is one the configuration has (a range peer's
 * "site" is there, so the template check runs too).  The same octets go
 * through the engine's parser of the broker's answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker_check.h"
#include "broker_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static const char conf_text[] =
    "set principal \"kink/alpha.example.org@EXAMPLE.ORG\"\n"
    "set backend null\n"
    "peer \"beta\" {\n"
    "  principal kink/beta.example.org@EXAMPLE.ORG\n"
    "  address 192.0.2.2\n"
    "  esp transport from 192.0.2.1 to 192.0.2.2\n"
    "  esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 local 192.0.2.1\n"
    "  policy \"web\" esp transport from 2001:db8::1 to 2001:db8::2 "
    "port 443 proto tcp\n"
    "}\n"
    "peer \"gamma\" {\n"
    "  principal kink/gamma.example.org@EXAMPLE.ORG\n"
    "  esp transport from 192.0.2.1 to 198.51.100.7\n"
    "}\n"
    "peer \"site\" {\n"
    "  addresses 10.0.0.0/8 2001:db8:5::/48\n"
    "  principal \"kink/%{host}@EXAMPLE.ORG\"\n"
    "  esp transport from me to peer\n"
    "}\n";

static struct kink_conf *conf;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct bmsg m;
	uint8_t out[BM_MAX];
	char why[256];
	int r, n, i, j, ok;

	if (conf == NULL) {
		struct conf_errors e;

		memset(&e, 0, sizeof(e));
		conf = conf_parse_buf("fuzz", conf_text, strlen(conf_text),
		    NULL, &e);
		conf_errors_free(&e);
		CHECK(conf != NULL);
	}
	/* The engine's parser of the answers (R_CAPS's lists) too. */
	r = bm_decode(data, len, BM_FROM_BROKER, &m);
	CHECK(r <= BM_OK && r >= BM_E_TEXT);
	if (r == BM_OK) {
		n = bm_encode(&m, out, sizeof(out));
		CHECK(n >= 0 && (size_t)n == len &&
		    memcmp(out, data, len) == 0);
	}
	r = bm_decode(data, len, BM_FROM_ENGINE, &m);
	CHECK(r <= BM_OK && r >= BM_E_TEXT);
	if (r != BM_OK)
		return 0;
	CHECK(bm_type_dir(m.bm_type) == BM_FROM_ENGINE);
	n = bm_encode(&m, out, sizeof(out));
	CHECK(n >= 0 && (size_t)n == len && memcmp(out, data, len) == 0);
	ok = bk_check(conf, &m, why, sizeof(why));
	CHECK(ok == 0 || ok == 1);
	CHECK(ok == 1 || why[0] != '\0');
	CHECK(memchr(why, '\0', sizeof(why)) != NULL);
	/* the test build's knobs never pass the check */
	CHECK(!ok || (m.bm_type != BM_TEST && m.bm_type != BM_TEST_EVENT));
	/* a larval delete never names a live SA */
	CHECK(!ok || m.bm_type != BM_DEL_LARVAL || m.bm_sa.sa_spi == 0);
	if (ok && (m.bm_type == BM_SPD_ADD || m.bm_type == BM_SPD_DEL ||
	    m.bm_type == BM_SPD_REPAIR || m.bm_type == BM_SPD_GET)) {
		int found = 0;

		for (i = 0; i < conf->c_npeers; i++)
			for (j = 0; j < conf->c_peers[i].p_npolicies; j++)
				found |= conf->c_peers[i].p_policies[j].
				    pol_reqid == m.bm_pol.pol_reqid;
		CHECK(found);
	}
	return 0;
}
