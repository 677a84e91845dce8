// The generated man pages: each renders without a groff warning, and each
// names (in bold, as an option) every option its program's --help and its
// subcommands' --help print, and guardian.conf(5) every key of the
// configuration key table. A new option or key without documentation fails
// here.
#include "guardian/core/config.hpp"
#include "tests/docs/cli_help.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> k_pages{"guardiand.8", "guardianctl.1", "guardian-host.1",
                                       "guardian-hostd.8", "guardian.conf.5"};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path page_path(const std::string& page) {
    return fs::path(GUARDIAN_MAN_DIR) / page;
}

// The page's roff without the zero-width \& scdoc puts after periods (so
// that "kernel-risk.json" reads "kernel-risk.\&json").
std::string roff_of(const std::string& page) {
    std::string roff = slurp(page_path(page));
    for (auto at = roff.find("\\&"); at != std::string::npos; at = roff.find("\\&", at))
        roff.erase(at, 2);
    return roff;
}

// scdoc renders *--opt* as \fB--opt\fR; require that form, not a mere
// mention in running text or an example.
bool names_option(const std::string& roff, const std::string& option) {
    const std::regex re("\\\\fB" + option + "([^A-Za-z0-9-]|$)");
    return std::regex_search(roff, re);
}

TEST(ManPages, RenderWithoutWarnings) {
    if (run_command("command -v groff").exit_code != 0)
        GTEST_SKIP() << "groff is not installed (apt-get install groff-base)";
    for (const auto& page : k_pages) {
        ASSERT_TRUE(fs::exists(page_path(page))) << page << " was not generated";
        // -ww: every warning; -z: format, discard the output.
        const auto r = run_command("groff -man -Tutf8 -ww -z '" + page_path(page).string() + "'");
        EXPECT_EQ(r.exit_code, 0) << page << "\n" << r.err;
        EXPECT_EQ(r.err, "") << page;
    }
}

TEST(ManPages, HaveTheStandardSections) {
    for (const auto& page : k_pages) {
        const std::string roff = roff_of(page);
        for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "SEE ALSO"})
            EXPECT_NE(roff.find(std::string(".SH ") + section), std::string::npos)
                << page << " lacks " << section;
        // The version in the footer is the project's, substituted at build time.
        EXPECT_NE(roff.find(std::string("guardian ") + GUARDIAN_VERSION), std::string::npos)
            << page;
        EXPECT_EQ(roff.find("@PROJECT_VERSION@"), std::string::npos) << page;
    }
}

struct ProgramPage {
    const char* exe;
    const char* page;
};

TEST(ManPages, NameEveryOptionOfTheirProgram) {
    for (const ProgramPage& p :
         {ProgramPage{GUARDIAND, "guardiand.8"}, ProgramPage{GUARDIANCTL, "guardianctl.1"},
          ProgramPage{GUARDIAN_HOST, "guardian-host.1"},
          ProgramPage{GUARDIAN_HOSTD, "guardian-hostd.8"}}) {
        const std::string roff = roff_of(p.page);
        ASSERT_FALSE(roff.empty()) << p.page;
        const auto commands = options_per_command(p.exe);
        ASSERT_FALSE(commands.empty()) << p.exe;
        std::size_t checked = 0;
        for (const auto& [command, options] : commands) {
            if (!command.empty()) {
                EXPECT_TRUE(names_option(roff, command) ||
                            roff.find("\\fB" + fs::path(p.exe).filename().string() + " " +
                                      command) != std::string::npos)
                    << p.page << " does not document the command '" << command << "'";
            }
            for (const auto& option : options) {
                EXPECT_TRUE(names_option(roff, option))
                    << p.page << " does not document " << (command.empty() ? "" : command + " ")
                    << option;
                ++checked;
            }
        }
        // --help and --version at least, and the parse found the rest.
        EXPECT_GT(checked, 2u) << p.exe;
    }
}

TEST(ManPages, ConfPageNamesEveryConfigKey) {
    const std::string roff = roff_of("guardian.conf.5");
    ASSERT_FALSE(roff.empty());
    ASSERT_FALSE(config_keys().empty());
    for (const auto& key : config_keys()) {
        // Each key opens its own entry: "\fBkey\fR = ...", with its default.
        const std::string entry = "\\fB" + std::string(key.name) + "\\fR = ";
        const auto at = roff.find(entry);
        ASSERT_NE(at, std::string::npos) << "guardian.conf.5 does not document " << key.name;
        // ... and its first "Default:" line gives the table's default.
        const auto def = roff.find("Default: ", at);
        ASSERT_NE(def, std::string::npos) << key.name << ": no default given";
        const std::string def_line = roff.substr(def, roff.find('\n', def) - def);
        const std::string fallback =
            key.fallback.empty() ? "empty" : "\\fB" + std::string(key.fallback) + "\\fR";
        EXPECT_EQ(def_line.rfind("Default: " + fallback + ".", 0), 0u)
            << key.name << ": the page says '" << def_line << "', the table " << key.fallback;
    }
}

} // namespace
} // namespace guardian::test
