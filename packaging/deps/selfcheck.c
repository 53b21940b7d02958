/* Self-check run by packaging/deps.sh once after a build: links every library with -static and checks that the
 * features bootrino relies on are really there. Not part of bootrino itself.
 * Link order: -lcurl -lcares -lmbedtls -lmbedx509 -lmbedcrypto -lnettle -larchive -lzstd -llzma -lz -lfdisk -lblkid
 * -luuid -lext2fs -le2p -lcom_err -lyaml */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <archive.h>
#include <archive_entry.h>
#include <ares.h>
#include <curl/curl.h>
#include <mbedtls/build_info.h>
#include <mbedtls/gcm.h>
#include <mbedtls/version.h>
#include <psa/crypto.h>
#include <blkid/blkid.h>
#include <e2p/e2p.h>
#include <ext2fs/ext2fs.h>
#include <libfdisk/libfdisk.h>
#include <uuid/uuid.h>
#include <yaml.h>

/* ECDSA P-256 verify, PEM/DER public keys, SHA-256, TLS 1.2 + 1.3 client, X.509 (all mbedTLS 3.6 defaults). */
#if !defined(MBEDTLS_ECDSA_C) || !defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED) || !defined(MBEDTLS_PK_PARSE_C) || \
    !defined(MBEDTLS_PEM_PARSE_C) || !defined(MBEDTLS_SHA256_C) || !defined(MBEDTLS_SSL_CLI_C) ||            \
    !defined(MBEDTLS_SSL_PROTO_TLS1_2) || !defined(MBEDTLS_SSL_PROTO_TLS1_3) ||                             \
    !defined(MBEDTLS_X509_CRT_PARSE_C) || !defined(MBEDTLS_PSA_CRYPTO_C) || !defined(MBEDTLS_THREADING_PTHREAD)
#error "mbedTLS configuration lacks a feature bootrino needs"
#endif
#if !defined(MBEDTLS_GCM_ALT) || !defined(MBEDTLS_SELF_TEST)
#error "mbedTLS is not built with bootrino's AES-GCM on Nettle (MBEDTLS_GCM_ALT) and its self-test"
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

/* Writes a newc cpio holding one file into memory through FILTER (none, gzip, zstd or xz, all in-process: libarchive
 * falls back to running an external gzip/zstd/xz program, with ARCHIVE_WARN, when it lacks the library), then reads
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
        (filter == ARCHIVE_FILTER_XZ && archive_write_add_filter_xz(a) != ARCHIVE_OK) ||
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
        archive_read_support_filter_zstd(a) == ARCHIVE_OK && archive_read_support_filter_xz(a) == ARCHIVE_OK &&
        archive_read_open_memory(a, buf, used) == ARCHIVE_OK &&
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

/* libfdisk writes an empty GPT onto a temporary 4 MiB image file and libblkid reads it back. 1 on success. */
static int gpt_roundtrip(void)
{
    char path[] = "/tmp/bootrino-selfcheck-XXXXXX";
    const char *pttype = NULL;
    int ok = 0, fd = mkstemp(path);
    struct fdisk_context *cxt;
    blkid_probe pr;

    if (fd < 0 || ftruncate(fd, 4 << 20) != 0) return fprintf(stderr, "cannot create %s\n", path), 0;
    close(fd);
    cxt = fdisk_new_context();
    if (cxt && fdisk_assign_device(cxt, path, 0) == 0 && fdisk_create_disklabel(cxt, "gpt") == 0 &&
        fdisk_write_disklabel(cxt) == 0 && fdisk_deassign_device(cxt, 0) == 0) {
        pr = blkid_new_probe_from_filename(path);
        if (pr && blkid_probe_enable_partitions(pr, 1) == 0 && blkid_do_fullprobe(pr) == 0 &&
            blkid_probe_lookup_value(pr, "PTTYPE", &pttype, NULL) == 0 && !strcmp(pttype, "gpt"))
            ok = 1;
        else
            fprintf(stderr, "libblkid: the GPT libfdisk wrote is not found\n");
        if (pr) blkid_free_probe(pr);
    } else {
        fprintf(stderr, "libfdisk: writing a GPT onto %s failed\n", path);
    }
    fdisk_unref_context(cxt);
    unlink(path);
    return ok;
}

