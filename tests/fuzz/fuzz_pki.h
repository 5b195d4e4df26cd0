/*
 * fuzz_pki.h: a fixed test PKI for the fuzz targets and gen_corpus.c.
 *
 * Generated once with the openssl CLI (valid 2026-11-22 .. 2036-11-19):
 *   ca      RSA-2048 root "CN=skd fuzz CA,O=skd fuzz"
 *   gla     RSA-2048, signed by ca, SAN email:gla@example.com and
 *           URI:https://gla.example.com/, keyUsage digitalSignature +
 *           keyEncipherment, EKU emailProtection
 *   member  EC P-256, signed by ca, SAN email:member@example.com,
 *           keyUsage digitalSignature + keyAgreement
 * These keys protect nothing: they only let the fuzzer reach the layers
 * behind signature checks and decryption (RFC 5275 3.2.1).
 */
#ifndef SKD_FUZZ_PKI_H
#define SKD_FUZZ_PKI_H

#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* 2030-01-01T00:00:00Z: inside every certificate's validity. */
#define SKD_FUZZ_NOW	((time_t)1893456000)

/* The previously distributed KEK and its identifier (RFC 5275 5) that the
 * fixed opener holds, for kekri recipients. */
static const unsigned char skd_fuzz_kek[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
};
static const unsigned char skd_fuzz_kek_id[8] = {
	's', 'k', 'd', '-', 'k', 'e', 'k', '1'
};

static const char skd_fuzz_ca_crt_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDQzCCAiugAwIBAgIUfGvNNVkkwFSXojSBSwImjxBvLXUwDQYJKoZIhvcNAQEL\n"
	"BQAwKTEUMBIGA1UEAwwLc2tkIGZ1enogQ0ExETAPBgNVBAoMCHNrZCBmdXp6MB4X\n"
	"DTI2MTEyMjE5NDk1NFoXDTM2MTExOTE5NDk1NFowKTEUMBIGA1UEAwwLc2tkIGZ1\n"
	"enogQ0ExETAPBgNVBAoMCHNrZCBmdXp6MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n"
	"MIIBCgKCAQEA329xsjT4BsW3JJleI4hU/NtIJB5RS9brnkqOlAyH5eZ9SRhlNX8+\n"
	"s+BWa8rDtAxQur+84QsMpbvWpXbIXeBJGLv4IywWxX6hba7WmxG9SxwUeuym6oTs\n"
	"JBDfd9gS1BAflI7+Ab0rF6/r8w4M6RvbBtrhwFgzxRFBJWSHHe8KTdKHT179iYyX\n"
	"siaLAv3IVDr5rZJGjumSb5EamNfB/Z5AknWbEkdYj8UItchTXzNQ1h6LquJl6G2T\n"
	"5YWXBrH6tJr1loDnRugcxdM5w+57aq3NV/TXR4Jk8GNJ0twoBs4WB0lX5ixUu37v\n"
	"GSlNQ8S3Ryi+QFPDPNAz9wnFffdDBhXC/QIDAQABo2MwYTAfBgNVHSMEGDAWgBSE\n"
	"eihO65DgWYy+lKDAhAfFONE0zDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQE\n"
	"AwIBBjAdBgNVHQ4EFgQUhHooTuuQ4FmMvpSgwIQHxTjRNMwwDQYJKoZIhvcNAQEL\n"
	"BQADggEBACt226LE+Mxy9jYzzrJ3I9ptgdsOHDUKw0M6uTHVdktRri4Jvw6aUhHN\n"
	"4skYlm7heMBZgaZZAYZ79QGZUXMtdmjO7fBS5CHTNTfhteO8fw0vZzeNwYWal4y7\n"
	"QnojVqGHdlb4qDEkdFCG99gOZZDYRMGXvIN4LZmD42F9LyV2zewXuIAhSBskRmS6\n"
	"yeLomI+mBytVRtu6ZGi+9QcSdOIj1z4zmDvdoSFXsS8KCt5x/OswmHpgvIa+EE4T\n"
	"/py/GzkkcUO8ytmJiZsqE88QN+mTDea6j++pSotMwY0JMDtRJxjcKUjIKB5cbPLb\n"
	"j6BYNZwkbipurUngvhc9RuJAnp5ncrA=\n"
	"-----END CERTIFICATE-----\n";

