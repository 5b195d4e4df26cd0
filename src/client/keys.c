/*
 * keys.c: the member's side of key distribution (RFC 5275 5 and 5.1):
 * verify a glKey message, unwrap the KEK (for the key store, keystore.c,
 * bound to the distributing GLA: section 8), and acknowledge it (5.1 2.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"
#include "cms/skd_recip.h"
#include "client/client_local.h"

/* glKey.glkWrapped is a RecipientInfos (SET OF RecipientInfo) kept as SET
 * OF ANY by the asn1 module; this template re-encodes it for cms_ri.c. */
typedef STACK_OF(ASN1_TYPE) CLIENT_RI_SET;
ASN1_ITEM_TEMPLATE(CLIENT_RI_SET) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, RecipientInfos, ASN1_ANY)
static_ASN1_ITEM_TEMPLATE_END(CLIENT_RI_SET)

char *
skd_client_hex(const unsigned char *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s;
	size_t i;

	if ((s = OPENSSL_malloc(2 * len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * len] = '\0';
	return s;
}

void
skd_client_key_clear(struct skd_client_key *k)
{
	OPENSSL_free(k->gl_name);
	OPENSSL_free(k->gla_subject);
	OPENSSL_free(k->key_id);
	OPENSSL_clear_free(k->kek, k->kek_len);
	OPENSSL_cleanse(k, sizeof(*k));
}

void
skd_client_key_free(struct skd_client_key *k)
{
	if (k == NULL)
		return;
	skd_client_key_clear(k);
	OPENSSL_free(k);
}

void
skd_client_keys_free(struct skd_client_key *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		skd_client_key_clear(&v[i]);
	OPENSSL_free(v);
}

int
skd_client_key_copy(struct skd_client_key *dst, const struct skd_client_key *src)
{
	*dst = *src;
	dst->gl_name = OPENSSL_strdup(src->gl_name);
	dst->gla_subject = OPENSSL_strdup(src->gla_subject);
	dst->key_id = OPENSSL_memdup(src->key_id, src->key_id_len);
	dst->kek = OPENSSL_memdup(src->kek, src->kek_len);
	if (dst->gl_name == NULL || dst->gla_subject == NULL ||
	    dst->key_id == NULL || dst->kek == NULL) {
		skd_client_key_clear(dst);
		return 0;
	}
	return 1;
}

int
skd_client_kek_len(int nid)
{
	if (nid == NID_id_aes128_wrap)
		return 16;
	if (nid == NID_id_aes192_wrap)
		return 24;
	if (nid == NID_id_aes256_wrap)
		return 32;
	return -1;
}

static int
time_of(time_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	*out = timegm(&tm);
	return 1;
}

/* ---- glKey messages ---- */

/*
 * RFC 5275 5: a glKey of a GLA-controlled rollover may be wrapped by kekri
 * under a previously distributed KEK.  Opens the kekri of ri whose
 * keyIdentifier names a key of ks; RFC 5275 section 8: only a key of the
 * same GL (gl) from the same GLA (fp, SHA-256 of the signer) is used, and
 * RFC 5275 6.2: one at least want bytes long.  Returns one with *out_kek
 * set (skd_ri_free_key), zero with err set.
 */
static int
open_by_kekri(unsigned char **out_kek, size_t *out_len,
    const unsigned char *ri, size_t ri_len, const SKD_GL_KEY *g,
    X509 *signer, const struct skd_client_keystore *ks, size_t want,
    struct skd_client_error *err)
{
	struct skd_ri_entry *list = NULL;
	const struct skd_client_key *pk;
	unsigned char fp[32];
	unsigned int fplen = 0;
	char *gl = NULL;
	size_t n = 0, i;
	int bound = 0, found = 0, ok = 0;

	*out_kek = NULL;
	*out_len = 0;
	if (!skd_ri_list_recipients(&list, &n, ri, ri_len) ||
	    (gl = skd_gname_to_text(g->glName)) == NULL ||
	    !X509_digest(signer, EVP_sha256(), fp, &fplen)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glKey: bad glkWrapped");
		goto err;
	}
	for (i = 0; i < n && !ok; i++) {
		if (list[i].type != SKD_RI_KEKRI || list[i].id == NULL ||
		    (pk = skd_client_keystore_find(ks, list[i].id,
		    list[i].id_len)) == NULL)
			continue;
		found = 1;
		if (!skd_client_same_gl(pk->gl_name, gl) ||
		    memcmp(pk->gla_fp, fp, sizeof(fp)) != 0)
			continue;
		bound = 1;
		if (pk->kek_len < want)
			continue;
		ok = skd_ri_open_kek(out_kek, out_len, ri, ri_len, pk->kek,
		    pk->kek_len, list[i].id, list[i].id_len);
	}
	if (!ok && found && !bound)
		skd_client_seterr(err, SKD_CLIENT_ERR_GLA_BINDING,
		    "glKey refused: its kekri names a stored key of another "
		    "GL or another GLA (RFC 5275 section 8)");
	else if (!ok)
		skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "glKey: no RecipientInfo for our certificate or our "
		    "stored keys could be decrypted");
 err:
	OPENSSL_free(gl);
	skd_ri_free_list(list, n);
	return ok;
}

/*
 * glkey_tid keeps the transactionId of the glKey message in k, for the
 * acknowledgement to echo (RFC 5275 3.2.4.2, 5.1 2.c): it is how the GLA
 * knows which key is acknowledged.  A message with none, or with more
 * than one, leaves k without one.
 */
static void
glkey_tid(struct skd_client_key *k, const SKD_PKI_DATA *pd)
{
	const SKD_TAGGED_ATTRIBUTE *ta;
	ASN1_INTEGER *tid = NULL;
	unsigned char *p = k->tid_der;
	int len;

	k->tid_len = 0;
	if ((ta = skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_CMC_TRANSACTION_ID, 0)) == NULL ||
	    skd_cmc_find_control(pd->controlSequence,
	    SKD_OID_CMC_TRANSACTION_ID, 1) != NULL ||
	    sk_ASN1_TYPE_num(ta->attrValues) != 1 ||
	    (tid = skd_tagged_attribute_decode1(ta, 0,
	    ASN1_ITEM_rptr(ASN1_INTEGER))) == NULL)
		goto err;
	if ((len = i2d_ASN1_INTEGER(tid, NULL)) > 0 &&
	    (size_t)len <= sizeof(k->tid_der) &&
	    i2d_ASN1_INTEGER(tid, &p) == len)
		k->tid_len = (size_t)len;
 err:
	ASN1_INTEGER_free(tid);
	ERR_clear_error();
}

