// takeover: the irreversible part: the takeover plan (pure) and its execution through base::Sys (the load,
// the commit point, the disk's replacement, the boot), the firmware fallback, and detaching from the caller.
// Depends on ramos/, host/, observe/, fetch/, kexec/, disk/ and base/; never on userdata/ or agent/.
// Code outside takeover/ includes this header, not takeover's others.
#pragma once

#include "takeover/detach.h"
#include "takeover/disk_takeover.h"
#include "takeover/execute.h"
#include "takeover/fallback.h"
#include "takeover/plan.h"