static const char skd_fuzz_ca_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDfb3GyNPgGxbck\n"
	"mV4jiFT820gkHlFL1uueSo6UDIfl5n1JGGU1fz6z4FZrysO0DFC6v7zhCwylu9al\n"
	"dshd4EkYu/gjLBbFfqFtrtabEb1LHBR67KbqhOwkEN932BLUEB+Ujv4BvSsXr+vz\n"
	"DgzpG9sG2uHAWDPFEUElZIcd7wpN0odPXv2JjJeyJosC/chUOvmtkkaO6ZJvkRqY\n"
	"18H9nkCSdZsSR1iPxQi1yFNfM1DWHouq4mXobZPlhZcGsfq0mvWWgOdG6BzF0znD\n"
	"7ntqrc1X9NdHgmTwY0nS3CgGzhYHSVfmLFS7fu8ZKU1DxLdHKL5AU8M80DP3CcV9\n"
	"90MGFcL9AgMBAAECggEAIWdKFmQUW4DWDT7vg7znRckrqxisOzwVjBvl3mzUKVLw\n"
	"0ot24A1WrLIigWl2IhYAQLcXEAbknGdtYt3T/TLhgrThVzLJcbupexobI+I+TDsV\n"
	"tb3pA2EdY5PxMLvJLtJ9Qiqxf0WOanNmwTbNx9DeCROSkfytuq3GcUZq69b3kaQb\n"
	"Cbc4PD0GjnfyLLd2Xz/y844kbYv8thDOOCqiQAh17snzJ+ez0FxRssVfVieCZYhe\n"
	"VeBhFqselbN10b7RuCvRyNfqsUhFA2qwzHEITGgwb4tIqCI0KEQmjx2qGhIU9vDz\n"
	"EMo3vEv2DLCbwP2QitGON1ingIP0EFTc4ikGofmdkQKBgQDyR5Cg/MynCbxcbgts\n"
	"GKVbjn8pyHNr1ukoqTT8DcPvi7HBNPfP/QY7e3XwXY7r5NtwZAJ3aaPJc8xDlW4p\n"
	"7Tp5tlPh82F78v9gNP52Cix6GsRdFK6Ry+xvmGzBuAVsYK9QGKhpB5hngDvF/NQ7\n"
	"KjatfEUj2c4j1RyGNhllJduRbQKBgQDsFq+hFEweNoVTX3pRPX1uNvrQOh1ivHBC\n"
	"BT92DSZ9BSydTx+VAjtfwPkSA5lrRVzYtU6676Gu/Oiz7ELN0ezcMab0bdTqFTVD\n"
	"neaJYSVJB57MqX5RgBoMfGP9J3mumFF1YsKYfWKIY+2+1i/TavS+JMtnlBdtb7GG\n"
	"ZtnQz8eN0QKBgEix0GN9dqpn8WyKWEMG4hammuEelAM3aJ4apxs5xiCJ+bvO+Mwf\n"
	"T09pq+mDKO7+rBj86QCLYemAJTniDDvoQjNi0ahqLkXSk216eR9RziaVAXYsTnTQ\n"
	"ixCw23EElhv+ppuRynY5ITFs+IJfag6Wi/Fh6BzprUBzISvj75q50TfBAoGAGHa1\n"
	"VkSrKopNwHjpTNfJUo1h6gfLmbqbC0xN6iassVHC8L4NMLydeGufo4057ZKvb0lC\n"
	"Uj6Yi3BrkJFPztIM8Dg466Uh5euyrEIFbIDjgzDF9MEvdLSIfni5R7c6dawU7MwC\n"
	"DBkaB7YLIbZCGG9B0x4u8Zm338AuLhYkRe3x6LECgYEAhGJLPYJp7gj/F2S+n2WK\n"
	"tTRNFFynfSaSGiD12Giwt6OKLlHOzYr+CZQNyzkdqRXeDzq53ol/5qosc5CglrLn\n"
	"ZcLrjMEDS/KrUd2dTrnLfQH6rnkDtFnbRKs5JOYnratDoRijbxQsEyuJs4hGE+fX\n"
	"l3kwNEN8o/lTwjHW8n4yKlk=\n"
	"-----END PRIVATE KEY-----\n";