/* Fills k from one glKey (RFC 5275 3.1.13) signed by signer. */
static int
glkey_one(struct skd_client_key *k, const SKD_GL_KEY *g, X509 *signer,
    long bpid, const struct skd_client_glkey_opts *o,
    struct skd_client_error *err)
{
	unsigned char *ri = NULL, *kek = NULL;
	size_t kek_len = 0;
	int ri_len, want, ok = 0;
	unsigned int mdlen = 0;
	GENERAL_NAME *exp = NULL;
	BIO *b = NULL;
	BUF_MEM *bm;

	memset(k, 0, sizeof(*k));
	k->body_part_id = bpid;
	/* The GLA signs with a certificate naming the GL (RFC 5275 3.2.6,
	 * 5): otherwise the key is not the GL's. */
	if (!skd_gname_match_cert(g->glName, signer))
		return skd_client_seterr(err, SKD_CLIENT_ERR_NAME,
		    "glKey refused: the signer's certificate does not name "
		    "the GL");
	if (o->gl_name != NULL) {
		if ((exp = skd_client_gname(o->gl_name, "GL name", err)) ==
		    NULL)
			return 0;
		ok = skd_gname_match(exp, g->glName);
		GENERAL_NAME_free(exp);
		if (!ok)
			return skd_client_seterr(err, SKD_CLIENT_ERR_NAME,
			    "glKey is for another GL than %s", o->gl_name);
		ok = 0;
	}
	k->alg_nid = OBJ_obj2nid(g->glkAlgorithm->algorithm);
	if ((want = skd_client_kek_len(k->alg_nid)) < 0)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glKey: unsupported glkAlgorithm");
	if (!time_of(&k->not_before, g->glkNotBefore) ||
	    !time_of(&k->not_after, g->glkNotAfter) ||
	    k->not_after <= k->not_before)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glKey: bad validity dates");
	if ((ri_len = ASN1_item_i2d((ASN1_VALUE *)g->glkWrapped, &ri,
	    ASN1_ITEM_rptr(CLIENT_RI_SET))) <= 0)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glKey: bad glkWrapped");
	if (skd_ri_open_cert(&kek, &kek_len, ri, (size_t)ri_len,
	    o->ident->cert, o->ident->key)) {
		/* ktri or kari for our certificate */
	} else if (o->keystore != NULL) {
		ERR_clear_error();
		if (!open_by_kekri(&kek, &kek_len, ri, (size_t)ri_len, g,
		    signer, o->keystore, (size_t)want, err))
			goto err;
		k->via_kekri = 1;
	} else {
		skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
		    "glKey: no RecipientInfo for our certificate could be "
		    "decrypted");
		goto err;
	}
	if (kek_len != (size_t)want) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "glKey: KEK length does not fit glkAlgorithm");
		goto err;
	}
	if ((k->gl_name = skd_gname_to_text(g->glName)) == NULL ||
	    (k->key_id = OPENSSL_memdup(ASN1_STRING_get0_data(
	    g->glIdentifier->keyIdentifier), (size_t)ASN1_STRING_length(
	    g->glIdentifier->keyIdentifier))) == NULL ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(b, X509_get_subject_name(signer), 0,
	    XN_FLAG_RFC2253) < 0 || BIO_write(b, "", 1) != 1 ||
	    !X509_digest(signer, EVP_sha256(), k->gla_fp, &mdlen))
		goto nomem;
	k->key_id_len = (size_t)ASN1_STRING_length(
	    g->glIdentifier->keyIdentifier);
	BIO_get_mem_ptr(b, &bm);
	if (k->key_id_len == 0 ||
	    (k->gla_subject = OPENSSL_strdup(bm->data)) == NULL)
		goto nomem;
	if ((k->kek = OPENSSL_memdup(kek, kek_len)) == NULL)
		goto nomem;
	k->kek_len = kek_len;
	ok = 1;
	goto err;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
	    "glKey: cannot record the key");
 err:
	BIO_free(b);
	skd_ri_free_key(kek, kek_len);
	OPENSSL_free(ri);
	if (!ok)
		skd_client_key_clear(k);
	return ok;
}

