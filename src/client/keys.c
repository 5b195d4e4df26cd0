/*
 * keys.c: the member's side of key distribution (RFC 5275 5 and 5.1):
 * verify a glKey message, unwrap the KEK, keep it in a local key store
 * bound to the distributing GLA (section 8), and acknowledge it (5.1 2.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "cms/skd_cmc.h"
#include "cms/skd_layers.h"
#include "cms/skd_recip.h"
#include "client/client_local.h"

#define KEYSTORE_MAGIC	"skd-keystore 1"
#define KEYSTORE_MAX	(16L * 1024 * 1024)

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

static void
key_clear(struct skd_client_key *k)
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
	key_clear(k);
	OPENSSL_free(k);
}

void
skd_client_keys_free(struct skd_client_key *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		key_clear(&v[i]);
	OPENSSL_free(v);
}

static int
key_copy(struct skd_client_key *dst, const struct skd_client_key *src)
{
	*dst = *src;
	dst->gl_name = OPENSSL_strdup(src->gl_name);
	dst->gla_subject = OPENSSL_strdup(src->gla_subject);
	dst->key_id = OPENSSL_memdup(src->key_id, src->key_id_len);
	dst->kek = OPENSSL_memdup(src->kek, src->kek_len);
	if (dst->gl_name == NULL || dst->gla_subject == NULL ||
	    dst->key_id == NULL || dst->kek == NULL) {
		key_clear(dst);
		return 0;
	}
	return 1;
}

static int
kek_len_for(int nid)
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

static int same_gl(const char *a, const char *b);

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
		if (!same_gl(pk->gl_name, gl) ||
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
	if ((want = kek_len_for(k->alg_nid)) < 0)
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
		key_clear(k);
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
	char *hex = NULL, *msg = NULL;
	int ok = 0;

	*out = NULL;
	if ((hex = skd_client_hex(k->key_id, k->key_id_len)) == NULL ||
	    (msg = OPENSSL_zalloc(strlen(hex) + 32)) == NULL ||
	    (b = skd_cmc_body_new(1)) == NULL)
		goto err;
	snprintf(msg, strlen(hex) + 32, "glKey received: %s", hex);
	/* RFC 5275 5.1 2.c: cMCStatusInfoExt success naming the glKey. */
	if (skd_cmc_body_add_status(b, SKD_CMC_SUCCESS, &k->body_part_id, 1,
	    msg, -1, -1) == 0 ||
	    !skd_client_protect_response(out, out_len, b, id, now))
		goto err;
	ok = 1;
 err:
	if (!ok)
		skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "cannot build the acknowledgement");
	OPENSSL_free(msg);
	OPENSSL_free(hex);
	skd_cmc_body_free(b);
	return ok;
}

/* ---- the key store ---- */

struct skd_client_keystore {
	char			*path;
	struct skd_client_key	*v;
	size_t			 n;
};

void
skd_client_keystore_free(struct skd_client_keystore *ks)
{
	if (ks == NULL)
		return;
	skd_client_keys_free(ks->v, ks->n);
	OPENSSL_free(ks->path);
	OPENSSL_free(ks);
}

size_t
skd_client_keystore_count(const struct skd_client_keystore *ks)
{
	return ks->n;
}

const struct skd_client_key *
skd_client_keystore_at(const struct skd_client_keystore *ks, size_t i)
{
	return i < ks->n ? &ks->v[i] : NULL;
}

static unsigned char *
unhex(const char *s, size_t *out_len)
{
	long n = 0;
	unsigned char *p;

	if (*s == '\0' || strchr(s, ':') != NULL)
		return NULL;
	if ((p = OPENSSL_hexstr2buf(s, &n)) == NULL || n <= 0) {
		OPENSSL_free(p);
		ERR_clear_error();
		return NULL;
	}
	*out_len = (size_t)n;
	return p;
}

/* Parses one line (modified in place) into k. */
static int
parse_line(struct skd_client_key *k, char *line)
{
	char *f[8], *save = NULL, *t;
	unsigned char *fp = NULL;
	size_t fp_len = 0, i = 0;
	ASN1_OBJECT *o;

	memset(k, 0, sizeof(*k));
	for (t = strtok_r(line, "\t", &save); t != NULL && i < 8;
	    t = strtok_r(NULL, "\t", &save))
		f[i++] = t;
	if (i != 8 || t != NULL)
		return 0;
	if ((k->gl_name = OPENSSL_strdup(f[0])) == NULL ||
	    (k->gla_subject = OPENSSL_strdup(f[1])) == NULL)
		goto err;
	if ((fp = unhex(f[2], &fp_len)) == NULL || fp_len != 32)
		goto err;
	memcpy(k->gla_fp, fp, 32);
	if ((k->key_id = unhex(f[3], &k->key_id_len)) == NULL)
		goto err;
	if ((o = OBJ_txt2obj(f[4], 1)) == NULL)
		goto err;
	k->alg_nid = OBJ_obj2nid(o);
	ASN1_OBJECT_free(o);
	if (!skd_store_time_parse(&k->not_before, f[5]) ||
	    !skd_store_time_parse(&k->not_after, f[6]))
		goto err;
	if ((k->kek = unhex(f[7], &k->kek_len)) == NULL ||
	    (int)k->kek_len != kek_len_for(k->alg_nid))
		goto err;
	OPENSSL_free(fp);
	return 1;
 err:
	OPENSSL_free(fp);
	key_clear(k);
	ERR_clear_error();
	return 0;
}

