/*
 * cli.h: the skd command line.  Thin: parse arguments, call the library,
 * print.  Exit codes are documented in docs/man/skd.1.
 */
#ifndef SKD_CLI_H
#define SKD_CLI_H

#include <stddef.h>

/* Exit codes shared by every subcommand. */
enum skd_exit {
	SKD_EXIT_OK = 0,
	SKD_EXIT_FAIL = 1,	/* the operation ran and failed (e.g. a CMC failure) */
	SKD_EXIT_USAGE = 2,	/* bad arguments */
	SKD_EXIT_INPUT = 3,	/* unreadable or malformed input */
	SKD_EXIT_CRYPTO = 4,	/* a signature, path or decryption failed */
	SKD_EXIT_DIRECTORY = 5,	/* the directory could not be reached or refused */
	SKD_EXIT_INTERNAL = 70
};

/* The most any subcommand reads from one input file. */
#define SKD_CLI_MAX_INPUT	(64UL * 1024 * 1024)

/* The options every request subcommand of "skd glo" and "skd member"
 * accepts (skd-glo(1), skd-member(1): "common"). */
#define SKD_CLI_REQ_OPTS "cert key gla-cert CAfile CRLfile uri base " \
	"bind-dn password-file env as encrypt outer-sign out ldif " \
	"submitter-dn json timeout mail-to mail-from smtp starttls sendmail"

struct skd_cmd {
	const char	*name;
	const char	*summary;
	int		(*run)(int argc, char **argv);
};

/* cli_dump.c */
int skd_cli_dump(int argc, char **argv);

/* cli_gla.c: skd gla run (the worker daemon) and skd status */
int skd_cli_gla(int argc, char **argv);
int skd_cli_status(int argc, char **argv);

/* cli_mail.c: skd gla mail-in (an MTA's delivery agent; exits with
 * sysexits(3) codes) and skd gla mail-policy */
int skd_cli_gla_mail_in(int argc, char **argv);
int skd_cli_gla_mail_policy(int argc, char **argv);
struct skd_cli_ctx;
struct skd_client_ident;
struct x509_st;
struct x509_store_st;
/* The client side (skd-glo(1), skd-member(1) "MAIL"): sends der as an
 * application/pkcs7-mime mail to --mail-to, from --mail-from or the
 * email name of cert, by --smtp URL or the sendmail(8) interface. */
int skd_cli_mail_submit(const struct skd_cli_ctx *c, struct x509_st *cert,
    const unsigned char *der, size_t len, const char *smime_type);
/* The CMS object of the mail in path (OPENSSL_free), or NULL after one
 * line on stderr. */
unsigned char *skd_cli_mail_read_cms(const char *cmd, const char *path,
    size_t *out_len);
/* Calls cb(arg, der, len) with the CMS object of each mail in path (FILE,
 * or a maildir's new/ and cur/ or a plain directory, oldest first) until
 * cb returns nonzero; returns that, 0 when none did, -1 when path cannot
 * be read (after one line on stderr).  Mails that do not parse are noted
 * on stderr and skipped. */
int skd_cli_mail_each_cms(const char *cmd, const char *path,
    int (*cb)(void *, const unsigned char *, size_t), void *arg);
/* skd member fetch --mail FILE|MAILDIR (keys stored in ks, saved). */
struct skd_client_keystore;
int skd_cli_member_fetch_mail(const struct skd_cli_ctx *c, const char *gl,
    const struct skd_client_ident *id, struct x509_store_st *trust,
    struct skd_client_keystore *ks, long max_age);

/* cli_util.c */

/*
 * skd_cli_read_input reads FILE ("-" or NULL for stdin), at most max_len
 * bytes.  PEM input (any "-----BEGIN x-----" label) is decoded to DER.
 * Returns a malloc'd buffer (caller frees) or NULL after printing one
 * clear line to stderr.
 */
unsigned char *skd_cli_read_input(const char *path, size_t max_len,
    size_t *out_len);

