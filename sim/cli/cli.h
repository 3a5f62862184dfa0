// The `bitcycle` command line: subcommands with their own options, parsed by
// Boost.Program_options. Returns the process exit code (0 ok, 2 bad input).
#pragma once

namespace bc {
int cli_main(int argc, char** argv);
}
