// The TLS 1.3 cipher suites bootrino offers (net::Tls13Ciphers): AES-GCM first
// where the CPU accelerates it, ChaCha20-Poly1305 first elsewhere, and the same
// set of suites in both orders.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/http.h"

namespace {

std::vector<std::string> Split(std::string_view list) {
  std::vector<std::string> out;
  std::stringstream in{std::string(list)};
  for (std::string item; std::getline(in, item, ':');) out.push_back(item);
  return out;
}

TEST(Tls13Ciphers, AesGcmFirstWhenAccelerated) {
  const auto suites = Split(net::Tls13Ciphers(true));
  ASSERT_GE(suites.size(), 3u);
  EXPECT_EQ(suites[0], "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(suites[1], "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(suites[2], "TLS_CHACHA20_POLY1305_SHA256");
}

TEST(Tls13Ciphers, ChaChaFirstOtherwise) {
  const auto suites = Split(net::Tls13Ciphers(false));
  ASSERT_GE(suites.size(), 3u);
  EXPECT_EQ(suites[0], "TLS_CHACHA20_POLY1305_SHA256");
}

TEST(Tls13Ciphers, SameSuitesEitherWay) {
  auto fast = Split(net::Tls13Ciphers(true)), portable = Split(net::Tls13Ciphers(false));
  std::sort(fast.begin(), fast.end());
  std::sort(portable.begin(), portable.end());
  EXPECT_EQ(fast, portable);
  // mbedTLS 3.6's TLS 1.3 suites, none dropped by giving an order.
  EXPECT_EQ(fast, (std::vector<std::string>{"TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_SHA256",
                                            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                            "TLS_CHACHA20_POLY1305_SHA256"}));
}

#if defined(__x86_64__)
// The CPUID check agrees with the kernel's flags (both AES-NI and PCLMULQDQ).
TEST(Tls13Ciphers, CpuCheckAgreesWithProcCpuinfo) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line) && !line.starts_with("flags")) {
  }
  ASSERT_TRUE(line.starts_with("flags"));
  const std::string flags = line + " ";
  const bool expected = flags.find(" aes ") != std::string::npos && flags.find(" pclmulqdq ") != std::string::npos;
  EXPECT_EQ(net::CpuAcceleratesAesGcm(), expected);
}
#endif

}  // namespace
