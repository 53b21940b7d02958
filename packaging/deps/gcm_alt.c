/* mbedTLS's GCM API (mbedtls/gcm.h, MBEDTLS_GCM_ALT) on Nettle's GCM: see gcm_alt.h for why.
 * packaging/deps.sh copies this file into mbedTLS's library/ and adds it to the library's sources, so TLS
 * (cipher_wrap.c, psa_crypto_aead.c) and everything else that calls mbedtls_gcm_* gets it.
 *
 * The contract is mbedTLS 3.6's gcm.c, function for function: the same argument checks and error codes, and
 * immediate output from mbedtls_gcm_update (output length == input length, so callers that pass
 * output_size == input_length keep working). Deliberate differences, all refusals of what gcm.c would
 * silently get wrong: mbedtls_gcm_update_ad after input, a mode other than encrypt/decrypt, use before
 * mbedtls_gcm_setkey and partly overlapping buffers (Nettle's CTR needs them equal or disjoint) are
 * MBEDTLS_ERR_GCM_BAD_INPUT; mbedtls_gcm_auth_decrypt checks the tag length before writing any output and
 * wipes the output on every failure.
 *
 * Nettle's GCM takes whole 16-byte blocks except in its last call, while mbedTLS's update takes any length.
 * So a partial block waits in ctx->buf and is given to Nettle once complete (or at the end); its output is
 * produced at once by running the same partial block through a copy of Nettle's per-message state, which
 * gives the same key stream bytes, since CTR output depends only on the position. */
#include "common.h"

#if defined(MBEDTLS_GCM_C) && defined(MBEDTLS_GCM_ALT)

#include <string.h>

#include <nettle/memops.h>

#include "mbedtls/error.h"
#include "mbedtls/gcm.h"
#include "mbedtls/platform_util.h"

/* Nettle's block cipher signature over mbedTLS's ECB (ARIA, Camellia): Nettle only calls it with whole
 * blocks. ECB of one block cannot fail once the key is set, so there is no error to pass on. */
static void other_encrypt(const void *cipher, size_t length, uint8_t *dst, const uint8_t *src)
{
    mbedtls_cipher_context_t *ecb = (mbedtls_cipher_context_t *) cipher;
    size_t olen;
    for (; length >= 16; length -= 16, src += 16, dst += 16) {
        (void) mbedtls_cipher_update(ecb, src, 16, dst, &olen);
    }
}

static void free_cipher(mbedtls_gcm_context *ctx)
{
    if (ctx->other) {
        mbedtls_cipher_free(&ctx->cipher.other);
    }
    mbedtls_platform_zeroize(&ctx->cipher, sizeof(ctx->cipher));
    ctx->other = 0;
    ctx->x86_on = 0;
    ctx->encrypt = NULL;
}

/* Nettle's AES key schedule, whichever key size: each context's keys member is its first. */
static const void *round_keys(const mbedtls_gcm_context *ctx)
{
    return ctx->cipher.aes128.keys;
}

void mbedtls_gcm_init(mbedtls_gcm_context *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
}

static int setkey_other(mbedtls_gcm_context *ctx, mbedtls_cipher_id_t cipher, const unsigned char *key,
                        unsigned int keybits)
{
    const mbedtls_cipher_info_t *info = mbedtls_cipher_info_from_values(cipher, keybits, MBEDTLS_MODE_ECB);
    int ret;
    if (info == NULL || mbedtls_cipher_info_get_block_size(info) != 16) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    mbedtls_cipher_init(&ctx->cipher.other);
    ctx->other = 1;
    if ((ret = mbedtls_cipher_setup(&ctx->cipher.other, info)) != 0 ||
        (ret = mbedtls_cipher_setkey(&ctx->cipher.other, key, (int) keybits, MBEDTLS_ENCRYPT)) != 0) {
        free_cipher(ctx);
        return ret;
    }
    ctx->encrypt = other_encrypt;
    return 0;
}

