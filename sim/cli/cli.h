// The `bitcycle` command line: subcommands with their own options, parsed by
// Boost.Program_options. Returns the process exit code (0 ok, 2 bad input).
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace bc {
int cli_main(int argc, char** argv);
// --hw: a config file as given, or a shipped config's name (h100:
// configs/hw/h100.yaml); a name that is neither is an InputError listing them.
std::string resolve_hw(const std::string& arg);
// Parses a subcommand's options: prints `usage` and the options and returns
// false for --help; an option given an empty text (--json "") is an InputError.
bool parse_options(int argc, char** argv, boost::program_options::options_description& d,
                   boost::program_options::positional_options_description& pos,
                   boost::program_options::variables_map& vm, const char* usage);
}  // namespace bc
