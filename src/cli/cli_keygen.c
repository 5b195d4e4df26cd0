/*
 * cli_keygen.c: "skd keygen", the client of CMC server-side key
 * generation (docs/man/skd-keygen.1): builds the request from a key type
 * and the signer's (or a given) subject, submits it through the
 * directory, waits, checks the CA's answer, opens the shroud, checks that
 * the key is the certificate's and that the certificate chains to
 * --CAfile, and writes the key (PKCS#8 PEM, encrypted under a passphrase
 * with --passphrase-fd) and the certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "client/skd_client.h"
#include "client/skd_keygen.h"
#include "cms/skd_authdata.h"
#include "cms/skd_cmc.h"
#include "cms/skd_cms.h"
#include "store/skd_store.h"

static const char keygen_usage[] =
    "usage: skd keygen --cert FILE --key FILE --CAfile FILE --type TYPE\n"
    "        --out KEY.pem --out-cert CERT.pem [--subject DN]\n"
    "        [--shroud bare|cert|cert-id] [--shroud-cert FILE --shroud-key FILE]\n"
    "        [--no-archive] [--passphrase-fd N] [--timeout SECONDS]\n"
    "        [--template p10|crmf]\n"
    "        [--secret-id STRING --secret-fd N] (instead of --cert/--key)\n"
    "        [--request-out FILE | --answer FILE --request FILE] (via an RA)\n"
    "        [--request-out FILE --mail-to ADDRESS [--mail-from ADDRESS]\n"
    "         [--smtp URL [--starttls] | --sendmail PATH]\n"
    "         | --mail FILE|MAILDIR --request FILE] (by mail)\n"
    "        directory: --uri URI --base DN [--bind-dn DN --password-file F]\n"
    "                   | --env FILE --as WHO\n"
    "  TYPE: rsa2048, rsa3072, p256, p384.  --shroud bare (default): an\n"
    "  ephemeral key protects the answer (draft 2.3); cert: --shroud-cert\n"
    "  (default --cert) travels in the request (2.4); cert-id: it is named;\n"
    "  secret: the shared secret of --secret-id protects it (2.1).  With\n"
    "  --secret-id the request is authenticated by that enrolled secret\n"
    "  (read from --secret-fd) instead of a signature (2.1, 2.2).\n"
    "  --template: the certification request, PKCS#10 (default) or CRMF\n"
    "  (RFC 4211; rsa3072 needs p10: CRMF's empty key carries no size).\n";

#define KEYGEN_OPTS "cert key CAfile CRLfile uri base bind-dn password-file " \
	"env as timeout type subject shroud shroud-cert shroud-key " \
	"no-archive out out-cert passphrase-fd secret-id secret-fd " \
	"request-out answer request template mail-to mail-from smtp " \
	"starttls sendmail mail"

static int
load_pem_key(const char *cmd, const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");

	*out = NULL;
	if (f != NULL) {
		*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (*out == NULL) {
		skd_cli_err(cmd, "%s: cannot read a PEM private key", path);
		return SKD_EXIT_INPUT;
	}
	return SKD_EXIT_OK;
}

/* cli.h: the passphrase from --passphrase-fd N (one line), or none. */
int
skd_cli_keygen_passphrase(const struct skd_cli_ctx *c, char *buf, size_t size,
    int *out_have)
{
	const char *v = skd_cli_ctx_opt(c, "passphrase-fd");
	char *end;
	long fd;
	ssize_t n;
	size_t len = 0;

	*out_have = 0;
	if (v == NULL)
		return SKD_EXIT_OK;
	fd = strtol(v, &end, 10);
	if (*end != '\0' || fd < 0 || fd > 1024) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--passphrase-fd: not a file "
		    "descriptor");
		return SKD_EXIT_USAGE;
	}
	while (len + 1 < size && (n = read((int)fd, buf + len, 1)) == 1 &&
	    buf[len] != '\n')
		len++;
	buf[len] = '\0';
	if (len == 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "empty passphrase");
		return SKD_EXIT_INPUT;
	}
	*out_have = 1;
	return SKD_EXIT_OK;
}

