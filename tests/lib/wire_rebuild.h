/*
 * Shared by the wire unit test and the wire fuzzer (header-only because the
 * fuzzer links only build-fuzz/libkink.a, not tests/lib/test.c).
 */
#ifndef KINK_WIRE_REBUILD_H
#define KINK_WIRE_REBUILD_H

#include "buf.h"
#include "kink.h"
#include "wire.h"

/*
 * Rebuild a parsed message with the builder, in the canonical order the
 * golden files use: AP_REQ/AP_REP, TGT_REQ/TGT_REP, KRB_ERROR, KINK_ERROR,
 * ISAKMP..., ENCRYPT (ciphertext copied as is), then the Cksum.
 */
static inline int
wire_test_rebuild(const struct kink_msg *m, struct buf *out)
{
	struct kink_builder kb;
	struct rbuf plain;
	unsigned int i;

	wire_build_begin(&kb, out, m->m_type, m->m_doi, m->m_xid,
	    m->m_flags & KINK_ACKREQ);
	if (wire_has(m, KINK_AP_REQ))
		wire_build_ap_req(&kb, m->m_ap_req_epoch, m->m_ap_req.rb_p,
		    m->m_ap_req.rb_len);
	if (wire_has(m, KINK_AP_REP))
		wire_build_ap_rep(&kb, m->m_ap_rep_epoch, m->m_ap_rep.rb_p,
		    m->m_ap_rep.rb_len);
	if (wire_has(m, KINK_TGT_REQ))
		wire_build_tgt_req(&kb, m->m_tgt_req.rb_p, m->m_tgt_req.rb_len);
	if (wire_has(m, KINK_TGT_REP))
		wire_build_tgt_rep(&kb, m->m_tgt_rep.rb_p, m->m_tgt_rep.rb_len);
	if (wire_has(m, KINK_KRB_ERROR))
		wire_build_krb_error(&kb, m->m_krb_error.rb_p,
		    m->m_krb_error.rb_len);
	if (wire_has(m, KINK_ERROR))
		wire_build_error(&kb, m->m_error);
	for (i = 0; i < m->m_nisakmp; i++)
		wire_build_isakmp(&kb, m->m_isakmp[i].ip_inner_next,
		    m->m_isakmp[i].ip_qmver, m->m_isakmp[i].ip_body.rb_p,
		    m->m_isakmp[i].ip_body.rb_len);
	if (wire_has(m, KINK_ENCRYPT)) {
		wire_build_encrypt_begin(&kb);
		wire_build_encrypt_plain(&kb, &plain);
		wire_build_encrypt_end(&kb, m->m_encrypt.rb_p,
		    m->m_encrypt.rb_len);
	}
	wire_build_finish(&kb, NULL);
	if (m->m_cksumlen > 0)
		wire_build_cksum(&kb, m->m_cksum.rb_p, m->m_cksum.rb_len);
	return kb.kb_err;
}

#endif