static const char skd_fuzz_gla_crt_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDfDCCAmSgAwIBAgIBAjANBgkqhkiG9w0BAQsFADApMRQwEgYDVQQDDAtza2Qg\n"
	"ZnV6eiBDQTERMA8GA1UECgwIc2tkIGZ1enowHhcNMjYxMTIyMTk0OTU5WhcNMzYx\n"
	"MTE5MTk0OTU5WjAuMQwwCgYDVQQDDANnbGExETAPBgNVBAoMCHNrZCBmdXp6MQsw\n"
	"CQYDVQQGEwJVUzCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAJQzNjPg\n"
	"rQjwxeWOhoJ+pzfPPXZJpV9zsKIIDMinTbLnXlm82JmFIy1jrnuLE8pJqON8f8Xd\n"
	"KKGtrgBISXZg+PB9T6Tgm+x6aEXCKZ2NTqXW+qQRJ7CXD/UmtFD74M0dzcKg/6Up\n"
	"MGMQP44W14JCRJVboJtCB/EIZTIrsrsV8i0y9A88DRk/i0QIfVdrWmwJ+NORqlyP\n"
	"GvyoxOFlyjJmK4eaSK1xROqcbA8VNdBElIjgFGhEv695WTBWG2mypgTqD6jMHrdR\n"
	"tV27DH04icLedoslvQ7bwTdO/yzaMpJZELH/lTN7Ec6cPVnnuwHy+jOGUCbusLAk\n"
	"tUpcvnMmikrj/18CAwEAAaOBqTCBpjAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIF\n"
	"oDATBgNVHSUEDDAKBggrBgEFBQcDBDAdBgNVHQ4EFgQUCZ/agYIeHoA3XasOqo41\n"
	"XGHpYMUwHwYDVR0jBBgwFoAUhHooTuuQ4FmMvpSgwIQHxTjRNMwwNAYDVR0RBC0w\n"
	"K4EPZ2xhQGV4YW1wbGUuY29thhhodHRwczovL2dsYS5leGFtcGxlLmNvbS8wDQYJ\n"
	"KoZIhvcNAQELBQADggEBAAon6DPniO4rLXQkuLYPOFr7vZCgLB9XM/3mz1Mq6Fb9\n"
	"duMLAaSAdlzqCGAotGDNCXkrug1SQM/KolRngMhQhxKIi1qdqgR+cIRiOxUo8SpJ\n"
	"L5yeKGTfUX/1ZA1enpJXRqxdDHFODrbq438PI8GivqSjgjoPlnmZGQ6m8Lo1osJU\n"
	"hTqy3sz31+VsrPzwy0IC48Cpga/ebe4x7NGhcmCg9FhX58qTKgiEKfC5sJ7Rfcff\n"
	"lnRcRC+oNjB5R5sCmccSk+CreGso2PTlYcn6DaR1tB65gIQQrS+SzT1kbolM1fK2\n"
	"OMVXmg5EId7RhN5fZO7ucvGq/OW0YZhyx+n+szH1nes=\n"
	"-----END CERTIFICATE-----\n";