struct skd_client_keystore *
skd_client_keystore_open(const char *path, int create,
    struct skd_client_error *err)
{
	struct skd_client_keystore *ks = NULL;
	struct stat sb;
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, lineno = 0;
	ssize_t r;
	int fd = -1;
	struct skd_client_key *nv;

	if ((ks = OPENSSL_zalloc(sizeof(*ks))) == NULL ||
	    (ks->path = OPENSSL_strdup(path)) == NULL)
		goto nomem;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && create)
			return ks;
		skd_client_seterr(err, errno == ENOENT ?
		    SKD_CLIENT_ERR_NO_KEY : SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: %s", path, strerror(errno));
		goto err;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: not a regular file", path);
		goto err;
	}
	/* It holds KEKs in the clear: nobody else may read it. */
	if ((sb.st_mode & 077) != 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: refusing a file with group or other "
		    "permissions (chmod 600)", path);
		goto err;
	}
	if (sb.st_size > KEYSTORE_MAX) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: too large", path);
		goto err;
	}
	if ((buf = OPENSSL_malloc((size_t)sb.st_size + 1)) == NULL)
		goto nomem;
	while (len < (size_t)sb.st_size && (r = read(fd, buf + len,
	    (size_t)sb.st_size - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lineno++) {
		if (lineno == 0) {
			if (strcmp(line, KEYSTORE_MAGIC) != 0)
				break;
			continue;
		}
		if ((nv = OPENSSL_realloc(ks->v, (ks->n + 1) *
		    sizeof(*nv))) == NULL)
			goto nomem;
		ks->v = nv;
		if (!parse_line(&ks->v[ks->n], line))
			break;
		ks->n++;
	}
	if (lineno == 0 || line != NULL) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: malformed at line %zu", path, lineno + 1);
		goto err;
	}
	OPENSSL_clear_free(buf, (size_t)sb.st_size + 1);
	close(fd);
	return ks;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	if (buf != NULL)
		OPENSSL_clear_free(buf, (size_t)sb.st_size + 1);
	if (fd >= 0)
		close(fd);
	skd_client_keystore_free(ks);
	return NULL;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t r;

	while (len > 0) {
		if ((r = write(fd, p, len)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return 0;
		}
		p += r;
		len -= (size_t)r;
	}
	return 1;
}

int
skd_client_keystore_save(struct skd_client_keystore *ks,
    struct skd_client_error *err)
{
	BIO *b = NULL;
	char *tmp = NULL, *fp = NULL, *id = NULL, *kek = NULL;
	char nb[16], na[16], oid[80];
	BUF_MEM *bm;
	size_t i;
	int fd = -1, ok = 0;

	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    BIO_printf(b, "%s\n", KEYSTORE_MAGIC) <= 0)
		goto nomem;
	for (i = 0; i < ks->n; i++) {
		const struct skd_client_key *k = &ks->v[i];

		if ((fp = skd_client_hex(k->gla_fp, 32)) == NULL ||
		    (id = skd_client_hex(k->key_id, k->key_id_len)) == NULL ||
		    (kek = skd_client_hex(k->kek, k->kek_len)) == NULL ||
		    OBJ_obj2txt(oid, sizeof(oid), OBJ_nid2obj(k->alg_nid),
		    1) <= 0)
			goto nomem;
		skd_store_time_str(nb, k->not_before);
		skd_store_time_str(na, k->not_after);
		if (BIO_printf(b, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		    k->gl_name, k->gla_subject, fp, id, oid, nb, na, kek) <= 0)
			goto nomem;
		OPENSSL_free(fp);
		OPENSSL_free(id);
		OPENSSL_clear_free(kek, strlen(kek));
		fp = id = kek = NULL;
	}
	BIO_get_mem_ptr(b, &bm);
	if ((tmp = OPENSSL_zalloc(strlen(ks->path) + 8)) == NULL)
		goto nomem;
	snprintf(tmp, strlen(ks->path) + 8, "%s.tmp", ks->path);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 || fchmod(fd, 0600) != 0 ||
	    !write_all(fd, bm->data, bm->length) || fsync(fd) != 0 ||
	    close(fd) != 0) {
		fd = -1;
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: cannot write: %s", tmp, strerror(errno));
		(void)unlink(tmp);
		goto err;
	}
	fd = -1;
	if (rename(tmp, ks->path) != 0) {
		skd_client_seterr(err, SKD_CLIENT_ERR_KEYSTORE,
		    "key store %s: %s", ks->path, strerror(errno));
		(void)unlink(tmp);
		goto err;
	}
	ok = 1;
	goto err;
 nomem:
	skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL, "out of memory");
 err:
	if (fd >= 0)
		close(fd);
	OPENSSL_free(tmp);
	OPENSSL_free(fp);
	OPENSSL_free(id);
	if (kek != NULL)
		OPENSSL_clear_free(kek, strlen(kek));
	BIO_free(b);		/* secure memory: wiped */
	return ok;
}