/* libyaml parses a small document: 3 scalars. 1 on success. */
static int yaml_parse_check(void)
{
    static const char doc[] = "packages: [curl, zstd]\n";
    yaml_parser_t parser;
    yaml_event_t event;
    int scalars = 0, done = 0, ok = 1;

    if (!yaml_parser_initialize(&parser)) return fprintf(stderr, "yaml_parser_initialize failed\n"), 0;
    yaml_parser_set_input_string(&parser, (const unsigned char *)doc, sizeof doc - 1);
    while (!done && ok) {
        if (!yaml_parser_parse(&parser, &event)) { ok = 0; break; }
        scalars += event.type == YAML_SCALAR_EVENT;
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    if (!ok || scalars != 3) return fprintf(stderr, "libyaml: parsing \"%s\" failed\n", doc), 0;
    return 1;
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
    size_t n_none, n_gzip, n_zstd, n_xz;
    const char *fdisk_ver = NULL, *ext2fs_ver = NULL;
    uuid_t uu;
    char uu_text[37];
    ext2_filsys fs;

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
    if (mbedtls_gcm_self_test(0) != 0)  /* mbedTLS's AES-GCM vectors through gcm_alt.c and Nettle */
        return fprintf(stderr, "mbedtls_gcm_self_test failed: AES-GCM on Nettle (gcm_alt.c) is wrong\n"), 1;
    mbedtls_version_get_string(mbedtls_ver);
    printf("mbedtls %s, c-ares %s, zlib %s, zstd %s\n", mbedtls_ver, ares_version(NULL), zlibVersion(),
           ZSTD_versionString());
    curl_global_cleanup();

    ad = archive_version_details();
    printf("archive_version_details: %s\n", ad);
    if (!strstr(ad, " zlib/") || !strstr(ad, " libzstd/") || !strstr(ad, " liblzma/"))
        return fprintf(stderr, "libarchive is not built with zlib, zstd and liblzma\n"), 1;
    if (!(n_none = cpio_roundtrip(ARCHIVE_FILTER_NONE, "none")) ||
        !(n_gzip = cpio_roundtrip(ARCHIVE_FILTER_GZIP, "gzip")) ||
        !(n_zstd = cpio_roundtrip(ARCHIVE_FILTER_ZSTD, "zstd")) || !(n_xz = cpio_roundtrip(ARCHIVE_FILTER_XZ, "xz")))
        return 1;
    printf("newc cpio round trip in memory: %zu bytes plain, %zu gzip, %zu zstd, %zu xz\n", n_none, n_gzip, n_zstd,
           n_xz);

    if (!gpt_roundtrip() || !yaml_parse_check()) return 1;
    if (uuid_parse("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", uu) != 0)
        return fprintf(stderr, "libuuid: uuid_parse failed\n"), 1;
    uuid_unparse_upper(uu, uu_text);
    if (strcmp(uu_text, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"))
        return fprintf(stderr, "libuuid: parse/unparse round trip gave %s\n", uu_text), 1;
    /* com_err's tables for libext2fs are linked in and registered. */
    initialize_ext2_error_table();
    if (ext2fs_open("/nonexistent/bootrino-selfcheck", 0, 0, 0, unix_io_manager, &fs) != ENOENT ||
        !strstr(error_message(EXT2_ET_BAD_MAGIC), "magic") ||
        strcmp(e2p_feature2string(E2P_FEATURE_INCOMPAT, EXT3_FEATURE_INCOMPAT_EXTENTS), "extent"))
        return fprintf(stderr, "libext2fs/libe2p/libcom_err do not behave as expected\n"), 1;
    fdisk_get_library_version(&fdisk_ver);
    ext2fs_get_library_version(&ext2fs_ver, NULL);
    printf("libfdisk %s wrote a GPT that libblkid %d reads; libext2fs %s; libyaml %s\n", fdisk_ver,
           blkid_get_library_version(NULL, NULL), ext2fs_ver, yaml_get_version_string());
    return 0;
}
