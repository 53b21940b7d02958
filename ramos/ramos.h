// ramos: what the RAM OS receives, built without side effects: the boot plans (kernel, initrds, command
// lines), the personalisation styles, the network files carried over from the host, and the overlay archives.
// Depends on host/, observe/, fetch/, kexec/, disk/, userdata/ and base/; never on takeover/ or agent/.
// Code outside ramos/ includes this header, not ramos's others.
#pragma once

#include "ramos/boot_plan.h"
#include "ramos/personalise.h"
