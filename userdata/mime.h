// MIME messages as cloud-init writes them (`cloud-init devel make-mime`,
// write-mime-multipart): RFC 2045/2046 headers, multipart bodies split at
// their boundary, base64 and quoted-printable transfer encodings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"

namespace userdata {

/// One MIME entity: a whole message, or one part of a multipart body.
struct MimeEntity {
  std::string content_type;  ///< lowercase "type/subtype" without parameters; "" when absent
  std::string boundary;      ///< the boundary parameter of a multipart/* type
  std::string filename;      ///< from Content-Disposition (or the type's name=), for messages
  std::string body;          ///< with its Content-Transfer-Encoding undone
};

/// True when `data` starts with mail headers among which is a Content-Type or a
/// MIME-Version header, as cloud-init's MIME archives do.
bool LooksLikeMime(std::string_view data);

/// Reads an entity's headers and decodes its body. Errors are kUsage.
[[nodiscard]] base::Result<MimeEntity> ParseEntity(std::string_view text);

/// The raw text of each part of a multipart body, in order (preamble and
/// epilogue dropped). A body without its closing boundary is truncated: an error.
[[nodiscard]] base::Result<std::vector<std::string_view>> SplitMultipart(std::string_view body,
                                                                        std::string_view boundary);

}  // namespace userdata
