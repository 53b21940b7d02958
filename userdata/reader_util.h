// What the user-data readers share: how they refuse input they will not take,
// and how they keep lists of keys.
#pragma once

#include <algorithm>
#include <expected>
#include <string>
#include <utility>
#include <vector>

#include "base/base.h"

namespace userdata {

/// A kUsage failure with its advice: user-data bootrino will not read, and what to write instead.
inline std::unexpected<base::Error> Bad(std::string message, std::string hint) {
  return base::Fail(base::Error(base::ErrorKind::kUsage, std::move(message)).Hint(std::move(hint)));
}

/// Drops the later copies of each string, keeping the first in its place.
inline void Dedupe(std::vector<std::string>& list) {
  std::vector<std::string> unique;
  for (std::string& s : list) {
    if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(std::move(s));
  }
  list = std::move(unique);
}

}  // namespace userdata
