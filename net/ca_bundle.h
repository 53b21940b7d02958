// The CA certificates compiled into bootrino, for hosts with no CA bundle of
// their own (minimal images). They are Debian's ca-certificates (Mozilla's
// list) as installed on the build machine.
#pragma once

#include <string_view>

namespace net {

/// PEM text of the embedded CA bundle.
std::string_view EmbeddedCaBundle();

}  // namespace net