int
skd_client_glkey_open(struct skd_client_key **out_keys, size_t *out_n,
    const unsigned char *der, size_t len,
    const struct skd_client_glkey_opts *o, struct skd_client_error *err)
{
	struct skd_layers_opts lo;
	struct skd_cms_opener op;
	struct skd_layers *l = NULL;
	const struct skd_layer *body = NULL, *sig;
	const SKD_TAGGED_ATTRIBUTE *ta;
	struct skd_client_key *v = NULL, *nv;
	SKD_GL_KEY *g = NULL;
	size_t i, n = 0;
	int idx, j, ok = 0;
	time_t st;

	*out_keys = NULL;
	*out_n = 0;
	if (o->trust == NULL || o->ident == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "trust anchors and the member's certificate and key are "
		    "needed to open glKey messages");
	memset(&lo, 0, sizeof(lo));
	memset(&op, 0, sizeof(op));
	op.cert = o->ident->cert;
	op.key = o->ident->key;
	lo.trust = o->trust;
	lo.now = o->now;
	lo.opener = &op;
	if (!skd_layers_walk(&l, der, len, &lo) && l == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	for (i = 0; i < l->n; i++) {
		const struct skd_layer *y = &l->v[i];

		if (y->error[0] != '\0') {
			skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "glKey message refused: %s: %s",
			    skd_layer_type_name(y->type), y->error);
			goto err;
		}
		if (y->type == SKD_LAYER_SIGNED &&
		    y->verified->path != SKD_CMS_PATH_OK) {
			skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "glKey message refused: signer path: %s",
			    y->verified->path_error_string);
			goto err;
		}
		if (y->type == SKD_LAYER_PKI_DATA && body == NULL)
			body = y;
	}
	if (body == NULL || body->parent < 0 ||
	    (sig = &l->v[body->parent])->type != SKD_LAYER_SIGNED) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "not a signed glKey message");
		goto err;
	}
	/* signingTime (RFC 5275 3.2.4.3): not from the future, not stale. */
	st = sig->verified->signing_time;
	if (st > o->now + o->max_future ||
	    (o->max_age > 0 && st < o->now - o->max_age)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_TIME,
		    "glKey message refused: signingTime outside the "
		    "accepted window");
		goto err;
	}
	for (idx = 0; (ta = skd_cmc_find_control(
	    body->pki_data->controlSequence, SKD_OID_GL_KEY, idx)) != NULL;
	    idx++) {
		for (j = 0; j < sk_ASN1_TYPE_num(ta->attrValues); j++) {
			if ((g = skd_tagged_attribute_decode1(ta, j,
			    ASN1_ITEM_rptr(SKD_GL_KEY))) == NULL) {
				skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
				    "malformed glKey");
				goto err;
			}
			if ((nv = OPENSSL_realloc(v, (n + 1) * sizeof(*v))) ==
			    NULL) {
				skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
				    "out of memory");
				goto err;
			}
			v = nv;
			if (!glkey_one(&v[n], g, sig->verified->signer,
			    ASN1_INTEGER_get(ta->bodyPartID), o, err))
				goto err;
			glkey_tid(&v[n], body->pki_data);
			n++;
			SKD_GL_KEY_free(g);
			g = NULL;
		}
	}
	if (n == 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "the message carries no glKey");
		goto err;
	}
	*out_keys = v;
	*out_n = n;
	v = NULL;
	ok = 1;
 err:
	SKD_GL_KEY_free(g);
	skd_client_keys_free(v, n);
	skd_layers_free(l);
	ERR_clear_error();
	return ok;
}