int mbedtls_gcm_setkey(mbedtls_gcm_context *ctx, mbedtls_cipher_id_t cipher, const unsigned char *key,
                       unsigned int keybits)
{
    int ret;
    if (keybits != 128 && keybits != 192 && keybits != 256) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    free_cipher(ctx);
    if (cipher != MBEDTLS_CIPHER_ID_AES) {
        if ((ret = setkey_other(ctx, cipher, key, keybits)) != 0) {
            return ret;
        }
    } else if (keybits == 128) {
        aes128_set_encrypt_key(&ctx->cipher.aes128, key);
        ctx->encrypt = (nettle_cipher_func *) aes128_encrypt;
    } else if (keybits == 192) {
        aes192_set_encrypt_key(&ctx->cipher.aes192, key);
        ctx->encrypt = (nettle_cipher_func *) aes192_encrypt;
    } else {
        aes256_set_encrypt_key(&ctx->cipher.aes256, key);
        ctx->encrypt = (nettle_cipher_func *) aes256_encrypt;
    }
#if defined(__x86_64__)
    if (cipher == MBEDTLS_CIPHER_ID_AES && bootrino_gcm_x86_usable()) {
        /* Nettle's AES key schedule is the round keys as AES-NI takes them: 10, 12 or 14 rounds. */
        bootrino_gcm_x86_set_key(&ctx->x86, round_keys(ctx), 6 + keybits / 32);
        ctx->x86_on = 1;
        return 0;
    }
#endif
    gcm_set_key(&ctx->key, &ctx->cipher, ctx->encrypt);
    return 0;
}

const char *bootrino_gcm_implementation(const mbedtls_gcm_context *ctx)
{
    if (ctx->encrypt == NULL) {
        return NULL;
    }
    if (ctx->x86_on) {
        return ctx->x86.wide ? "x86 VAES+VPCLMULQDQ" : "x86 AES-NI+PCLMULQDQ";
    }
    return "nettle";
}

int mbedtls_gcm_starts(mbedtls_gcm_context *ctx, int mode, const unsigned char *iv, size_t iv_len)
{
    /* IV is limited to 2^64 bits, so 2^61 bytes, and must not be empty (as gcm.c). */
    if (iv_len == 0 || (uint64_t) iv_len >> 61 != 0) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    if (ctx->encrypt == NULL || (mode != MBEDTLS_GCM_ENCRYPT && mode != MBEDTLS_GCM_DECRYPT)) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    ctx->mode = (unsigned char) mode;
    ctx->len = 0;
    ctx->add_len = 0;
    memset(ctx->buf, 0, sizeof(ctx->buf));
    /* 12 bytes: IV || 1; any other length: GHASH(IV) */
#if defined(__x86_64__)
    if (ctx->x86_on) {
        bootrino_gcm_x86_set_iv(&ctx->gcm, &ctx->x86, iv_len, iv);
        return 0;
    }
#endif
    gcm_set_iv(&ctx->gcm, &ctx->key, iv_len, iv);
    return 0;
}

/* The hash of AD: whole blocks, or the last partial one. */
static void hash_ad(mbedtls_gcm_context *ctx, size_t length, const uint8_t *data)
{
#if defined(__x86_64__)
    if (ctx->x86_on) {
        bootrino_gcm_x86_update(&ctx->gcm, &ctx->x86, length, data);
        return;
    }
#endif
    gcm_update(&ctx->gcm, &ctx->key, length, data);
}

