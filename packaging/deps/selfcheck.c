/* Self-check run by packaging/deps.sh once after a build: links every library with -static and checks that the
 * features bootrino relies on are really there. Not part of bootrino itself.
 * Link order: -lcurl -lcares -lmbedtls -lmbedx509 -lmbedcrypto -larchive -lzstd -lz */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <archive.h>
#include <archive_entry.h>
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

/* Writes a newc cpio holding one file into memory through FILTER (none, gzip or zstd, all in-process: libarchive
 * falls back to running an external gzip/zstd program, with ARCHIVE_WARN, when it lacks the library), then reads
 * it back with the cpio reader and checks name, size and contents. Returns the archive's size, 0 on failure. */
static size_t cpio_roundtrip(int filter, const char *filter_name)
{
    static const char content[] = "hello from bootrino\n";
    static unsigned char buf[65536];
    char data[sizeof content];
    size_t used = 0;
    int ok = 0;
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();

    if (!a || !e) return fprintf(stderr, "libarchive: out of memory\n"), 0;
    archive_entry_set_pathname(e, "etc/hello.txt");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)(sizeof content - 1));
    if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
        (filter == ARCHIVE_FILTER_GZIP && archive_write_add_filter_gzip(a) != ARCHIVE_OK) ||
        (filter == ARCHIVE_FILTER_ZSTD && archive_write_add_filter_zstd(a) != ARCHIVE_OK) ||
        archive_write_open_memory(a, buf, sizeof buf, &used) != ARCHIVE_OK ||
        archive_write_header(a, e) != ARCHIVE_OK ||
        archive_write_data(a, content, sizeof content - 1) != (la_ssize_t)(sizeof content - 1) ||
        archive_write_close(a) != ARCHIVE_OK) {
        fprintf(stderr, "libarchive: writing a newc cpio (%s) failed: %s\n", filter_name, archive_error_string(a));
        archive_entry_free(e);
        archive_write_free(a);
        return 0;
    }
    archive_entry_free(e);
    archive_write_free(a);

    a = archive_read_new();
    if (!a) return fprintf(stderr, "libarchive: out of memory\n"), 0;
    if (archive_read_support_format_cpio(a) == ARCHIVE_OK && archive_read_support_filter_gzip(a) == ARCHIVE_OK &&
        archive_read_support_filter_zstd(a) == ARCHIVE_OK && archive_read_open_memory(a, buf, used) == ARCHIVE_OK &&
        archive_read_next_header(a, &e) == ARCHIVE_OK && archive_filter_code(a, 0) == filter &&
        archive_format(a) == ARCHIVE_FORMAT_CPIO_SVR4_NOCRC && !strcmp(archive_entry_pathname(e), "etc/hello.txt") &&
        archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) == (la_int64_t)(sizeof content - 1) &&
        archive_read_data(a, data, sizeof data) == (la_ssize_t)(sizeof content - 1) &&
        !memcmp(data, content, sizeof content - 1) && archive_read_next_header(a, &e) == ARCHIVE_EOF)
        ok = 1;
    else
        fprintf(stderr, "libarchive: reading back the newc cpio (%s) failed: %s\n", filter_name,
                archive_error_string(a) ? archive_error_string(a) : "unexpected contents");
    archive_read_free(a);
    return ok ? used : 0;
}

int main(void)
{
    static const unsigned char abc_sha256[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    unsigned char hash[32];
    size_t hash_len = 0;
    char mbedtls_ver[18];
    const char *cv, *ad;
    const char *const *p;
    size_t n_none, n_gzip, n_zstd;

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
    printf("mbedtls %s, c-ares %s, zlib %s, zstd %s\n", mbedtls_ver, ares_version(NULL), zlibVersion(),
           ZSTD_versionString());
    curl_global_cleanup();

    ad = archive_version_details();
    printf("archive_version_details: %s\n", ad);
    if (!strstr(ad, " zlib/") || !strstr(ad, " libzstd/"))
        return fprintf(stderr, "libarchive is not built with zlib and zstd\n"), 1;
    if (!(n_none = cpio_roundtrip(ARCHIVE_FILTER_NONE, "none")) ||
        !(n_gzip = cpio_roundtrip(ARCHIVE_FILTER_GZIP, "gzip")) ||
        !(n_zstd = cpio_roundtrip(ARCHIVE_FILTER_ZSTD, "zstd")))
        return 1;
    printf("newc cpio round trip in memory: %zu bytes plain, %zu gzip, %zu zstd\n", n_none, n_gzip, n_zstd);
    return 0;
}
