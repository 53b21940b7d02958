// Text that came from outside (a manifest, a server, argv) on its way to a
// person's terminal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace base {

/// `text` made safe to print on a terminal: C0 controls (ESC, CR, BEL, tab
/// …), DEL and C1 controls become visible escapes (`\x1b`, `\u009b`), and so
/// do bytes that are not UTF-8 (an 8-bit terminal reads 0x9b as CSI). A
/// manifest's name can then neither move the cursor, rewrite earlier lines,
/// change the window title nor hide text. `\n` is kept when `keep_newlines`
/// (multi-line output whose lines are structure) and escaped otherwise.
/// A backslash stays as it is. Valid UTF-8 other than controls passes through.
std::string PrintableText(std::string_view text, bool keep_newlines = true);

/// `text` without the spaces, tabs, CRs and LFs around it (a view into `text`).
std::string_view Trim(std::string_view text);

/// `parts` with `separator` between them (a separator follows only text: an empty first part adds none).
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

/// A size for a person: "12.3 MiB".
std::string MiB(std::uint64_t bytes);

/// In whole MiB, rounded up ("7 MiB"): what something needs, so that giving that much is always enough.
std::string WholeMiB(std::uint64_t bytes);

/// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or
/// code points past U+10FFFF).
bool IsUtf8(std::string_view text);

}  // namespace base
