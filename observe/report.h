// How bootrino shows a verified manifest and its payload: as text for a
// person, as JSON for a program (inspect --json, the stage index, events).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "fetch/fetch.h"

namespace observe {

/// One payload file: role, name, size, sha256 and URLs (credentials removed).
nlohmann::ordered_json FileJson(const fetch::StageItem& item);

/// The manifest, where it came from, how it was verified, and every architecture's payload.
nlohmann::ordered_json ManifestJson(const fetch::VerifiedManifest& vm);

/// The same for a person, on stdout.
void PrintManifest(const fetch::VerifiedManifest& vm);


}  // namespace observe
