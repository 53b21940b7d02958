// userdata: a cloud instance's user-data: finding it (cloud-init's copy, NoCloud and config-drive volumes, the
// metadata services) and parsing it (#! scripts, #cloud-config, MIME multipart, gzip) into a Config; the
// platform's SSH keys and hostname; and the `bootrino run` options user-data may give.
// Depends on base/ and net/ (and libyaml, zlib, libblkid, nlohmann_json); never on fetch/, kexec/ or disk/.
// Code outside userdata/ includes this header, not userdata's others.
#pragma once

#include "userdata/config.h"
#include "userdata/metadata.h"
#include "userdata/run_options.h"
