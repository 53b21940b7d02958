// Helpers shared by the userdata tests: gzip and base64 encoders (the code
// under test only decodes), and keys that pass the validators.
#pragma once

#include <string>
#include <string_view>

#include <zlib.h>

namespace userdata::testing {

inline constexpr std::string_view kRef =
    "https://example.com/alpine/bootrino.sh#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
inline constexpr std::string_view kOtherRef = "https://example.org/tinycore/bootrino.sh";
inline constexpr std::string_view kAlice =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEAtS9g8+Xsg93Rh2pHr6z7ytu7U8OWEag6TNkYgKuMQ alice@example";
inline constexpr std::string_view kBob =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH13MGrvsr4AXjK0QWPmuhQsIyYojfvUAL97QMfvw8/h bob@example";
inline constexpr std::string_view kPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEp3+DM0kNsuxjhxhTixCrBLXT53YJ\n"
    "mRkNi7lYMenOBxN2Nf6iGaY1jY0R1VkPkJAgPfLQ/i5E8Yljzjc4W1U1Nw==\n"
    "-----END PUBLIC KEY-----\n";

inline std::string Gzip(std::string_view data, int level = 9) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string Base64(std::string_view data, std::size_t line_length = 76) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t column = 0;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<unsigned char>(data[i + 1]) << 8;
    if (i + 2 < data.size()) n |= static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < data.size() ? kAlphabet[n & 63] : '=';
    if ((column += 4) >= line_length) {
      out += '\n';
      column = 0;
    }
  }
  return out;
}

}  // namespace userdata::testing
