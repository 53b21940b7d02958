/* AES-GCM on AES-NI and PCLMULQDQ: see gcm_x86.h for why and for the contract.
 *
 * The hash follows Gueron and Kounavis, "Intel Carry-Less Multiplication Instruction and its Usage for
 * Computing the GCM Mode" (rev. 2.02, 2014): blocks are byte-reversed so that GF(2^128) elements are
 * bit-reflected polynomials in a register, a product is four carry-less multiplications, a shift left by one
 * and a reduction modulo x^128 + x^7 + x^2 + x + 1 (their Algorithm 5). Since the shift and the reduction
 * are linear, eight blocks are hashed with one of each: X' = (X + C1)H^8 + C2 H^7 + ... + C8 H (their
 * "aggregated reduction"). The counter mode encrypts the same eight blocks in between, so the AES and the
 * carry-less multiplier units work at once. Nothing here branches on or indexes by secret data. */
#define _GNU_SOURCE /* secure_getenv */
#include "mbedtls/gcm_x86.h"

#if defined(__x86_64__)

#include <stdlib.h>
#include <string.h>

#include <cpuid.h>
#include <immintrin.h>

/* 1 where NETTLE_FAT_OVERRIDE, Nettle's test knob (a comma-separated list of the features its fat build may
 * use), is unset or names the feature. */
static int override_names(const char *feature)
{
    const char *s = secure_getenv("NETTLE_FAT_OVERRIDE");
    size_t length = strlen(feature);
    if (s == NULL) {
        return 1;
    }
    while (*s != '\0') {
        size_t n = strcspn(s, ",");
        if (n == length && memcmp(s, feature, n) == 0) {
            return 1;
        }
        s += n + (s[n] == ',');
    }
    return 0;
}

int bootrino_gcm_x86_usable(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        return 0;
    }
    /* ECX bit 25: AES-NI, bit 1: PCLMULQDQ, bit 19: SSE4.1, bit 9: SSSE3. */
    if (!(ecx & (1u << 25)) || !(ecx & (1u << 1)) || !(ecx & (1u << 19)) || !(ecx & (1u << 9))) {
        return 0;
    }
    return override_names("aesni") && override_names("pclmul");
}

/* 1 where the CPU also has VAES, VPCLMULQDQ and AVX2 and the kernel saves the 256-bit registers; the
 * override must name "vaes" and "vpclmulqdq" as well (Nettle ignores names it does not know). */
static int wide_usable(void)
{
    unsigned eax, ebx, ecx, edx, xcr0_low, xcr0_high;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27)) || !(ecx & (1u << 28))) {
        return 0;  /* bit 27: OSXSAVE (XGETBV works), bit 28: AVX */
    }
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 6) != 6) {  /* the kernel saves SSE and AVX state */
        return 0;
    }
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        return 0;
    }
    /* EBX bit 5: AVX2; ECX bit 9: VAES, bit 10: VPCLMULQDQ. */
    if (!(ebx & (1u << 5)) || !(ecx & (1u << 9)) || !(ecx & (1u << 10))) {
        return 0;
    }
    return override_names("vaes") && override_names("vpclmulqdq");
}

#pragma GCC push_options
#pragma GCC target("aes,pclmul,sse4.1,ssse3")

static inline __m128i bswap128(__m128i v)
{
    return _mm_shuffle_epi8(v, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/* The product a*b before reduction, added to (lo, mid, hi): lo and hi are the low and high 128 bits of
 * the 256-bit product of the 64-bit halves, mid the sum of the two cross terms (shifted into place later). */
static inline void mul_add(__m128i a, __m128i b, __m128i *lo, __m128i *mid, __m128i *hi)
{
    *lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
    *hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
    *mid = _mm_xor_si128(*mid, _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x01)));
}