/*
 * skd_cli_read_message reads a message as skd_cli_read_input does, or the
 * first skdMessage value of the LDIF of its entry (as ldapsearch prints
 * it; libldap's parser).  Returns a buffer (OPENSSL_free) or NULL after
 * one line on stderr (as command cmd).
 */
unsigned char *skd_cli_read_message(const char *cmd, const char *path,
    size_t *out_len);

/* skd_cli_err prints "skd: <cmd>: <message>" and, if any, the first
 * OpenSSL error, then clears the OpenSSL error queue. */
void skd_cli_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_glo.c: "skd glo" and the request plumbing shared with cli_member.c
 * (skd-glo(1)).  A struct skd_cli_ctx holds one subcommand's parsed
 * options; free it with skd_cli_ctx_free.  Functions returning int return
 * an enum skd_exit and have printed one line on failure. */
struct skd_cli_ctx;
struct skd_client_error;
struct skd_client_ident;
struct skd_client_request;
struct skd_store;
struct x509_store_st;
struct x509_st;
int skd_cli_glo(int argc, char **argv);
/* Parses argv (argv[0] is the subcommand) accepting only the options
 * named in allowed (space-separated); --help prints usage.  Returns NULL
 * with *out_exit set on error or after --help. */
struct skd_cli_ctx *skd_cli_ctx_parse(const char *cmd, int argc,
    char **argv, const char *allowed, const char *usage, int *out_exit);
void skd_cli_ctx_free(struct skd_cli_ctx *c);
const char *skd_cli_ctx_opt(const struct skd_cli_ctx *c, const char *name);
int skd_cli_ctx_flag(const struct skd_cli_ctx *c, const char *name);
size_t skd_cli_ctx_multi(const struct skd_cli_ctx *c, const char *name,
    const char *const **out);
int skd_cli_ctx_args(const struct skd_cli_ctx *c, char ***out);
const char *skd_cli_ctx_cmd(const struct skd_cli_ctx *c);
const char *skd_cli_ctx_base(const struct skd_cli_ctx *c);
/* The bind DN from --bind-dn, --env/--as or SKD_BIND_DN, or NULL. */
const char *skd_cli_ctx_bind_dn(const struct skd_cli_ctx *c);
/* Loads --cert/--key (*out freed with skd_client_ident_free). */
int skd_cli_ctx_ident(const struct skd_cli_ctx *c,
    struct skd_client_ident **out);
/* Loads --CAfile/--CRLfile (*out freed with X509_STORE_free). */
int skd_cli_ctx_trust(const struct skd_cli_ctx *c,
    struct x509_store_st **out);
/* Loads the certificate named by option opt if given (X509_free). */
int skd_cli_ctx_cert(const struct skd_cli_ctx *c, const char *opt,
    struct x509_st **out);
/* Opens the directory from --uri/--base/--bind-dn/--password-file or
 * --env/--as (*out freed with skd_store_close). */
int skd_cli_ctx_store(const struct skd_cli_ctx *c, struct skd_store **out);
/* Protects r, then writes it (--out), prints it as LDIF (--ldif) or
 * submits it, waits for the response and checks and prints it. */
int skd_cli_run_request(const struct skd_cli_ctx *c,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl);
/* The same for a GLO's resubmission (RFC 5275 3.2.5): the GLA's answer
 * to it is checked without a GL name, then each answer nested in it
 * against nested (the member's GL, nonce and transactionId). */
struct skd_client_expect;
int skd_cli_run_request_ex(const struct skd_cli_ctx *c,
    struct skd_client_request *r, const struct skd_client_ident *id,
    const char *gl, const struct skd_client_expect *nested);
int skd_cli_write_file(const struct skd_cli_ctx *c, const char *path,
    const unsigned char *p, size_t len);
/* Maps a client error to an exit code; _fail also prints it. */
int skd_cli_exit_of(const struct skd_client_error *e);
int skd_cli_client_fail(const struct skd_cli_ctx *c,
    const struct skd_client_error *e);

