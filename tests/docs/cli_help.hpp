// What a guardian program's CLI11 --help says: its subcommands and the
// options of each. The docs tests hold the man pages and the bash completions
// against this, so neither can silently fall behind the code.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace guardian::test {

// Options listed in a help text ("-o", "--output", ...), in order; only the
// option table lines, not options quoted in the footer's examples.
std::vector<std::string> help_options(const std::string& help);
// Subcommand names listed under "Subcommands:".
std::vector<std::string> help_subcommands(const std::string& help);

// Runs `exe --help` and `exe SUB --help` for every subcommand; key "" holds
// the program's own options. A failing run is a gtest failure and yields an
// empty map.
std::map<std::string, std::vector<std::string>> options_per_command(const std::string& exe);

} // namespace guardian::test