int mbedtls_gcm_update_ad(mbedtls_gcm_context *ctx, const unsigned char *add, size_t add_len)
{
    uint64_t new_add_len;
    size_t offset, use_len, whole;

    /* AD is limited to 2^64 bits, ie 2^61 bytes (as gcm.c); none is accepted after the first input. */
#if SIZE_MAX > 0xFFFFFFFFFFFFFFFFULL
    if (add_len > 0xFFFFFFFFFFFFFFFFULL) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
#endif
    new_add_len = ctx->add_len + (uint64_t) add_len;
    if (new_add_len < ctx->add_len || new_add_len >> 61 != 0 || ctx->len != 0) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    if (add_len == 0) {
        return 0;
    }
    offset = (size_t) (ctx->add_len % 16);
    ctx->add_len = new_add_len;
    if (offset != 0) {  /* complete the waiting partial block first */
        use_len = 16 - offset < add_len ? 16 - offset : add_len;
        memcpy(ctx->buf + offset, add, use_len);
        add += use_len;
        add_len -= use_len;
        if (offset + use_len < 16) {
            return 0;
        }
        hash_ad(ctx, 16, ctx->buf);
    }
    whole = add_len - add_len % 16;
    if (whole != 0) {
        hash_ad(ctx, whole, add);
    }
    memcpy(ctx->buf, add + whole, add_len - whole);
    return 0;
}

/* The AD's last partial block, given to Nettle before the first input (Nettle's last call for AD). */
static void flush_ad(mbedtls_gcm_context *ctx)
{
    if (ctx->len == 0 && ctx->add_len % 16 != 0) {
        hash_ad(ctx, (size_t) (ctx->add_len % 16), ctx->buf);
        memset(ctx->buf, 0, sizeof(ctx->buf));
    }
}

static void run_gcm(const mbedtls_gcm_context *ctx, struct gcm_ctx *gcm, size_t length, uint8_t *dst,
                    const uint8_t *src)
{
#if defined(__x86_64__)
    if (ctx->x86_on) {
        bootrino_gcm_x86_crypt(gcm, &ctx->x86, round_keys(ctx), ctx->mode == MBEDTLS_GCM_ENCRYPT, length, dst,
                               src);
        return;
    }
#endif
    if (ctx->mode == MBEDTLS_GCM_ENCRYPT) {
        gcm_encrypt(gcm, &ctx->key, &ctx->cipher, ctx->encrypt, length, dst, src);
    } else {
        gcm_decrypt(gcm, &ctx->key, &ctx->cipher, ctx->encrypt, length, dst, src);
    }
}

/* Output for bytes [from, to) of the waiting partial block, without committing it: a copy of the message
 * state runs the partial block (Nettle allows a partial block as a last call). */
static void preview(const mbedtls_gcm_context *ctx, size_t from, size_t to, unsigned char *output)
{
    struct gcm_ctx scratch = ctx->gcm;
    unsigned char out[16];
    run_gcm(ctx, &scratch, to, out, ctx->buf);
    memcpy(output, out + from, to - from);
    mbedtls_platform_zeroize(out, sizeof(out));
    mbedtls_platform_zeroize(&scratch, sizeof(scratch));
}

int mbedtls_gcm_update(mbedtls_gcm_context *ctx, const unsigned char *input, size_t input_length,
                       unsigned char *output, size_t output_size, size_t *output_length)
{
    size_t offset, use_len, whole;
    unsigned char out[16];

    if (output_size < input_length) {
        return MBEDTLS_ERR_GCM_BUFFER_TOO_SMALL;
    }
    *output_length = input_length;
    if (input_length == 0) {  /* as gcm.c: a partial block of AD stays open for more */
        return 0;
    }
    if (output != input && output < input + input_length && input < output + input_length) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    /* Total length is restricted to 2^39 - 256 bits, ie 2^36 - 2^5 bytes (as gcm.c). */
    if (ctx->len + input_length < ctx->len || (uint64_t) ctx->len + input_length > 0xFFFFFFFE0ull) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    flush_ad(ctx);
    offset = (size_t) (ctx->len % 16);
    ctx->len += input_length;
    if (offset != 0) {  /* continue the waiting partial block */
        use_len = 16 - offset < input_length ? 16 - offset : input_length;
        memcpy(ctx->buf + offset, input, use_len);
        if (offset + use_len < 16) {
            preview(ctx, offset, offset + use_len, output);
            return 0;
        }
        run_gcm(ctx, &ctx->gcm, 16, out, ctx->buf);
        memcpy(output, out + offset, use_len);
        mbedtls_platform_zeroize(out, sizeof(out));
        input += use_len;
        output += use_len;
        input_length -= use_len;
    }
    whole = input_length - input_length % 16;
    if (whole != 0) {
        run_gcm(ctx, &ctx->gcm, whole, output, input);
    }
    if (input_length > whole) {  /* a new partial block waits */
        memcpy(ctx->buf, input + whole, input_length - whole);
        preview(ctx, 0, input_length - whole, output + whole);
    }
    return 0;
}