/* Our name for requests and messages: --name, else the certificate's
 * first email SAN, else its subject (OPENSSL_free). */
char *skd_cli_my_name(const struct skd_cli_ctx *c, struct x509_st *cert);

/* Options lists of the GLO's review and view subcommands. */
#define SKD_CLI_REVIEW_OPTS "cert key CAfile CRLfile uri base bind-dn " \
	"password-file env as json timeout gl name message"
#define SKD_CLI_VIEW_OPTS "cert key CAfile CRLfile uri base bind-dn " \
	"password-file env as json gl"

/* Whether w is one of the space-separated words of list. */
int skd_cli_word_in(const char *list, const char *w);

/* cli_run.c: which of several requests one command makes is being
 * written (--out FILE.k); 0: the only one. */
extern int skd_cli_out_index;

/* cli_run.c: the members the request being run names (skd glo
 * add-member, remove-member), by bodyPartID; each one's outcome is
 * reported after the answer.  NULL: none. */
struct skd_client_batch_item;
extern const struct skd_client_batch_item *skd_cli_members;
extern size_t skd_cli_n_members;

/* cli_glo_members.c: skd glo add-member (add 1) or remove-member (add 0)
 * of --member NAME... or --members-file FILE, split into requests of at
 * most SKD_CLIENT_MAX_CONTROLS members. */
int skd_cli_glo_members(const struct skd_cli_ctx *c, const char *gl,
    int add);

/* cli_sub.c: the subcommand dispatcher of "skd glo" and "skd member".
 * Functions returning int return an enum skd_exit and have printed one
 * line on failure. */

/* One subcommand: its name, the options it accepts (space-separated, for
 * skd_cli_ctx_parse) and what runs it once they are parsed. */
struct skd_cli_sub {
	const char	*name;
	const char	*allowed;
	int		(*run)(const struct skd_cli_ctx *c,
			    const struct skd_cli_sub *sub);
};
/*
 * skd_cli_dispatch runs "skd CMD SUB [options] [args]", argv[0] being CMD
 * and argv[1] naming one of the n_subs entries of subs.  Without SUB it
 * prints usage to stderr (SKD_EXIT_USAGE), with --help or -h to stdout
 * (SKD_EXIT_OK); otherwise it parses SUB's options as command "CMD SUB"
 * and returns what SUB's run returns.  The context is freed here.
 */
int skd_cli_dispatch(const char *cmd, const struct skd_cli_sub *subs,
    size_t n_subs, const char *usage, int argc, char **argv);
/* SKD_EXIT_OK if c has no operands, else "unexpected argument" and
 * SKD_EXIT_USAGE. */
int skd_cli_ctx_no_args(const struct skd_cli_ctx *c);
/* Sets *out to the value of option opt (borrowed from argv); without it
 * prints "--<opt> <meta> is required<hint>" and returns SKD_EXIT_USAGE. */
int skd_cli_ctx_need(const struct skd_cli_ctx *c, const char *opt,
    const char *meta, const char *hint, const char **out);
/* Builds subcommand sub's controls into r, signed by id, for GL gl. */
typedef int (*skd_cli_build_fn)(const struct skd_cli_ctx *c,
    const char *sub, struct skd_client_request *r,
    const struct skd_client_ident *id, const char *gl);
/* Loads --cert/--key, builds a request with build and runs it with
 * skd_cli_run_request; frees all it made. */
int skd_cli_submit(const struct skd_cli_ctx *c, const char *sub,
    const char *gl, skd_cli_build_fn build);

/* cli_glo_review.c, cli_glo_view.c: the run functions of
 * "skd glo pending|approve|deny" and "skd glo list|show". */
int skd_cli_glo_run_review(const struct skd_cli_ctx *c,
    const struct skd_cli_sub *sub);
int skd_cli_glo_run_list(const struct skd_cli_ctx *c,
    const struct skd_cli_sub *sub);