/* (lo, mid, hi) as a 256-bit product, shifted left by one and reduced: the element of GF(2^128). */
static inline __m128i reduce(__m128i lo, __m128i mid, __m128i hi)
{
    __m128i t2, t4, t5, t7, t8, t9;
    lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    /* Shift the 256 bits [hi:lo] left by one. */
    t7 = _mm_srli_epi32(lo, 31);
    t8 = _mm_srli_epi32(hi, 31);
    lo = _mm_slli_epi32(lo, 1);
    hi = _mm_slli_epi32(hi, 1);
    t9 = _mm_srli_si128(t7, 12);
    t8 = _mm_slli_si128(t8, 4);
    t7 = _mm_slli_si128(t7, 4);
    lo = _mm_or_si128(lo, t7);
    hi = _mm_or_si128(hi, t8);
    hi = _mm_or_si128(hi, t9);
    /* First phase of the reduction. */
    t7 = _mm_slli_epi32(lo, 31);
    t8 = _mm_slli_epi32(lo, 30);
    t9 = _mm_slli_epi32(lo, 25);
    t7 = _mm_xor_si128(t7, _mm_xor_si128(t8, t9));
    t8 = _mm_srli_si128(t7, 4);
    t7 = _mm_slli_si128(t7, 12);
    lo = _mm_xor_si128(lo, t7);
    /* Second phase. */
    t2 = _mm_srli_epi32(lo, 1);
    t4 = _mm_srli_epi32(lo, 2);
    t5 = _mm_srli_epi32(lo, 7);
    t2 = _mm_xor_si128(t2, _mm_xor_si128(t4, t5));
    t2 = _mm_xor_si128(t2, t8);
    lo = _mm_xor_si128(lo, t2);
    return _mm_xor_si128(hi, lo);
}

static inline __m128i gf_mul(__m128i a, __m128i b)
{
    __m128i lo = _mm_setzero_si128(), mid = _mm_setzero_si128(), hi = _mm_setzero_si128();
    mul_add(a, b, &lo, &mid, &hi);
    return reduce(lo, mid, hi);
}

static inline __m128i load_h(const struct bootrino_gcm_x86_key *key, unsigned power)
{
    return _mm_loadu_si128((const __m128i *) key->h[power - 1]);
}

static inline __m128i encrypt_block(const struct bootrino_gcm_x86_key *key, const void *round_keys, __m128i block)
{
    const __m128i *rk = (const __m128i *) round_keys;
    unsigned r;
    block = _mm_xor_si128(block, _mm_loadu_si128(rk));
    for (r = 1; r < key->rounds; r++) {
        block = _mm_aesenc_si128(block, _mm_loadu_si128(rk + r));
    }
    return _mm_aesenclast_si128(block, _mm_loadu_si128(rk + key->rounds));
}

void bootrino_gcm_x86_set_key(struct bootrino_gcm_x86_key *key, const void *round_keys, unsigned rounds)
{
    __m128i h, power;
    unsigned i;
    key->rounds = rounds;
    key->wide = wide_usable();
    h = bswap128(encrypt_block(key, round_keys, _mm_setzero_si128()));
    power = h;
    for (i = 0; i < 8; i++) {
        _mm_storeu_si128((__m128i *) key->h[i], power);
        power = gf_mul(power, h);
    }
}

/* Adds block i (0 to 7, as in memory) of an eight-block run to the run's product: the first block carries the
 * hash so far, and block i is multiplied by H^(8-i). */
static inline void add_block(const struct bootrino_gcm_x86_key *key, unsigned i, __m128i block, __m128i x,
                             __m128i *lo, __m128i *mid, __m128i *hi)
{
    block = bswap128(block);
    if (i == 0) {
        block = _mm_xor_si128(block, x);
    }
    mul_add(block, load_h(key, 8 - i), lo, mid, hi);
}

/* The hash of whole blocks and, last, of a partial one padded with zeros. */
static __m128i hash_blocks(const struct bootrino_gcm_x86_key *key, __m128i x, size_t length, const uint8_t *data)
{
    __m128i h1 = load_h(key, 1);
    for (; length >= 8 * 16; length -= 8 * 16, data += 8 * 16) {
        __m128i lo = _mm_setzero_si128(), mid = _mm_setzero_si128(), hi = _mm_setzero_si128();
        unsigned i;
#pragma GCC unroll 8
        for (i = 0; i < 8; i++) {
            add_block(key, i, _mm_loadu_si128((const __m128i *) (data + 16 * i)), x, &lo, &mid, &hi);
        }
        x = reduce(lo, mid, hi);
    }
    for (; length >= 16; length -= 16, data += 16) {
        x = gf_mul(_mm_xor_si128(x, bswap128(_mm_loadu_si128((const __m128i *) data))), h1);
    }
    if (length > 0) {
        uint8_t block[16] = {0};
        memcpy(block, data, length);
        x = gf_mul(_mm_xor_si128(x, bswap128(_mm_loadu_si128((const __m128i *) block))), h1);
    }
    return x;
}

static inline __m128i load_x(const struct gcm_ctx *ctx)
{
    return _mm_loadu_si128((const __m128i *) ctx->x.b);
}

static inline void store_x(struct gcm_ctx *ctx, __m128i x)
{
    _mm_storeu_si128((__m128i *) ctx->x.b, x);
}