static const char skd_fuzz_gla_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCUMzYz4K0I8MXl\n"
	"joaCfqc3zz12SaVfc7CiCAzIp02y515ZvNiZhSMtY657ixPKSajjfH/F3Sihra4A\n"
	"SEl2YPjwfU+k4JvsemhFwimdjU6l1vqkESewlw/1JrRQ++DNHc3CoP+lKTBjED+O\n"
	"FteCQkSVW6CbQgfxCGUyK7K7FfItMvQPPA0ZP4tECH1Xa1psCfjTkapcjxr8qMTh\n"
	"ZcoyZiuHmkitcUTqnGwPFTXQRJSI4BRoRL+veVkwVhtpsqYE6g+ozB63UbVduwx9\n"
	"OInC3naLJb0O28E3Tv8s2jKSWRCx/5UzexHOnD1Z57sB8vozhlAm7rCwJLVKXL5z\n"
	"JopK4/9fAgMBAAECggEALL4RXTQ1yX83oAiZn4gxX+4XdkDhxqGc8C5R/bpVAPBN\n"
	"UfZrxl2lsyxnHzFr9iSq8pNB2DDe9YEECV3JoA3C2ohapUKSkKCcHoNyIPjqh7MR\n"
	"1LrBKtVQogjfY5vH0OVwm5QT2n9G9oGPToyi39a18gnJwVX8I88PDkiXG1iS1wYX\n"
	"erZDfOWozt/XJCxTwmo/qxOWBzEsqn6hwbUCYY+Xmn41dboINJreDiPgkPAJa9Gf\n"
	"hDrkDRem/lUoRFeQMHe0pIuXCcjhb2PAcVGSb6wNT5SbKbAf0E9Ld+kxiwLZyCZC\n"
	"ojRNVfO5msoZr8t7EuL8QhFZk5ubdrpNjsOzsQctwQKBgQDGk/Od7ON3bsjKDcV3\n"
	"3PR7upP6Ws64uyqR5fYJqnKOzt2gbrP8w2u07P8HcILuidqSDumLrxZq5i8ZrQd0\n"
	"pOjrjK5J+c9aru0CXO024lJAuyJDQwA7r3esiiekRlvqDfsTnMRCjhMrs+NgAZ5V\n"
	"Bkfn9Am+2qMuD82u3UC8XCVI0QKBgQC/DfTZb0MwDspmdYQkdS5a8ujrg3uNmpid\n"
	"vu0tGmOk3yqicxGq0Drm/gqAZKpNhmVXAdXbHVi1VbemmubOa+IgTXySWSjhzvRW\n"
	"6jYbnShxLcrfl5ht5kBixGFwWskM7pgfqiKyPaY86HJguLA2V17eIct15bCIXO0l\n"
	"Qa2RbEnRLwKBgEVsdD9CEkQu9wOszNya4t5e3F0qYhszVC6tttaqQGKs786m5UX5\n"
	"DC60rHRtYVkD2OY3UG8FR1EYKF9Rnsmo3cV76XLzYwrRHQs2cbg+Z4M56UCaq/ox\n"
	"3iT0J+fGsVuih6TTqcma4hjlSxjFeBVBnOH6721KAsKXw9DeiUNQ87gBAoGAPGLC\n"
	"4v6hs8zY+C1oiMVo02I3cEjsgkM8vY8dE8ZlfDT1GsdX7C9Ijr34v8ARe9NgsHFq\n"
	"EIlkAlyHYWdQUCoVHLShDPiVTVnGLLp2Q6AWqj8ZAja9/O5rp0v+qC5poWbAOjHi\n"
	"KYgGxPWLQTrepy5SU89GqYrhkxgb9Eyf+XjKlA0CgYEAqpzHnAh2os9GSxuN7Rx9\n"
	"BBFOuhQSC2OCNQteejeXYnrlUjtIuka2vQgsYRdVmhXT/Cc6M6O6fvC/yPherZV4\n"
	"mjrUO3ZWeYvxtObk/KxEaQU1bBEUNbwrq/oaEuZVGKo3oabjnzviZu8sHXwU3c2t\n"
	"0oxKBFwJ7cpeXnG+/OwQL+Y=\n"
	"-----END PRIVATE KEY-----\n";