int skd_cli_glo_run_show(const struct skd_cli_ctx *c,
    const struct skd_cli_sub *sub);

/* cli_json.c: --json output with jansson.  skd_cli_json is set when
 * the command line holds --json: skd_cli_err then also prints an error
 * object on standard output. */
struct json_t;
struct skd_client_response;
extern int skd_cli_json;
/* Prints j compactly on one line of stdout and releases it (NULL: an
 * out-of-memory error object). */
void skd_cli_json_put(struct json_t *j);
/* {"error":{"command":cmd,"message":msg}} on stdout. */
void skd_cli_json_error(const char *cmd, const char *msg);
/* A new object for r: ok, statuses (status, bodyList, statusString,
 * CMCFailInfo or SKDFailInfo), algorithms, nonceChecked, signer. */
struct json_t *skd_cli_json_response(const struct skd_client_response *r);

/* cli_request.c: "skd request show|cancel --id UUID" */
int skd_cli_request(int argc, char **argv);

/* cli_keygen.c: "skd keygen" (skd-keygen(1)) and "skd admin
 * enroll-secret" */
int skd_cli_keygen(int argc, char **argv);
int skd_cli_admin(int argc, char **argv);
/* The passphrase of --passphrase-fd (one line; *out_have zero when the
 * option is absent) and the outputs of a key: the key as PKCS#8 PEM, mode
 * 0600, encrypted under pass when not NULL; the certificate when
 * cert_path is not NULL.  SKD_EXIT_* codes. */
int skd_cli_keygen_passphrase(const struct skd_cli_ctx *c, char *buf,
    size_t size, int *out_have);
struct evp_pkey_st;
int skd_cli_keygen_write(const struct skd_cli_ctx *c, const char *key_path,
    const char *cert_path, struct evp_pkey_st *key, struct x509_st *cert,
    const char *pass);

/* cli_keygen.c, shared by the key generation commands: parse argv
 * with opts and call run_fn; --timeout (default 30 seconds); submit der
 * through the directory (*io_s opened when NULL), print what and the
 * request id, wait for the answer (*out_msgs: skd_store_blobs_free);
 * print an answer's refusal (returns SKD_EXIT_FAIL).  SKD_EXIT_* codes. */
struct skd_keygen_result;
struct skd_store_blob;
int skd_cli_keygen_main(const char *cmd, int argc, char **argv,
    const char *opts, const char *usage,
    int (*run_fn)(const struct skd_cli_ctx *));
int skd_cli_keygen_timeout(const struct skd_cli_ctx *c, long *out);
int skd_cli_keygen_submit(const struct skd_cli_ctx *c, struct skd_store **io_s,
    const unsigned char *der, size_t len, long timeout, const char *what,
    struct skd_store_blob **out_msgs, size_t *out_n, char rid[37]);
int skd_cli_keygen_refused(const struct skd_cli_ctx *c,
    const struct skd_keygen_result *res);

/* cli_ra.c: "skd ra forward" (skd-keygen(1)): an RA forwards a client's
 * key generation request (draft 2.5.2) */
int skd_cli_ra(int argc, char **argv);

/* cli_recover.c: "skd admin recover" (skd-keygen(1)): a recovery
 * officer asks the GLA for an archived key */
int skd_cli_admin_recover(int argc, char **argv);

/* cli_member.c: "skd member" (skd-member(1)) */
int skd_cli_member(int argc, char **argv);
/*
 * Zeroes *x, then fills its GL name, nonce and transactionId from the
 * request named by --request, if any, opened with id (may be NULL).  The
 * values go to *out_hold (caller frees with skd_client_hold_free, also on
 * failure).  Returns an exit code.
 */
struct skd_client_hold;
int skd_cli_expect_request(const struct skd_cli_ctx *c,
    const struct skd_client_ident *id, struct skd_client_expect *x,
    struct skd_client_hold **out_hold);

/* cli_response.c: "skd response" (skd-member(1)) */
int skd_cli_response(int argc, char **argv);

#endif