/* cli.h: the key (mode 0600) and, when cert_path is not NULL, the
 * certificate. */
int
skd_cli_keygen_write(const struct skd_cli_ctx *c, const char *key_path,
    const char *cert_path, EVP_PKEY *key, X509 *cert, const char *pass)
{
	FILE *f;
	int ok;

	int fd;

	/* The key file is private to its owner. */
	if ((fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: cannot write", key_path);
		return SKD_EXIT_INPUT;
	}
	ok = PEM_write_PKCS8PrivateKey(f, key, pass != NULL ?
	    EVP_aes_256_cbc() : NULL, pass != NULL ? (char *)pass : NULL,
	    pass != NULL ? (int)strlen(pass) : 0, NULL, NULL);
	if (fclose(f) != 0 || !ok) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: cannot write", key_path);
		return SKD_EXIT_INPUT;
	}
	if (cert_path == NULL)
		return SKD_EXIT_OK;
	if ((f = fopen(cert_path, "w")) == NULL || !PEM_write_X509(f, cert) ||
	    fclose(f) != 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: cannot write", cert_path);
		return SKD_EXIT_INPUT;
	}
	return SKD_EXIT_OK;
}

/*
 * Draft 8: the CA wants proof that we hold the key before it publishes
 * the certificate: the Decrypted POP (RFC 5272 6.7), signed like the
 * request or under its secret, submitted, its answer waited for.
 * res->status becomes the POP round's (0 when proven).
 */
/* cli.h */
int
skd_cli_keygen_main(const char *cmd, int argc, char **argv,
    const char *opts, const char *usage,
    int (*run_fn)(const struct skd_cli_ctx *))
{
	struct skd_cli_ctx *c;
	int rc;

	if ((c = skd_cli_ctx_parse(cmd, argc, argv, opts, usage, &rc)) == NULL)
		return rc;
	rc = run_fn(c);
	skd_cli_ctx_free(c);
	return rc;
}

/* cli.h */
int
skd_cli_keygen_timeout(const struct skd_cli_ctx *c, long *out)
{
	const char *t = skd_cli_ctx_opt(c, "timeout");
	char *end;

	*out = 30;
	if (t == NULL)
		return SKD_EXIT_OK;
	*out = strtol(t, &end, 10);
	if (*end != '\0' || *out < 0 || *out > 86400) {
		skd_cli_err(skd_cli_ctx_cmd(c), "--timeout: seconds, 0..86400");
		return SKD_EXIT_USAGE;
	}
	return SKD_EXIT_OK;
}

/* cli.h */
int
skd_cli_keygen_submit(const struct skd_cli_ctx *c, struct skd_store **io_s,
    const unsigned char *der, size_t len, long timeout, const char *what,
    struct skd_store_blob **out_msgs, size_t *out_n,
    char rid[SKD_STORE_ID_LEN])
{
	struct skd_client_error e;
	int rc;

	*out_msgs = NULL;
	*out_n = 0;
	if (*io_s == NULL && (rc = skd_cli_ctx_store(c, io_s)) != SKD_EXIT_OK)
		return rc;
	if (!skd_client_submit(*io_s, rid, der, len, skd_cli_ctx_bind_dn(c),
	    &e))
		return skd_cli_client_fail(c, &e);
	fprintf(stderr, "skd: %s: %s %s\n", skd_cli_ctx_cmd(c), what, rid);
	if (!skd_client_wait_response(*io_s, out_msgs, out_n, rid,
	    timeout * 1000, &e))
		return skd_cli_client_fail(c, &e);
	return SKD_EXIT_OK;
}

/* cli.h */
int
skd_cli_keygen_refused(const struct skd_cli_ctx *c,
    const struct skd_keygen_result *res)
{
	fprintf(stderr, "skd: %s: refused: %s%s%s%s%s\n", skd_cli_ctx_cmd(c),
	    res->fail >= 0 ? skd_cmc_failinfo_name(res->fail) : "",
	    res->ext_fail, res->text[0] != '\0' ? " (" : "", res->text,
	    res->text[0] != '\0' ? ")" : "");
	return SKD_EXIT_FAIL;
}

