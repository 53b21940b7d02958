// observe: what bootrino tells the world while it works: the phase events (--json-events), lines and progress
// for a person, the status URL's POSTs, how a verified manifest is shown (text, JSON), and how a run ends (the
// error with what to do, and the exit code).
// Depends on base/, net/ and fetch/ (and nlohmann_json).
// Code outside observe/ includes this header, not observe's others.
#pragma once

#include "observe/events.h"
#include "observe/outcome.h"
#include "observe/report.h"