void bootrino_gcm_x86_set_iv(struct gcm_ctx *ctx, const struct bootrino_gcm_x86_key *key, size_t length,
                             const uint8_t *iv)
{
    if (length == 12) {  /* J0 = IV || 0^31 || 1 */
        memcpy(ctx->iv.b, iv, 12);
        memcpy(ctx->iv.b + 12, "\0\0\0\1", 4);
    } else {  /* J0 = GHASH(IV || 0-padding || 0^64 || [len(IV) in bits]_64) */
        uint8_t lengths[16] = {0};
        uint64_t bits = (uint64_t) length * 8;
        __m128i j0;
        unsigned i;
#pragma GCC unroll 8
        for (i = 0; i < 8; i++) {
            lengths[15 - i] = (uint8_t) (bits >> (8 * i));
        }
        j0 = hash_blocks(key, _mm_setzero_si128(), length, iv);
        j0 = hash_blocks(key, j0, 16, lengths);
        _mm_storeu_si128((__m128i *) ctx->iv.b, bswap128(j0));
    }
    ctx->ctr = ctx->iv;
    {  /* inc32: the low 32 bits, big-endian, wrap */
        uint32_t c = ((uint32_t) ctx->ctr.b[12] << 24 | (uint32_t) ctx->ctr.b[13] << 16 |
                      (uint32_t) ctx->ctr.b[14] << 8 | ctx->ctr.b[15]) + 1;
        ctx->ctr.b[12] = (uint8_t) (c >> 24);
        ctx->ctr.b[13] = (uint8_t) (c >> 16);
        ctx->ctr.b[14] = (uint8_t) (c >> 8);
        ctx->ctr.b[15] = (uint8_t) c;
    }
    store_x(ctx, _mm_setzero_si128());
    ctx->auth_size = 0;
    ctx->data_size = 0;
}

void bootrino_gcm_x86_update(struct gcm_ctx *ctx, const struct bootrino_gcm_x86_key *key, size_t length,
                             const uint8_t *data)
{
    store_x(ctx, hash_blocks(key, load_x(ctx), length, data));
    ctx->auth_size += length;
}

/* The counter block for counter value c: J0's first 96 bits (in base) and c big-endian. */
static inline __m128i counter_block(__m128i base, uint32_t c)
{
    return _mm_insert_epi32(base, (int) __builtin_bswap32(c), 3);
}

/* Eight blocks at a time on 128-bit registers: the bytes done (length rounded down to 128). */
static size_t bulk_narrow(const struct bootrino_gcm_x86_key *key, const void *round_keys, int encrypt,
                          size_t length, uint8_t *dst, const uint8_t *src, __m128i base, uint32_t *counter,
                          __m128i *hash)
{
    const __m128i *rk = (const __m128i *) round_keys;
    const unsigned rounds = key->rounds;
    const size_t done = length - length % (8 * 16);
    uint32_t c = *counter;
    __m128i x = *hash;
    for (length = done; length > 0; length -= 8 * 16, src += 8 * 16, dst += 8 * 16) {
        __m128i b[8], k, lo = _mm_setzero_si128(), mid = _mm_setzero_si128(), hi = _mm_setzero_si128();
        unsigned i, r;
        k = _mm_loadu_si128(rk);
#pragma GCC unroll 8
        for (i = 0; i < 8; i++) {
            b[i] = _mm_xor_si128(counter_block(base, c + i), k);
        }
        c += 8;
        if (!encrypt) {  /* decryption hashes the ciphertext it was given, alongside the AES rounds */
#pragma GCC unroll 8
            for (i = 0; i < 8; i++) {
                add_block(key, i, _mm_loadu_si128((const __m128i *) (src + 16 * i)), x, &lo, &mid, &hi);
                k = _mm_loadu_si128(rk + 1 + i);
                b[0] = _mm_aesenc_si128(b[0], k);
                b[1] = _mm_aesenc_si128(b[1], k);
                b[2] = _mm_aesenc_si128(b[2], k);
                b[3] = _mm_aesenc_si128(b[3], k);
                b[4] = _mm_aesenc_si128(b[4], k);
                b[5] = _mm_aesenc_si128(b[5], k);
                b[6] = _mm_aesenc_si128(b[6], k);
                b[7] = _mm_aesenc_si128(b[7], k);
            }
            r = 9;
        } else {
            r = 1;
        }
#pragma GCC unroll 14
        for (; r < rounds; r++) {
            k = _mm_loadu_si128(rk + r);
#pragma GCC unroll 8
            for (i = 0; i < 8; i++) {
                b[i] = _mm_aesenc_si128(b[i], k);
            }
        }
        k = _mm_loadu_si128(rk + rounds);
#pragma GCC unroll 8
        for (i = 0; i < 8; i++) {
            __m128i in = _mm_loadu_si128((const __m128i *) (src + 16 * i));
            __m128i out = _mm_xor_si128(_mm_aesenclast_si128(b[i], k), in);
            _mm_storeu_si128((__m128i *) (dst + 16 * i), out);
            if (encrypt) {  /* encryption hashes what it wrote */
                add_block(key, i, out, x, &lo, &mid, &hi);
            }
        }
        x = reduce(lo, mid, hi);
    }
    *counter = c;
    *hash = x;
    return done;
}