static int
pop_round(const struct skd_cli_ctx *c, struct skd_store *s,
    const struct skd_client_ident *id, const struct skd_keygen_req *r,
    struct skd_keygen_result *res, long timeout, X509_STORE *trust)
{
	const char *cmd = skd_cli_ctx_cmd(c);
	struct skd_keygen_result pr;
	struct skd_store_blob *msgs = NULL;
	unsigned char nonce[SKD_KEYGEN_NONCE_LEN], *der = NULL;
	char rid[SKD_STORE_ID_LEN];
	size_t len = 0, n = 0;
	int rc;

	memset(&pr, 0, sizeof(pr));
	/* Signed, or under the secret, as the request went (draft 8). */
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    !(id != NULL ? skd_keygen_pop_request(&der, &len, res,
	    (long)(time(NULL) & 0x7fffffff), nonce, id->cert, id->key,
	    id->chain, time(NULL)) : skd_keygen_pop_request_secret(&der, &len,
	    res, (long)(time(NULL) & 0x7fffffff), nonce, r->secret_id,
	    r->secret, r->secret_len))) {
		skd_cli_err(cmd, "cannot answer the Encrypted POP (popFailed)");
		return SKD_EXIT_CRYPTO;
	}
	if ((rc = skd_cli_keygen_submit(c, &s, der, len, timeout,
	    "proof of possession: submitted request", &msgs, &n, rid)) !=
	    SKD_EXIT_OK)
		goto done;
	if (!skd_keygen_open_pop(&pr, msgs[0].data, msgs[0].len, nonce, trust,
	    time(NULL))) {
		skd_cli_err(cmd, "answer to %s: %s", rid, pr.text);
		rc = SKD_EXIT_CRYPTO;
		goto done;
	}
	res->status = pr.status;
	res->fail = pr.fail;
	snprintf(res->text, sizeof(res->text), "%s", pr.text);
	rc = SKD_EXIT_OK;
 done:
	skd_keygen_result_clear(&pr);
	skd_store_blobs_free(msgs, n);
	OPENSSL_free(der);
	return rc;
}

/*
 * The RA flow (draft 2.5.2) from the client's side: --answer FILE is the
 * answer an RA handed back for our request --request FILE (written
 * earlier with --request-out), whose senderNonce the answer must echo.
 * *out_ans (free) the answer.
 */
static int
read_answer(const struct skd_cli_ctx *c,
    unsigned char nonce[SKD_KEYGEN_NONCE_LEN], unsigned char **out_ans,
    size_t *out_len)
{
	const char *cmd = skd_cli_ctx_cmd(c), *rq;
	struct skd_cms_verified *v = NULL;
	SKD_PKI_DATA *pd = NULL;
	unsigned char *req = NULL, *content = NULL, *n = NULL;
	const unsigned char *body;
	size_t req_len = 0, clen = 0, body_len, n_len = 0;
	int rc;

	*out_ans = NULL;
	if ((rc = skd_cli_ctx_need(c, "request", "REQUEST.der",
	    " (the request --answer answers)", &rq)) != SKD_EXIT_OK)
		return rc;
	/* --mail: the answer is found among the mails (mail_answer). */
	if ((req = skd_cli_read_input(rq, 1 << 20, &req_len)) == NULL ||
	    (skd_cli_ctx_opt(c, "answer") != NULL && (*out_ans =
	    skd_cli_read_input(skd_cli_ctx_opt(c, "answer"), 1 << 20,
	    out_len)) == NULL)) {
		rc = SKD_EXIT_INPUT;
		goto done;
	}
	if (skd_authdata_is(req, req_len)) {
		if (!skd_authdata_peek(&content, &clen, NULL, req, req_len))
			goto bad;
		body = content;
		body_len = clen;
	} else {
		if (!skd_cms_verify(&v, req, req_len, NULL, time(NULL)))
			goto bad;
		body = v->content;
		body_len = v->content_len;
	}
	if ((pd = skd_der_decode(ASN1_ITEM_rptr(SKD_PKI_DATA), body,
	    body_len)) == NULL || skd_cmc_get_nonce(pd->controlSequence,
	    SKD_OID_CMC_SENDER_NONCE, &n, &n_len) != 1 ||
	    n_len != SKD_KEYGEN_NONCE_LEN)
		goto bad;
	memcpy(nonce, n, n_len);
	rc = SKD_EXIT_OK;
	goto done;
 bad:
	skd_cli_err(cmd, "%s: not a key generation request of ours", rq);
	rc = SKD_EXIT_INPUT;
 done:
	if (rc != SKD_EXIT_OK) {
		free(*out_ans);
		*out_ans = NULL;
	}
	OPENSSL_free(n);
	OPENSSL_free(content);
	SKD_PKI_DATA_free(pd);
	skd_cms_verified_free(v);
	free(req);
	ERR_clear_error();
	return rc;
}