static int
same_gl(const char *a, const char *b)
{
	GENERAL_NAME *ga = skd_gname_from_text(a), *gb = skd_gname_from_text(b);
	int r = ga != NULL && gb != NULL && skd_gname_match(ga, gb);

	if (ga == NULL || gb == NULL)
		r = strcmp(a, b) == 0;
	GENERAL_NAME_free(ga);
	GENERAL_NAME_free(gb);
	return r;
}

int
skd_client_keystore_add(struct skd_client_keystore *ks,
    const struct skd_client_key *k, int *out_added,
    struct skd_client_error *err)
{
	struct skd_client_key *nv;
	size_t i;

	if (out_added != NULL)
		*out_added = 0;
	if (strpbrk(k->gl_name, "\t\n") != NULL ||
	    strpbrk(k->gla_subject, "\t\n") != NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INPUT,
		    "names with tabs or newlines cannot be stored");
	for (i = 0; i < ks->n; i++) {
		const struct skd_client_key *o = &ks->v[i];

		if (!same_gl(o->gl_name, k->gl_name))
			continue;
		/* RFC 5275 section 8: the member associates the GLA's name
		 * with the GL and refuses keys from any other GLA. */
		if (memcmp(o->gla_fp, k->gla_fp, sizeof(k->gla_fp)) != 0)
			return skd_client_seterr(err,
			    SKD_CLIENT_ERR_GLA_BINDING, "key for %s refused: "
			    "it comes from GLA \"%s\", the list's keys came "
			    "from \"%s\" (RFC 5275 section 8)", k->gl_name,
			    k->gla_subject, o->gla_subject);
		if (o->key_id_len == k->key_id_len &&
		    memcmp(o->key_id, k->key_id, k->key_id_len) == 0) {
			if (o->kek_len == k->kek_len && CRYPTO_memcmp(o->kek,
			    k->kek, k->kek_len) == 0)
				return 1;
			return skd_client_seterr(err, SKD_CLIENT_ERR_CRYPTO,
			    "key for %s refused: another KEK with the same "
			    "identifier is stored", k->gl_name);
		}
	}
	if ((nv = OPENSSL_realloc(ks->v, (ks->n + 1) * sizeof(*nv))) == NULL)
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	ks->v = nv;
	if (!key_copy(&ks->v[ks->n], k))
		return skd_client_seterr(err, SKD_CLIENT_ERR_INTERNAL,
		    "out of memory");
	ks->n++;
	if (out_added != NULL)
		*out_added = 1;
	return 1;
}

const struct skd_client_key *
skd_client_keystore_find(const struct skd_client_keystore *ks,
    const unsigned char *id, size_t id_len)
{
	size_t i;

	for (i = 0; i < ks->n; i++) {
		if (ks->v[i].key_id_len == id_len &&
		    memcmp(ks->v[i].key_id, id, id_len) == 0)
			return &ks->v[i];
	}
	return NULL;
}

const struct skd_client_key *
skd_client_keystore_current(const struct skd_client_keystore *ks,
    const char *gl, time_t now)
{
	const struct skd_client_key *best = NULL;
	size_t i;

	/*
	 * The newest key valid now; of keys with the same notBefore, the one
	 * received last (keys are kept in the order they were fetched): a
	 * rekey within the same second as the key it replaces (after a member
	 * was removed, RFC 5275 section 8) must win over the old key.
	 */
	for (i = 0; i < ks->n; i++) {
		const struct skd_client_key *k = &ks->v[i];

		if (k->not_before <= now && now < k->not_after &&
		    same_gl(k->gl_name, gl) &&
		    (best == NULL || k->not_before >= best->not_before))
			best = k;
	}
	return best;
}