/* add_block for pair i (0 to 3) of an eight-block run in 256-bit registers: blocks 2i and 2i+1, multiplied by
 * the powers in h (H^(8-2i) in lane 0, H^(7-2i) in lane 1). */
__attribute__((target("avx2,vpclmulqdq"))) static inline void add_pair(__m256i h, unsigned i, __m256i pair,
                                                                       __m128i x, __m256i *lo, __m256i *mid,
                                                                       __m256i *hi)
{
    const __m256i reverse =
        _mm256_broadcastsi128_si256(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    pair = _mm256_shuffle_epi8(pair, reverse);
    if (i == 0) {
        pair = _mm256_xor_si256(pair, _mm256_zextsi128_si256(x));
    }
    *lo = _mm256_xor_si256(*lo, _mm256_clmulepi64_epi128(pair, h, 0x00));
    *hi = _mm256_xor_si256(*hi, _mm256_clmulepi64_epi128(pair, h, 0x11));
    *mid = _mm256_xor_si256(*mid, _mm256_xor_si256(_mm256_clmulepi64_epi128(pair, h, 0x10),
                                                   _mm256_clmulepi64_epi128(pair, h, 0x01)));
}

/* The same on 256-bit registers (VAES, VPCLMULQDQ): two blocks per AES round instruction and per
 * carry-less multiplication. Lane 0 of each register holds the even block of a pair, lane 1 the odd one. */
__attribute__((target("avx2,vaes,vpclmulqdq"))) static size_t bulk_wide(
    const struct bootrino_gcm_x86_key *key, const void *round_keys, int encrypt, size_t length, uint8_t *dst,
    const uint8_t *src, __m128i base, uint32_t *counter, __m128i *hash)
{
    const __m128i *rk = (const __m128i *) round_keys;
    const unsigned rounds = key->rounds;
    const size_t done = length - length % (8 * 16);
    /* Counter blocks with their 32-bit counter little-endian, so that a lane's counter is one add away;
     * the same shuffle turns them back. The add wraps at 2^32 as GCM's counter does. */
    const __m256i swap_counter =
        _mm256_broadcastsi128_si256(_mm_set_epi8(12, 13, 14, 15, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    const __m256i two = _mm256_set_epi32(2, 0, 0, 0, 2, 0, 0, 0);
    __m256i h[4], ctr;
    __m128i x = *hash;
    unsigned i, r;

    for (i = 0; i < 4; i++) {  /* block 2i is multiplied by H^(8-2i), block 2i+1 by H^(7-2i) */
        h[i] = _mm256_set_m128i(load_h(key, 7 - 2 * i), load_h(key, 8 - 2 * i));
    }
    ctr = _mm256_shuffle_epi8(_mm256_set_m128i(counter_block(base, *counter + 1), counter_block(base, *counter)),
                              swap_counter);
    for (length = done; length > 0; length -= 8 * 16, src += 8 * 16, dst += 8 * 16) {
        __m256i b[4], in[4], k, lo = _mm256_setzero_si256(), mid = _mm256_setzero_si256(),
                                hi = _mm256_setzero_si256();
        k = _mm256_broadcastsi128_si256(_mm_loadu_si128(rk));
#pragma GCC unroll 4
        for (i = 0; i < 4; i++) {
            b[i] = _mm256_xor_si256(_mm256_shuffle_epi8(ctr, swap_counter), k);
            ctr = _mm256_add_epi32(ctr, two);
            in[i] = _mm256_loadu_si256((const __m256i *) (src + 32 * i));
        }
        r = 1;
        if (!encrypt) {  /* decryption hashes the ciphertext it was given, alongside the AES rounds */
#pragma GCC unroll 4
            for (i = 0; i < 4; i++) {
                add_pair(h[i], i, in[i], x, &lo, &mid, &hi);
                k = _mm256_broadcastsi128_si256(_mm_loadu_si128(rk + r++));
                b[0] = _mm256_aesenc_epi128(b[0], k);
                b[1] = _mm256_aesenc_epi128(b[1], k);
                b[2] = _mm256_aesenc_epi128(b[2], k);
                b[3] = _mm256_aesenc_epi128(b[3], k);
            }
        }
#pragma GCC unroll 14
        for (; r < rounds; r++) {
            k = _mm256_broadcastsi128_si256(_mm_loadu_si128(rk + r));
            b[0] = _mm256_aesenc_epi128(b[0], k);
            b[1] = _mm256_aesenc_epi128(b[1], k);
            b[2] = _mm256_aesenc_epi128(b[2], k);
            b[3] = _mm256_aesenc_epi128(b[3], k);
        }
        k = _mm256_broadcastsi128_si256(_mm_loadu_si128(rk + rounds));
#pragma GCC unroll 4
        for (i = 0; i < 4; i++) {
            __m256i out = _mm256_xor_si256(_mm256_aesenclast_epi128(b[i], k), in[i]);
            _mm256_storeu_si256((__m256i *) (dst + 32 * i), out);
            if (encrypt) {  /* encryption hashes what it wrote */
                add_pair(h[i], i, out, x, &lo, &mid, &hi);
            }
        }
        x = reduce(_mm_xor_si128(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1)),
                   _mm_xor_si128(_mm256_castsi256_si128(mid), _mm256_extracti128_si256(mid, 1)),
                   _mm_xor_si128(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1)));
    }
    *counter += (uint32_t) (done / 16);
    *hash = x;
    return done;
}

void bootrino_gcm_x86_crypt(struct gcm_ctx *ctx, const struct bootrino_gcm_x86_key *key, const void *round_keys,
                            int encrypt,
                            size_t length, uint8_t *dst, const uint8_t *src)
{
    __m128i base = _mm_loadu_si128((const __m128i *) ctx->ctr.b);
    uint32_t c = __builtin_bswap32((uint32_t) _mm_extract_epi32(base, 3));
    __m128i x = load_x(ctx);
    __m128i h1 = load_h(key, 1);
    size_t done;

    ctx->data_size += length;
    done = key->wide ? bulk_wide(key, round_keys, encrypt, length, dst, src, base, &c, &x)
                     : bulk_narrow(key, round_keys, encrypt, length, dst, src, base, &c, &x);
    length -= done;
    src += done;
    dst += done;
    for (; length > 0; length -= length < 16 ? length : 16, src += 16, dst += 16) {
        uint8_t in[16] = {0}, out[16];
        size_t n = length < 16 ? length : 16;
        __m128i ks = encrypt_block(key, round_keys, counter_block(base, c++));
        memcpy(in, src, n);
        _mm_storeu_si128((__m128i *) out, _mm_xor_si128(ks, _mm_loadu_si128((const __m128i *) in)));
        memcpy(dst, out, n);
        memset(out + n, 0, 16 - n);  /* the hash takes the ciphertext padded with zeros */
        x = gf_mul(_mm_xor_si128(x, bswap128(_mm_loadu_si128((const __m128i *) (encrypt ? out : in)))), h1);
        if (n < 16) {
            break;
        }
    }
    _mm_storeu_si128((__m128i *) ctx->ctr.b, counter_block(base, c));
    store_x(ctx, x);
}

void bootrino_gcm_x86_digest(struct gcm_ctx *ctx, const struct bootrino_gcm_x86_key *key, const void *round_keys,
                             size_t length,
                             uint8_t *digest)
{
    uint8_t lengths[16], tag[16];
    uint64_t ad_bits = ctx->auth_size * 8, data_bits = ctx->data_size * 8;
    __m128i x;
    unsigned i;
    for (i = 0; i < 8; i++) {
        lengths[7 - i] = (uint8_t) (ad_bits >> (8 * i));
        lengths[15 - i] = (uint8_t) (data_bits >> (8 * i));
    }
    x = hash_blocks(key, load_x(ctx), 16, lengths);
    x = _mm_xor_si128(bswap128(x), encrypt_block(key, round_keys, _mm_loadu_si128((const __m128i *) ctx->iv.b)));
    _mm_storeu_si128((__m128i *) tag, x);
    memcpy(digest, tag, length);
    memset(tag, 0, sizeof(tag));
}

#pragma GCC pop_options

#else /* not x86_64: gcm_alt.c uses Nettle everywhere */

int bootrino_gcm_x86_usable(void)
{
    return 0;
}

#endif
