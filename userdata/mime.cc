#include "userdata/mime.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "base/base.h"
#include "userdata/decode.h"
#include "userdata/reader_util.h"

namespace userdata {
namespace {

using base::Trim;

using base::ErrorKind;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Cuts the next line off `text` (without its "\n" or "\r\n"); false at the end.
bool NextLine(std::string_view& text, std::string_view& line) {
  if (text.empty()) return false;
  std::size_t nl = text.find('\n');
  line = text.substr(0, nl);
  text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

// RFC 5322 field name: printable ASCII but ':' and space.
bool IsHeaderLine(std::string_view line) {
  std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  return std::all_of(line.begin(), line.begin() + colon, [](char c) { return c > ' ' && c < 127 && c != ':'; });
}

struct Headers {
  std::vector<std::pair<std::string, std::string>> fields;  // lowercase name, unfolded value
  std::string_view body;

  std::string Get(std::string_view name) const {
    for (const auto& [n, v] : fields) {
      if (n == name) return v;
    }
    return "";
  }
};

// Headers end at the first empty line, or at the first line that is neither a
// header nor a continuation (lenient, like Python's email package cloud-init uses).
Headers ReadHeaders(std::string_view text) {
  Headers h;
  std::string_view rest = text, line;
  for (;;) {
    std::string_view before = rest;
    if (!NextLine(rest, line)) {
      h.body = rest;
      return h;
    }
    if (line.empty()) {
      h.body = rest;
      return h;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !h.fields.empty()) {
      h.fields.back().second += " " + std::string(Trim(line));
    } else if (IsHeaderLine(line)) {
      std::size_t colon = line.find(':');
      h.fields.emplace_back(Lower(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1))));
    } else {
      h.body = before;
      return h;
    }
  }
}

// "type/sub; a=1; b=\"x;y\"" → the lowercase type and a map of lowercase names to unquoted values.
std::pair<std::string, std::vector<std::pair<std::string, std::string>>> SplitParams(std::string_view value) {
  std::vector<std::string> pieces(1);
  bool quoted = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted && c == '\\' && i + 1 < value.size()) {
      pieces.back() += value[++i];
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ';' && !quoted) {
      pieces.emplace_back();
    } else {
      pieces.back() += c;
    }
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    std::string_view p = Trim(pieces[i]);
    std::size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    params.emplace_back(Lower(Trim(p.substr(0, eq))), std::string(Trim(p.substr(eq + 1))));
  }
  return {Lower(Trim(pieces[0])), std::move(params)};
}

std::string Param(const std::vector<std::pair<std::string, std::string>>& params, std::string_view name) {
  for (const auto& [n, v] : params) {
    if (n == name) return v;
  }
  return "";
}

}  // namespace

bool LooksLikeMime(std::string_view data) {
  Headers h = ReadHeaders(data.substr(0, 4096));
  return !h.fields.empty() && (!h.Get("content-type").empty() || !h.Get("mime-version").empty());
}

base::Result<MimeEntity> ParseEntity(std::string_view text) {
  Headers h = ReadHeaders(text);
  MimeEntity entity;
  auto [type, params] = SplitParams(h.Get("content-type"));
  entity.content_type = type;
  entity.boundary = Param(params, "boundary");
  entity.filename = Param(SplitParams(h.Get("content-disposition")).second, "filename");
  if (entity.filename.empty()) entity.filename = Param(params, "name");
  if (entity.content_type.starts_with("multipart/") && entity.boundary.empty()) {
    return Bad("a " + entity.content_type + " Content-Type has no boundary parameter",
               "write the archive with `cloud-init devel make-mime`, which sets it");
  }
  const std::string encoding = Lower(Trim(h.Get("content-transfer-encoding")));
  if (encoding.empty() || encoding == "7bit" || encoding == "8bit" || encoding == "binary") {
    entity.body = std::string(h.body);
  } else if (encoding == "base64") {
    auto decoded = DecodeBase64(h.body);
    if (!decoded) return std::unexpected(std::move(decoded).error());
    entity.body = std::move(*decoded);
  } else if (encoding == "quoted-printable") {
    entity.body = DecodeQuotedPrintable(h.body);
  } else {
    return Bad("unknown Content-Transfer-Encoding \"" + encoding + "\"",
               "use base64, quoted-printable, 7bit or 8bit");
  }
  return entity;
}

base::Result<std::vector<std::string_view>> SplitMultipart(std::string_view body, std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  std::vector<std::string_view> parts;
  std::string_view rest = body, line;
  const char* part_start = nullptr;  // after the delimiter line of the current part
  bool closed = false;
  for (;;) {
    const char* line_start = rest.data();
    if (!NextLine(rest, line)) break;
    if (!line.starts_with(delimiter)) continue;
    std::string_view after = line.substr(delimiter.size());
    const bool close = after.starts_with("--");
    if (close) after.remove_prefix(2);
    if (!Trim(after).empty()) continue;  // a line that merely starts like the boundary
    if (part_start) {
      // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
      std::string_view part(part_start, static_cast<std::size_t>(line_start - part_start));
      if (part.ends_with("\n")) part.remove_suffix(1);
      if (part.ends_with("\r")) part.remove_suffix(1);
      parts.push_back(part);
    }
    if (close) {
      closed = true;
      break;
    }
    part_start = rest.empty() ? body.data() + body.size() : rest.data();
  }
  if (!part_start) {
    return Bad("multipart body has no part: its boundary \"" + std::string(boundary) + "\" never appears",
               "the archive is damaged or truncated: write it again with `cloud-init devel make-mime`");
  }
  if (!closed) {
    return Bad("multipart body ends without its closing boundary \"" + delimiter + "--\": it is truncated",
               "upload the whole archive again");
  }
  return parts;
}

}  // namespace userdata
