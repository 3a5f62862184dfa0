// The `bitcycle` command line: subcommands with their own options, parsed by
// Boost.Program_options. Returns the process exit code (0 ok, 2 bad input).
#pragma once

#include <string>

namespace bc {
int cli_main(int argc, char** argv);
// --hw: a config file as given, or a shipped config's name (h100:
// configs/hw/h100.yaml); a name that is neither is an InputError listing them.
std::string resolve_hw(const std::string& arg);
}  // namespace bc