int
skd_client_ack_build(unsigned char **out, size_t *out_len,
    const struct skd_client_key *k, const struct skd_client_ident *id,
    time_t now, struct skd_client_error *err)
{
	struct skd_cmc_body *b = NULL;
	ASN1_INTEGER *tid = NULL;
	const unsigned char *p = k->tid_der;
	char *hex = NULL, *msg = NULL;
	int ok = 0;

	*out = NULL;
	if ((hex = skd_client_hex(k->key_id, k->key_id_len)) == NULL ||
	    (msg = OPENSSL_zalloc(strlen(hex) + 32)) == NULL ||
	    (b = skd_cmc_body_new(1)) == NULL)
		goto err;
	snprintf(msg, strlen(hex) + 32, "glKey received: %s", hex);
	/* RFC 5275 5.1 2.c: cMCStatusInfoExt success naming the glKey's
	 * body part, in answer to the glKey message: its transactionId
	 * echoed (3.2.4.2).  The statusString is for people. */
	if (k->tid_len > 0 && ((tid = d2i_ASN1_INTEGER(NULL, &p,
	    (long)k->tid_len)) == NULL ||
	    skd_cmc_body_add_transaction_id(b, tid) == 0))
		goto err;
	if (skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, &k->body_part_id, 1,
	    msg, -1, -1) == 0 ||
	    !skd_client_protect_response(out, out_len, b, id, now))
		goto err;
	ok = 1;
 err:
	if (!ok)
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "cannot build the acknowledgement");
	ASN1_INTEGER_free(tid);
	OPENSSL_free(msg);
	OPENSSL_free(hex);
	skd_cmc_body_free(b);
	return ok;
}
