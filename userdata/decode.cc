#include "userdata/decode.h"

#include <array>
#include <memory>

#include <zlib.h>

#include "userdata/reader_util.h"
#include "userdata/config.h"

namespace userdata {
namespace {

using base::ErrorKind;
using base::Fail;

struct InflateEnd {
  void operator()(z_stream* z) const {
    inflateEnd(z);
    delete z;
  }
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

bool IsGzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

base::Result<std::string> Gunzip(std::string_view gzip, std::size_t max_out) {
  std::unique_ptr<z_stream, InflateEnd> z(new z_stream{});
  // 16 + MAX_WBITS: a gzip header and trailer (CRC-32 and length are checked), nothing else.
  if (inflateInit2(z.get(), 16 + MAX_WBITS) != Z_OK) {
    return Fail(ErrorKind::kInternal, "inflateInit2 failed: out of memory?");
  }
  const std::size_t limit = std::min(max_out, gzip.size() * kMaxGzipRatio);
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gzip.data()));
  z->avail_in = static_cast<uInt>(gzip.size());
  std::string out;
  std::array<char, 64 * 1024> buffer;
  for (;;) {
    z->next_out = reinterpret_cast<Bytef*>(buffer.data());
    z->avail_out = buffer.size();
    const int rc = inflate(z.get(), Z_NO_FLUSH);
    const std::size_t produced = buffer.size() - z->avail_out;
    if (out.size() + produced > limit) {
      return Bad("gzip'd data inflates past " + std::to_string(limit) + " bytes (limits: " +
                      std::to_string(max_out) + " bytes, " + std::to_string(kMaxGzipRatio) +
                      " times the compressed size): refused as a decompression bomb",
               "user-data is at most a few KiB of text; send it uncompressed or gzip the real file");
    }
    out.append(buffer.data(), produced);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && z->avail_in == 0) {
      return Bad("gzip'd data is truncated after " + std::to_string(gzip.size()) + " bytes",
               "the user-data was cut off: upload the whole .gz file again");
    }
    if (rc != Z_OK) {
      std::string why = z->msg ? z->msg : "error " + std::to_string(rc);
      return Bad("gzip'd data is corrupt: " + why,
               "check the file with `gzip -t` and upload it again");
    }
  }
  if (z->avail_in != 0) {
    return Bad(std::to_string(z->avail_in) + " bytes follow the end of the gzip stream",
               "user-data holds one gzip stream; compress one file with `gzip -c`");
  }
  return out;
}

base::Result<std::string> DecodeBase64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned bits = 0, nbits = 0;
  std::size_t padding = 0, pos = 0;
  for (char c : text) {
    ++pos;
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || padding > 0) {
      return Bad("invalid base64 at byte " + std::to_string(pos),
               "encode the part with `base64` (standard alphabet, not base64url)");
    }
    bits = (bits << 6) | static_cast<unsigned>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xff));
    }
  }
  // Leftover bits are a partial quantum: 2 or 4 zero bits are fine, 6 is a lone character.
  if (nbits >= 6 || padding > 2) {
    return Bad("base64 text is truncated or over-padded",
               "encode the part with `base64` and paste all of it");
  }
  return out;
}

std::string DecodeQuotedPrintable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\n') {  // soft line break
      i += 1;
    } else if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back('=');
    }
  }
  return out;
}

}  // namespace userdata
