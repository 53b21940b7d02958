/* Self-check run by packaging/deps.sh once after a build: links every library with -static and checks that the
 * features bootrino relies on are really there. Not part of bootrino itself. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <ares.h>
#include <curl/curl.h>
#include <mbedtls/build_info.h>
#include <mbedtls/version.h>
#include <psa/crypto.h>

/* ECDSA P-256 verify, PEM/DER public keys, SHA-256, TLS 1.2 + 1.3 client, X.509 (all mbedTLS 3.6 defaults). */
#if !defined(MBEDTLS_ECDSA_C) || !defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED) || !defined(MBEDTLS_PK_PARSE_C) || \
    !defined(MBEDTLS_PEM_PARSE_C) || !defined(MBEDTLS_SHA256_C) || !defined(MBEDTLS_SSL_CLI_C) ||            \
    !defined(MBEDTLS_SSL_PROTO_TLS1_2) || !defined(MBEDTLS_SSL_PROTO_TLS1_3) ||                             \
    !defined(MBEDTLS_X509_CRT_PARSE_C) || !defined(MBEDTLS_PSA_CRYPTO_C) || !defined(MBEDTLS_THREADING_PTHREAD)
#error "mbedTLS configuration lacks a feature bootrino needs"
#endif

#ifdef NSS_STUBS
/* c-ares references glibc's NSS service look-ups (getservbyname_r and getservbyport_r when built with CMake,
 * getservbyname with autotools); curl always passes numeric ports, so they are unreachable.
 * Defining them keeps NSS (and its dlopen) out of a static binary and silences the linker warnings. */
struct servent *getservbyname(const char *name, const char *proto) { (void)name; (void)proto; return NULL; }
int getservbyname_r(const char *name, const char *proto, struct servent *ret, char *buf, size_t len,
                    struct servent **res)
{
    (void)name; (void)proto; (void)ret; (void)buf; (void)len;
    *res = NULL;
    return ENOENT;
}
int getservbyport_r(int port, const char *proto, struct servent *ret, char *buf, size_t len, struct servent **res)
{
    (void)port; (void)proto; (void)ret; (void)buf; (void)len;
    *res = NULL;
    return ENOENT;
}
#endif

int main(void)
{
    static const unsigned char abc_sha256[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    unsigned char hash[32];
    size_t hash_len = 0;
    char mbedtls_ver[18];
    const char *cv;
    const char *const *p;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return fprintf(stderr, "curl_global_init failed\n"), 1;
    cv = curl_version();
    printf("curl_version: %s\n", cv);
    if (!strstr(cv, "mbedTLS/") || !strstr(cv, "c-ares/") || !strstr(cv, "zlib/"))
        return fprintf(stderr, "libcurl is not built with mbedTLS, c-ares and zlib\n"), 1;
    printf("protocols:");
    for (p = curl_version_info(CURLVERSION_NOW)->protocols; *p; p++) {
        printf(" %s", *p);
        if (strcmp(*p, "http") && strcmp(*p, "https")) return fprintf(stderr, "\nunexpected protocol %s\n", *p), 1;
    }
    printf("\nfeatures:");
    for (p = curl_version_info(CURLVERSION_NOW)->feature_names; *p; p++) printf(" %s", *p);
    printf("\n");

    if (psa_crypto_init() != PSA_SUCCESS) return fprintf(stderr, "psa_crypto_init failed\n"), 1;
    if (psa_hash_compute(PSA_ALG_SHA_256, (const unsigned char *)"abc", 3, hash, sizeof hash, &hash_len) !=
            PSA_SUCCESS || hash_len != 32 || memcmp(hash, abc_sha256, 32))
        return fprintf(stderr, "SHA-256 known-answer test failed\n"), 1;
    mbedtls_version_get_string(mbedtls_ver);
    printf("mbedtls %s, c-ares %s, zlib %s\n", mbedtls_ver, ares_version(NULL), zlibVersion());
    curl_global_cleanup();
    return 0;
}
