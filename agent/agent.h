// agent: everything of bootrino but main(): the command line's options, the subcommands and the pipeline they
// run, the manifest's hooks and the RAM stage. Unit tests reach its pure helpers through the agent library.
// Depends on every other library: takeover/, ramos/, host/, observe/, fetch/, kexec/, disk/, userdata/, net/ and
// base/ (and CLI11).
// Code outside the agent library (main.cc) includes this header, not agent's others.
#pragma once

#include "agent/commands.h"
#include "agent/pipeline.h"
#include "agent/run_options.h"
