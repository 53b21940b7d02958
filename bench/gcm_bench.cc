// Throughput of mbedTLS's AES-128-GCM as bootrino builds it (packaging/deps/gcm_alt.c): decrypting and
// verifying TLS-sized records (16 KiB, 13 bytes of AD, a 16-byte tag), as every HTTPS download does.
//
// Runs for about a second, five times, and prints the median, in decimal MB/s of the thread's CPU time
// (what `openssl speed` divides by), on one line for bench/gcm.sh to parse:
//   gcm <implementation> <cpu MB/s>
// The implementation is the one this CPU and NETTLE_FAT_OVERRIDE select (bench/gcm.sh runs each).
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <vector>

#include <mbedtls/gcm.h>

namespace {

constexpr std::size_t kRecord = 16384;
constexpr int kRuns = 5;

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

}  // namespace

int main() {
  const unsigned char key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  unsigned char iv[12] = {}, ad[13] = {0x17, 0x03, 0x03, 0x40, 0x11}, tag[16];
  std::vector<unsigned char> plain(kRecord, 0x5a), record(kRecord), out(kRecord);
  mbedtls_gcm_context ctx;
  mbedtls_gcm_init(&ctx);
  if (mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, key, 128) != 0 ||
      mbedtls_gcm_crypt_and_tag(&ctx, MBEDTLS_GCM_ENCRYPT, kRecord, iv, sizeof iv, ad, sizeof ad, plain.data(),
                                record.data(), sizeof tag, tag) != 0) {
    std::fprintf(stderr, "gcm_bench: mbedtls_gcm setup failed\n");
    return 1;
  }
  std::vector<double> rates;
  for (int run = 0; run < kRuns; ++run) {
    const double start = ThreadCpuSeconds();
    std::size_t bytes = 0;
    double elapsed = 0;
    do {
      for (int i = 0; i < 64; ++i, bytes += kRecord) {
        if (mbedtls_gcm_auth_decrypt(&ctx, kRecord, iv, sizeof iv, ad, sizeof ad, tag, sizeof tag, record.data(),
                                     out.data()) != 0) {
          std::fprintf(stderr, "gcm_bench: a record did not verify\n");
          return 1;
        }
      }
      elapsed = ThreadCpuSeconds() - start;
    } while (elapsed < 1.0);
    rates.push_back(static_cast<double>(bytes) / elapsed / 1e6);
  }
  std::sort(rates.begin(), rates.end());
  std::printf("gcm %s %.1f\n", bootrino_gcm_implementation(&ctx), rates[rates.size() / 2]);
  mbedtls_gcm_free(&ctx);
  return out == plain ? 0 : 1;
}