/* One mail of --mail FILE|MAILDIR tried as the answer. */
struct mail_try {
	struct skd_keygen_result	*res;
	const unsigned char		*nonce;
	const struct skd_shroud_opener	*who;
	X509_STORE			*trust;
	int				 tried;
};

static int
mail_try(void *arg, const unsigned char *der, size_t len)
{
	struct mail_try *t = arg;

	/* Draft 6.2: the answer to our request echoes its senderNonce; any
	 * other mail (another answer, a glKey) does not open here. */
	skd_keygen_result_clear(t->res);
	t->tried++;
	return skd_keygen_open_response(t->res, der, len, t->nonce, t->who,
	    t->trust, time(NULL));
}

/*
 * RFC 5275 7 / draft 2.3-2.4 by mail: the answer to the request of
 * --request is the mail of --mail FILE|MAILDIR that verifies and echoes
 * its nonce, opened as from the directory.
 */
static int
mail_answer(const struct skd_cli_ctx *c, struct skd_keygen_result *res,
    const unsigned char *nonce, const struct skd_shroud_opener *who,
    X509_STORE *trust)
{
	struct mail_try t = { res, nonce, who, trust, 0 };
	int rc;

	rc = skd_cli_mail_each_cms(skd_cli_ctx_cmd(c),
	    skd_cli_ctx_opt(c, "mail"), mail_try, &t);
	if (rc < 0)
		return SKD_EXIT_INPUT;
	if (rc == 0) {
		skd_cli_err(skd_cli_ctx_cmd(c), "%s: no answer to %s among "
		    "%d mail%s%s%s", skd_cli_ctx_opt(c, "mail"),
		    skd_cli_ctx_opt(c, "request"), t.tried, t.tried == 1 ?
		    "" : "s", t.tried > 0 ? ": last: " : "",
		    t.tried > 0 ? res->text : "");
		return SKD_EXIT_CRYPTO;
	}
	return SKD_EXIT_OK;
}

