// fetch: getting an operating system's files into RAM, verified: manifest references and their pins, trusted
// keys and signatures, the bootrino.sh manifest parser, the staging plan and its memory arithmetic, libcurl
// transfers with retries, mirrors and segments, and streaming SHA-256.
// Depends on base/ and net/ (and libcurl, mbedTLS, nlohmann_json); never on kexec/, disk/ or userdata/.
// Code outside fetch/ includes this header, not fetch's others.
#pragma once

#include "fetch/manifest.h"
#include "fetch/sha256.h"
#include "fetch/stage.h"
#include "fetch/transfer.h"
#include "fetch/trust.h"
#include "fetch/url.h"