static const char skd_fuzz_member_crt_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICnTCCAYWgAwIBAgIBAzANBgkqhkiG9w0BAQsFADApMRQwEgYDVQQDDAtza2Qg\n"
	"ZnV6eiBDQTERMA8GA1UECgwIc2tkIGZ1enowHhcNMjYxMTIyMTk0OTU5WhcNMzYx\n"
	"MTE5MTk0OTU5WjAxMQ8wDQYDVQQDDAZtZW1iZXIxETAPBgNVBAoMCHNrZCBmdXp6\n"
	"MQswCQYDVQQGEwJVUzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDaScHrgJV42\n"
	"xookS/KHM8L0KxTUpYn8FX9S5AmgWqXs2SgHO8XkqSkwhInxTYTCekRzs4f01bxY\n"
	"c8uSo0urLhKjgZIwgY8wCQYDVR0TBAIwADAOBgNVHQ8BAf8EBAMCA4gwEwYDVR0l\n"
	"BAwwCgYIKwYBBQUHAwQwHQYDVR0OBBYEFNtB0xjzf42slRXvWioj/td+lYYZMB8G\n"
	"A1UdIwQYMBaAFIR6KE7rkOBZjL6UoMCEB8U40TTMMB0GA1UdEQQWMBSBEm1lbWJl\n"
	"ckBleGFtcGxlLmNvbTANBgkqhkiG9w0BAQsFAAOCAQEAdnka9+uvZ4haES7zILBk\n"
	"tW64UjG19cYz1wZyqlcnl+2QFb2xUoTrMnZXe86Fx95V8WOmh502GdMJY6P5rYLU\n"
	"6F4f/x1W9GwoXfjSbT00mGtejQCxC4xTjBDb6qJOARPRMIYcBLEUUOxlZ0OcBKRJ\n"
	"/7VV4tehkBX6sZsDNgUwzuSz5sHUjACFsviiPySQmVDLCY/qnry1zDL4E8hndIku\n"
	"ZVE8wkhmMRCvUzq8gUWm/G6q4CKuRDvGBTCRj8BQQMFJ7kKR8I4Qh9xfnYOwq4zE\n"
	"ZzCh36rz1Nb4aATfQ1DfJaMF8iyWMVR7b4WUvaCfO1HAFap6SzfUkf/2bMiV/j3v\n"
	"Dw==\n"
	"-----END CERTIFICATE-----\n";

static const char skd_fuzz_member_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/urXDKFM9f6zts0m\n"
	"761l7+erKxW+GDIFd1Q77K0DceOhRANCAAQ2knB64CVeNsaKJEvyhzPC9CsU1KWJ\n"
	"/BV/UuQJoFql7NkoBzvF5KkpMISJ8U2EwnpEc7OH9NW8WHPLkqNLqy4S\n"
	"-----END PRIVATE KEY-----\n";


struct skd_fuzz_pki {
	X509		*ca;
	EVP_PKEY	*ca_key;
	X509		*gla;
	EVP_PKEY	*gla_key;
	X509		*member;
	EVP_PKEY	*member_key;
};

static inline X509 *
skd_fuzz_pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = NULL;

	if (b != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	}
	BIO_free(b);
	return x;
}

static inline EVP_PKEY *
skd_fuzz_pem_key(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = NULL;

	if (b != NULL) {
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	}
	BIO_free(b);
	return k;
}

/* skd_fuzz_pki_free frees what skd_fuzz_pki_load loaded; NULL is fine. */
static inline void
skd_fuzz_pki_free(struct skd_fuzz_pki *p)
{
	if (p == NULL) {
		return;
	}
	X509_free(p->ca);
	EVP_PKEY_free(p->ca_key);
	X509_free(p->gla);
	EVP_PKEY_free(p->gla_key);
	X509_free(p->member);
	EVP_PKEY_free(p->member_key);
	memset(p, 0, sizeof(*p));
}

/* skd_fuzz_pki_load parses the PEM above into *out (caller frees with
 * skd_fuzz_pki_free); returns one on success and zero on error. */
static inline int
skd_fuzz_pki_load(struct skd_fuzz_pki *out)
{
	memset(out, 0, sizeof(*out));
	out->ca = skd_fuzz_pem_cert(skd_fuzz_ca_crt_pem);
	out->ca_key = skd_fuzz_pem_key(skd_fuzz_ca_key_pem);
	out->gla = skd_fuzz_pem_cert(skd_fuzz_gla_crt_pem);
	out->gla_key = skd_fuzz_pem_key(skd_fuzz_gla_key_pem);
	out->member = skd_fuzz_pem_cert(skd_fuzz_member_crt_pem);
	out->member_key = skd_fuzz_pem_key(skd_fuzz_member_key_pem);
	if (out->ca == NULL || out->ca_key == NULL || out->gla == NULL ||
	    out->gla_key == NULL || out->member == NULL ||
	    out->member_key == NULL) {
		skd_fuzz_pki_free(out);
		return 0;
	}
	return 1;
}

#endif