static int
run(const struct skd_cli_ctx *c)
{
	const char *cmd = skd_cli_ctx_cmd(c), *t, *key_path, *cert_path, *tmpl;
	const char *shroud = skd_cli_ctx_opt(c, "shroud");
	struct skd_client_ident *id = NULL;
	struct skd_keygen_req r;
	struct skd_keygen_result res;
	struct skd_shroud_opener who;
	struct skd_store *s = NULL;
	struct skd_store_blob *msgs = NULL;
	X509_STORE *trust = NULL;
	X509 *scert = NULL;
	EVP_PKEY *eph = NULL, *skey = NULL;
	GENERAL_NAME *dn = NULL;
	unsigned char nonce[SKD_KEYGEN_NONCE_LEN], ski[8], *der = NULL;
	unsigned char *ans = NULL;
	size_t ans_len = 0;
	unsigned char secret[256];
	size_t secret_len = 0;
	char rid[SKD_STORE_ID_LEN], pass[1024], *end;
	size_t len = 0, n = 0;
	long timeout = 30;
	int rc, have_pass = 0;

	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	memset(&who, 0, sizeof(who));
	if ((rc = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "type", "TYPE",
	    " (rsa2048, rsa3072, p256, p384)", &t)) != SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "out", "KEY.pem", "", &key_path)) !=
	    SKD_EXIT_OK ||
	    (rc = skd_cli_ctx_need(c, "out-cert", "CERT.pem", "",
	    &cert_path)) != SKD_EXIT_OK)
		return rc;
	if ((r.type = skd_kgen_type_from_name(t)) == SKD_KGEN_NONE) {
		skd_cli_err(cmd, "--type %s: rsa2048, rsa3072, p256 or p384", t);
		return SKD_EXIT_USAGE;
	}
	if ((tmpl = skd_cli_ctx_opt(c, "template")) != NULL) {
		/* Draft 6.1: certificateRequest, a TaggedRequest. */
		if (strcmp(tmpl, "crmf") == 0) {
			r.crmf = 1;
		} else if (strcmp(tmpl, "p10") != 0) {
			skd_cli_err(cmd, "--template %s: p10 or crmf", tmpl);
			return SKD_EXIT_USAGE;
		}
		if (r.crmf && r.type == SKD_KGEN_RSA3072) {
			skd_cli_err(cmd, "--type rsa3072 needs --template p10 "
			    "(a CRMF template's empty key carries no size)");
			return SKD_EXIT_USAGE;
		}
	}
	if ((rc = skd_cli_keygen_timeout(c, &timeout)) != SKD_EXIT_OK)
		return rc;
	if ((rc = skd_cli_keygen_passphrase(c, pass, sizeof(pass), &have_pass)) !=
	    SKD_EXIT_OK)
		return rc;
	if ((r.secret_id = skd_cli_ctx_opt(c, "secret-id")) != NULL) {
		const char *fdv = skd_cli_ctx_opt(c, "secret-fd");
		long fd = fdv != NULL ? strtol(fdv, &end, 10) : -1;
		ssize_t k;

		if (fdv == NULL || *end != '\0' || fd < 0 || fd > 1024) {
			skd_cli_err(cmd, "--secret-id needs --secret-fd N");
			rc = SKD_EXIT_USAGE;
			goto done;
		}
		while (secret_len < sizeof(secret) && (k = read((int)fd,
		    secret + secret_len, 1)) == 1 && secret[secret_len] != '\n')
			secret_len++;
		if (secret_len == 0) {
			skd_cli_err(cmd, "empty secret");
			rc = SKD_EXIT_INPUT;
			goto done;
		}
		r.secret = secret;
		r.secret_len = secret_len;
	} else if ((rc = skd_cli_ctx_ident(c, &id)) != SKD_EXIT_OK) {
		goto done;
	}
	if ((rc = skd_cli_ctx_trust(c, &trust)) != SKD_EXIT_OK)
		goto done;
	if ((t = skd_cli_ctx_opt(c, "subject")) != NULL) {
		char buf[1024];

		snprintf(buf, sizeof(buf), "dirName:%s", t);
		if ((dn = skd_gname_from_text(buf)) == NULL) {
			skd_cli_err(cmd, "--subject: not an RFC 4514 name");
			rc = SKD_EXIT_USAGE;
			goto done;
		}
		r.subject = dn->d.directoryName;
	}
	r.no_archive = skd_cli_ctx_flag(c, "no-archive");
	if (shroud == NULL || strcmp(shroud, "bare") == 0) {
		/* 2.3: a fresh ephemeral key, never stored. */
		r.shroud = SKD_KEYGEN_BARE_KEY;
		if ((eph = skd_kgen_generate(SKD_KGEN_P256)) == NULL ||
		    RAND_bytes(ski, sizeof(ski)) != 1) {
			skd_cli_err(cmd, "cannot generate the ephemeral key");
			rc = SKD_EXIT_INTERNAL;
			goto done;
		}
		r.bare_key = eph;
		r.ski = ski;
		r.ski_len = sizeof(ski);
		who.key = eph;
	} else if (strcmp(shroud, "secret") == 0 && r.secret != NULL) {
		/* 2.1: the same secret protects the key (pwri). */
		r.shroud = SKD_KEYGEN_SHARED_SECRET;
		who.password = secret;
		who.password_len = secret_len;
	} else if (id != NULL && (strcmp(shroud, "cert") == 0 ||
	    strcmp(shroud, "cert-id") == 0)) {
		r.shroud = strcmp(shroud, "cert") == 0 ? SKD_KEYGEN_CERT :
		    SKD_KEYGEN_CERT_ID;
		if (skd_cli_ctx_opt(c, "shroud-cert") != NULL) {
			if ((rc = skd_cli_ctx_cert(c, "shroud-cert", &scert)) !=
			    SKD_EXIT_OK ||
			    (rc = load_pem_key(cmd, skd_cli_ctx_opt(c,
			    "shroud-key") != NULL ? skd_cli_ctx_opt(c,
			    "shroud-key") : "", &skey)) != SKD_EXIT_OK)
				goto done;
		} else {
			if (!X509_up_ref(id->cert) ||
			    !EVP_PKEY_up_ref(id->key)) {
				rc = SKD_EXIT_INTERNAL;
				goto done;
			}
			scert = id->cert;
			skey = id->key;
		}
		r.shroud_cert = scert;
		who.cert = scert;
		who.key = skey;
	} else {
		skd_cli_err(cmd, "--shroud %s: bare, cert or cert-id (with "
		    "--cert), secret (with --secret-id)", shroud);
		rc = SKD_EXIT_USAGE;
		goto done;
	}
	/* Through an RA (draft 2.5.2) or by mail (RFC 5275 7): the request
	 * to a file (and mailed), later the answer from a file or a mail;
	 * an ephemeral key would not outlive this run. */
	if ((skd_cli_ctx_opt(c, "request-out") != NULL ||
	    skd_cli_ctx_opt(c, "answer") != NULL ||
	    skd_cli_ctx_opt(c, "mail-to") != NULL ||
	    skd_cli_ctx_opt(c, "mail") != NULL) &&
	    r.shroud == SKD_KEYGEN_BARE_KEY) {
		skd_cli_err(cmd, "--request-out, --answer, --mail-to and --mail "
		    "need --shroud cert, cert-id or secret");
		rc = SKD_EXIT_USAGE;
		goto done;
	}
	if (skd_cli_ctx_opt(c, "mail-to") != NULL &&
	    skd_cli_ctx_opt(c, "request-out") == NULL) {
		skd_cli_err(cmd, "--mail-to needs --request-out FILE (the "
		    "request --mail reads the answer to)");
		rc = SKD_EXIT_USAGE;
		goto done;
	}
	if (skd_cli_ctx_opt(c, "answer") != NULL ||
	    skd_cli_ctx_opt(c, "mail") != NULL) {
		if ((rc = read_answer(c, nonce, &ans, &ans_len)) !=
		    SKD_EXIT_OK ||
		    (ans == NULL && (rc = mail_answer(c, &res, nonce, &who,
		    trust)) != SKD_EXIT_OK))
			goto done;
		snprintf(rid, sizeof(rid), "(file)");
	} else {
		if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
		    !skd_keygen_request(&der, &len, &r,
		    (long)(time(NULL) & 0x7fffffff), nonce,
		    id != NULL ? id->cert : NULL, id != NULL ? id->key : NULL,
		    id != NULL ? id->chain : NULL, time(NULL))) {
			skd_cli_err(cmd, "cannot build the request");
			rc = SKD_EXIT_INTERNAL;
			goto done;
		}
		if ((t = skd_cli_ctx_opt(c, "request-out")) != NULL) {
			if ((rc = skd_cli_write_file(c, t, der, len)) !=
			    SKD_EXIT_OK)
				goto done;
			if (skd_cli_ctx_opt(c, "mail-to") == NULL) {
				printf("request written to %s: an RA forwards "
				    "it (skd ra forward), then --answer\n", t);
				goto done;
			}
			if ((rc = skd_cli_mail_submit(c, id != NULL ?
			    id->cert : NULL, der, len, "CMC-request")) ==
			    SKD_EXIT_OK)
				printf("request written to %s: read the answer "
				    "with --mail FILE|MAILDIR --request %s\n",
				    t, t);
			goto done;
		}
		if ((rc = skd_cli_keygen_submit(c, &s, der, len, timeout,
		    "submitted request", &msgs, &n, rid)) != SKD_EXIT_OK)
			goto done;
	}
	if (skd_cli_ctx_opt(c, "mail") == NULL &&
	    !skd_keygen_open_response(&res, ans != NULL ? ans : msgs[0].data,
	    ans != NULL ? ans_len : msgs[0].len, nonce, &who, trust,
	    time(NULL))) {
		skd_cli_err(cmd, "answer to %s: %s", rid, res.text);
		rc = SKD_EXIT_CRYPTO;
		goto done;
	}
	if (res.status == SKD_CMC_POP_REQUIRED &&
	    ((s == NULL && (rc = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK) ||
	    (rc = pop_round(c, s, id, &r, &res, timeout, trust)) !=
	    SKD_EXIT_OK))
		goto done;
	if (res.status != 0) {
		rc = skd_cli_keygen_refused(c, &res);
		goto done;
	}
	if ((rc = skd_cli_keygen_write(c, key_path, cert_path, res.key, res.cert,
	    have_pass ? pass : NULL)) != SKD_EXIT_OK)
		goto done;
	{
		char *sub = X509_NAME_oneline(X509_get_subject_name(res.cert),
		    NULL, 0);

		printf("issued %s, key %s, written to %s and %s\n",
		    sub != NULL ? sub : "?", skd_kgen_type_name(
		    skd_kgen_type_from_spki(X509_get_X509_PUBKEY(res.cert))),
		    key_path, cert_path);
		OPENSSL_free(sub);
	}
	rc = SKD_EXIT_OK;
 done:
	free(ans);
	OPENSSL_cleanse(pass, sizeof(pass));
	OPENSSL_cleanse(secret, sizeof(secret));
	skd_keygen_result_clear(&res);
	skd_store_blobs_free(msgs, n);
	skd_store_close(s);
	OPENSSL_free(der);
	GENERAL_NAME_free(dn);
	EVP_PKEY_free(eph);
	EVP_PKEY_free(skey);
	X509_free(scert);
	X509_STORE_free(trust);
	skd_client_ident_free(id);
	return rc;
}

