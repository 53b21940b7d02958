/* AES-GCM on x86_64's AES-NI and PCLMULQDQ, eight blocks at a time with the counter mode and the hash
 * interleaved (gcm_x86.c). Used by gcm_alt.c for AES keys when the CPU has the instructions; Nettle's GCM
 * otherwise.
 *
 * Why: Nettle runs GCM as three passes over each record (counter blocks, AES, then GHASH), 2.6 GB/s on the
 * machine bootrino's benchmarks run on, against 3.7 GB/s for OpenSSL's interleaved code; the TLS record path
 * is on the critical path of every HTTPS download.
 *
 * The calls mirror Nettle's gcm_set_iv/gcm_update/gcm_encrypt/gcm_decrypt/gcm_digest, with the same
 * contract (whole 16-byte blocks except in the last call of each kind), and keep their state in Nettle's
 * struct gcm_ctx (iv: J0, ctr: the next counter block, x: the hash in this file's byte-reversed form, and
 * the lengths), so gcm_alt.c can copy a message's state and drive either implementation the same way.
 * round_keys is Nettle's AES key schedule (the keys member of struct aes128_ctx, aes192_ctx or aes256_ctx):
 * rounds + 1 keys of 16 bytes in the byte order AES-NI takes. It is passed to each call, not kept, so the
 * context that holds it may move. */
#ifndef BOOTRINO_GCM_X86_H
#define BOOTRINO_GCM_X86_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/gcm.h>

/* H, H^2, ..., H^8 in the hash's byte-reversed form. */
struct bootrino_gcm_x86_key {
    uint8_t h[8][16];
    unsigned rounds;           /* 10, 12 or 14 */
    int wide;                  /* 1: VAES and VPCLMULQDQ on 256-bit registers, two blocks per instruction */
};

/* 1 where this CPU can run the code below (AES-NI, PCLMULQDQ, SSE4.1) and NETTLE_FAT_OVERRIDE, which masks
 * Nettle's accelerated code for tests, names both "aesni" and "pclmul" or is unset; 0 elsewhere, always 0 on
 * other architectures. bootrino_gcm_x86_set_key also picks the 256-bit code (VAES, VPCLMULQDQ) where the CPU
 * has it and the override, if set, names "vaes" and "vpclmulqdq" too. */
int bootrino_gcm_x86_usable(void);

void bootrino_gcm_x86_set_key(struct bootrino_gcm_x86_key *key, const void *round_keys, unsigned rounds);
void bootrino_gcm_x86_set_iv(struct gcm_ctx *ctx, const struct bootrino_gcm_x86_key *key, size_t length,
                             const uint8_t *iv);
void bootrino_gcm_x86_update(struct gcm_ctx *ctx, const struct bootrino_gcm_x86_key *key, size_t length,
                             const uint8_t *data);
void bootrino_gcm_x86_crypt(struct gcm_ctx *ctx, const struct bootrino_gcm_x86_key *key, const void *round_keys,
                            int encrypt, size_t length, uint8_t *dst, const uint8_t *src);
void bootrino_gcm_x86_digest(struct gcm_ctx *ctx, const struct bootrino_gcm_x86_key *key, const void *round_keys,
                             size_t length, uint8_t *digest);

#endif /* BOOTRINO_GCM_X86_H */
