// host: what this machine is, read and never changed: its network (interfaces, addresses and how each was
// configured, routes, DNS, MTU), for the RAM OS to carry over.
// Depends on base/ only (and nlohmann_json).
// Code outside host/ includes this header, not host's others.
#pragma once

#include "host/network.h"