int
skd_cli_keygen(int argc, char **argv)
{
	return skd_cli_keygen_main("keygen", argc, argv, KEYGEN_OPTS,
	    keygen_usage, run);
}

/* ---- skd admin enroll-secret ---- */

static const char admin_usage[] =
    "usage: skd admin recover ... (skd admin recover --help)\n"
    "       skd admin enroll-secret --gla-cert FILE --secret-id STRING\n"
    "        --identity dirName:DN [--expires DAYS] [--secret-fd N]\n"
    "        directory (as the GLA): --uri URI --base DN --bind-dn DN\n"
    "        --password-file F | --env FILE --as gla\n"
    "  Stores a single-use shared secret for server-side key generation\n"
    "  (draft 2.1, 2.2), wrapped for the GLA's certificate.  Without\n"
    "  --secret-fd a random one is made and printed once: hand it to the\n"
    "  person out of band.\n";

#define ADMIN_OPTS "gla-cert secret-id identity expires secret-fd uri base " \
	"bind-dn password-file env as"

static int
enroll(const struct skd_cli_ctx *c)
{
	const char *cmd = skd_cli_ctx_cmd(c), *id, *identity, *t;
	struct skd_store_secret sec;
	struct skd_store *s = NULL;
	struct skd_cms_recip rc;
	X509 *gla = NULL;
	GENERAL_NAME *gn = NULL;
	unsigned char raw[18], secret[64], *wrapped = NULL;
	size_t secret_len = 0, wlen = 0;
	char *end;
	long days = 0;
	int rv, generated = 0;

	memset(&sec, 0, sizeof(sec));
	if ((rv = skd_cli_ctx_no_args(c)) != SKD_EXIT_OK ||
	    (rv = skd_cli_ctx_need(c, "gla-cert", "FILE", "", &t)) !=
	    SKD_EXIT_OK ||
	    (rv = skd_cli_ctx_need(c, "secret-id", "STRING", "", &id)) !=
	    SKD_EXIT_OK ||
	    (rv = skd_cli_ctx_need(c, "identity", "dirName:DN", "",
	    &identity)) != SKD_EXIT_OK)
		return rv;
	/* The secret vouches for a certificate subject: a directory name. */
	if ((gn = skd_gname_from_text(identity)) == NULL ||
	    gn->type != GEN_DIRNAME) {
		GENERAL_NAME_free(gn);
		skd_cli_err(cmd, "--identity: dirName:<RFC 4514 name>");
		return SKD_EXIT_USAGE;
	}
	GENERAL_NAME_free(gn);
	if ((t = skd_cli_ctx_opt(c, "expires")) != NULL) {
		days = strtol(t, &end, 10);
		if (*end != '\0' || days < 1 || days > 3660) {
			skd_cli_err(cmd, "--expires: days, 1..3660");
			return SKD_EXIT_USAGE;
		}
	}
	if ((t = skd_cli_ctx_opt(c, "secret-fd")) != NULL) {
		long fd = strtol(t, &end, 10);
		ssize_t n;

		if (*end != '\0' || fd < 0 || fd > 1024) {
			skd_cli_err(cmd, "--secret-fd: not a file descriptor");
			return SKD_EXIT_USAGE;
		}
		while (secret_len < sizeof(secret) &&
		    (n = read((int)fd, secret + secret_len, 1)) == 1 &&
		    secret[secret_len] != '\n')
			secret_len++;
		if (secret_len < 8) {
			skd_cli_err(cmd, "the secret must be 8 to 64 bytes");
			rv = SKD_EXIT_INPUT;
			goto done;
		}
	} else {
		/* 144 random bits, base64: 24 characters. */
		if (RAND_priv_bytes(raw, sizeof(raw)) != 1) {
			rv = SKD_EXIT_INTERNAL;
			goto done;
		}
		secret_len = (size_t)EVP_EncodeBlock(secret, raw, sizeof(raw));
		generated = 1;
	}
	if ((rv = skd_cli_ctx_cert(c, "gla-cert", &gla)) != SKD_EXIT_OK)
		goto done;
	memset(&rc, 0, sizeof(rc));
	rc.type = SKD_CMS_RECIP_CERT;
	rc.cert = gla;
	if (!skd_cms_envelope(&wrapped, &wlen, OBJ_nid2obj(NID_pkcs7_data),
	    secret, secret_len, &rc, 1, NULL)) {
		skd_cli_err(cmd, "cannot wrap the secret for the GLA");
		rv = SKD_EXIT_CRYPTO;
		goto done;
	}
	if ((rv = skd_cli_ctx_store(c, &s)) != SKD_EXIT_OK)
		goto done;
	sec.id = (char *)id;
	sec.identity = (char *)identity;
	sec.wrapped = wrapped;
	sec.wrapped_len = wlen;
	sec.not_after = days > 0 ? time(NULL) + days * 86400 : 0;
	if (!skd_store_put_secret(s, &sec)) {
		skd_cli_err(cmd, "%s: %s", id, skd_store_errmsg(s));
		rv = SKD_EXIT_DIRECTORY;
		goto done;
	}
	if (generated)
		printf("%.*s\n", (int)secret_len, (const char *)secret);
	fprintf(stderr, "skd: %s: secret %s enrolled for %s%s\n", cmd, id,
	    identity, days > 0 ? " (expires)" : "");
	rv = SKD_EXIT_OK;
 done:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_free(wrapped);
	X509_free(gla);
	skd_store_close(s);
	return rv;
}

int
skd_cli_admin(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "recover") == 0)
		return skd_cli_admin_recover(argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "enroll-secret") != 0) {
		fputs(admin_usage, argc >= 2 && (strcmp(argv[1], "--help") ==
		    0 || strcmp(argv[1], "-h") == 0) ? stdout : stderr);
		return argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) ? SKD_EXIT_OK : SKD_EXIT_USAGE;
	}
	return skd_cli_keygen_main("admin enroll-secret", argc - 1, argv + 1,
	    ADMIN_OPTS, admin_usage, enroll);
}
