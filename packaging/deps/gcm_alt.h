/* mbedTLS's GCM context when MBEDTLS_GCM_ALT is defined: bootrino's AES-GCM on Nettle (gcm_alt.c).
 * packaging/deps.sh copies this file into mbedTLS's include/mbedtls/ before building it, so mbedtls/gcm.h
 * finds it and it is installed with the other headers.
 *
 * Why: mbedTLS 3.6's own GCM hashes one block at a time (~150-270 MB/s), which made HTTPS transfers CPU-bound.
 * Nettle (GnuTLS's crypto), built "fat", picks AES-NI + PCLMULQDQ or ARMv8 AES + PMULL at run time and portable
 * C on CPUs without them. Every other part of mbedTLS is unchanged.
 *
 * On x86_64 CPUs with AES-NI and PCLMULQDQ, AES-GCM runs on gcm_x86.c instead, which interleaves the counter
 * mode and the hash eight blocks at a time (6.0 GB/s against Nettle's 2.6 on bootrino's benchmark machine).
 *
 * AES (128/192/256-bit keys) runs on Nettle's AES; the other 128-bit block ciphers mbedTLS may pair with GCM
 * (ARIA, Camellia in TLS 1.2 suites) run on mbedTLS's own ECB through the same Nettle GCM code. */
#ifndef BOOTRINO_MBEDTLS_GCM_ALT_H
#define BOOTRINO_MBEDTLS_GCM_ALT_H

#include <stdint.h>

#include <nettle/aes.h>
#include <nettle/gcm.h>

#include "mbedtls/cipher.h"
#include "mbedtls/gcm_x86.h"

typedef struct mbedtls_gcm_context {
    struct gcm_key MBEDTLS_PRIVATE(key);   /* the hash subkey's tables */
    struct gcm_ctx MBEDTLS_PRIVATE(gcm);   /* per-message state: counter and hash */
    union {
        struct aes128_ctx aes128;
        struct aes192_ctx aes192;
        struct aes256_ctx aes256;
        mbedtls_cipher_context_t other;    /* ECB of ARIA or Camellia */
    } MBEDTLS_PRIVATE(cipher);
    struct bootrino_gcm_x86_key MBEDTLS_PRIVATE(x86); /* with x86: the hash subkey's powers */
    nettle_cipher_func *MBEDTLS_PRIVATE(encrypt); /* the block cipher; NULL until mbedtls_gcm_setkey */
    uint64_t MBEDTLS_PRIVATE(len);         /* bytes of input so far */
    uint64_t MBEDTLS_PRIVATE(add_len);     /* bytes of additional data so far */
    unsigned char MBEDTLS_PRIVATE(buf)[16]; /* the partial block not yet given to Nettle (AD, then input) */
    unsigned char MBEDTLS_PRIVATE(mode);   /* MBEDTLS_GCM_ENCRYPT or MBEDTLS_GCM_DECRYPT */
    unsigned char MBEDTLS_PRIVATE(other);  /* 1: cipher.other is set up and must be freed */
    unsigned char MBEDTLS_PRIVATE(x86_on); /* 1: AES on AES-NI + PCLMULQDQ (gcm_x86.c), not Nettle's GCM */
} mbedtls_gcm_context;

/* Which code runs this context's AES-GCM (for tests and benchmarks): "x86 VAES+VPCLMULQDQ",
 * "x86 AES-NI+PCLMULQDQ" or "nettle"; NULL before mbedtls_gcm_setkey. */
const char *bootrino_gcm_implementation(const mbedtls_gcm_context *ctx);

#endif /* BOOTRINO_MBEDTLS_GCM_ALT_H */
