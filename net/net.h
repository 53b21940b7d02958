// net: libcurl with bootrino's rules in one place: protocols, redirects (never from https to http), proxies,
// timeouts, TLS 1.3 ciphers and the CA bundle compiled in. Configure sets up fetch's parallel transfers; Send makes
// one request (the metadata services, the status URL).
// Depends on base/ and the third-party libraries (libcurl, c-ares, mbedTLS); nothing else of bootrino's.
// Code outside net/ includes this header, not net's others.
#pragma once

#include "net/http.h"
