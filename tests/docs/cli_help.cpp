#include "tests/docs/cli_help.hpp"

#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace guardian::test {

std::vector<std::string> help_options(const std::string& help) {
    // CLI11 lists options as "  -o,--output TEXT ..." or "    --device TEXT"
    // (indented further inside an option group).
    static const std::regex line_re(R"(^\s+(-[A-Za-z0-9])?,?(--[a-z][a-z0-9-]*)?(\s|$))");
    std::vector<std::string> out;
    std::istringstream in(help);
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_search(line, m, line_re))
            continue;
        for (const std::size_t i : {std::size_t{1}, std::size_t{2}})
            if (m[i].matched)
                out.push_back(m[i].str());
    }
    return out;
}

std::vector<std::string> help_subcommands(const std::string& help) {
    std::vector<std::string> out;
    std::istringstream in(help);
    std::string line;
    bool in_section = false;
    static const std::regex name_re(R"(^  ([a-z][a-z0-9-]*)(\s|$))");
    while (std::getline(in, line)) {
        if (line == "Subcommands:") {
            in_section = true;
            continue;
        }
        if (!in_section)
            continue;
        std::smatch m;
        if (!std::regex_search(line, m, name_re))
            break; // the blank line that ends the section
        out.push_back(m[1].str());
    }
    return out;
}

std::map<std::string, std::vector<std::string>> options_per_command(const std::string& exe) {
    std::map<std::string, std::vector<std::string>> out;
    const auto top = run_command("'" + exe + "' --help");
    if (top.exit_code != 0) {
        ADD_FAILURE() << exe << " --help: exit " << top.exit_code << "\n" << top.err;
        return {};
    }
    out[""] = help_options(top.out);
    for (const auto& sub : help_subcommands(top.out)) {
        const auto r = run_command("'" + exe + "' " + sub + " --help");
        if (r.exit_code != 0) {
            ADD_FAILURE() << exe << " " << sub << " --help: exit " << r.exit_code << "\n" << r.err;
            return {};
        }
        out[sub] = help_options(r.out);
    }
    return out;
}

} // namespace guardian::test
