/*
 * Heimdal-only helpers of the Kerberos layer (src/krb_heimdal.c), for
 * krb.c.  Includes krb5 types: nothing outside src/krb*.c may include it.
 */
#ifndef KINK_KRB_HEIMDAL_H
#define KINK_KRB_HEIMDAL_H

#ifdef KINK_HEIMDAL
#include "krb_int.h"

/* The RFC-meaningful cause of a failed rd_req of `in` (NOT_US,
 * BADKEYVER, MSG_TYPE), else err itself. */
krb_err	krb_hd_rd_req_why(const struct krb_verifier *, const krb5_data *in, krb_err err);
/* `in` verified without the ticket's time check: its session key and
 * authenticator (both the caller's), or an error. */
krb_err	krb_hd_rd_req_untimed(const struct krb_verifier *, const krb5_data *in,
	    krb5_keyblock **key, krb_authp *auth);
#endif

#endif