int mbedtls_gcm_finish(mbedtls_gcm_context *ctx, unsigned char *output, size_t output_size,
                       size_t *output_length, unsigned char *tag, size_t tag_len)
{
    unsigned char out[16];

    /* Output is immediate: finish never has any to give. */
    (void) output;
    (void) output_size;
    *output_length = 0;
    if (tag_len > 16 || tag_len < 4) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    flush_ad(ctx);
    if (ctx->len % 16 != 0) {  /* the last partial block, its output already given */
        run_gcm(ctx, &ctx->gcm, (size_t) (ctx->len % 16), out, ctx->buf);
        mbedtls_platform_zeroize(out, sizeof(out));
    }
#if defined(__x86_64__)
    if (ctx->x86_on) {
        bootrino_gcm_x86_digest(&ctx->gcm, &ctx->x86, round_keys(ctx), tag_len, tag);
        return 0;
    }
#endif
    gcm_digest(&ctx->gcm, &ctx->key, &ctx->cipher, ctx->encrypt, tag_len, tag);
    return 0;
}

int mbedtls_gcm_crypt_and_tag(mbedtls_gcm_context *ctx, int mode, size_t length, const unsigned char *iv,
                              size_t iv_len, const unsigned char *add, size_t add_len,
                              const unsigned char *input, unsigned char *output, size_t tag_len,
                              unsigned char *tag)
{
    int ret;
    size_t olen;
    if ((ret = mbedtls_gcm_starts(ctx, mode, iv, iv_len)) != 0 ||
        (ret = mbedtls_gcm_update_ad(ctx, add, add_len)) != 0 ||
        (ret = mbedtls_gcm_update(ctx, input, length, output, length, &olen)) != 0 ||
        (ret = mbedtls_gcm_finish(ctx, NULL, 0, &olen, tag, tag_len)) != 0) {
        return ret;
    }
    return 0;
}

int mbedtls_gcm_auth_decrypt(mbedtls_gcm_context *ctx, size_t length, const unsigned char *iv,
                             size_t iv_len, const unsigned char *add, size_t add_len,
                             const unsigned char *tag, size_t tag_len, const unsigned char *input,
                             unsigned char *output)
{
    unsigned char check_tag[16];
    int ret;

    if (tag_len > 16 || tag_len < 4) {  /* before any output: gcm.c would leave unverified plaintext */
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    ret = mbedtls_gcm_crypt_and_tag(ctx, MBEDTLS_GCM_DECRYPT, length, iv, iv_len, add, add_len, input, output,
                                    tag_len, check_tag);
    if (ret == 0 && !memeql_sec(tag, check_tag, tag_len)) {  /* constant time */
        ret = MBEDTLS_ERR_GCM_AUTH_FAILED;
    }
    mbedtls_platform_zeroize(check_tag, sizeof(check_tag));
    if (ret != 0 && length != 0 &&
        !(output != input && output < input + length && input < output + length)) {
        mbedtls_platform_zeroize(output, length);  /* no unauthenticated plaintext leaves */
    }
    return ret;
}

void mbedtls_gcm_free(mbedtls_gcm_context *ctx)
{
    if (ctx == NULL) {
        return;
    }
    free_cipher(ctx);
    mbedtls_platform_zeroize(ctx, sizeof(*ctx));
}

#endif /* MBEDTLS_GCM_C && MBEDTLS_GCM_ALT */
