// The bash completions, run the way bash runs them on <TAB>: bash-completion
// sourced, COMP_WORDS / COMP_CWORD / COMP_LINE / COMP_POINT set, the
// function `complete -p` names called, COMPREPLY read back. Every subcommand
// and option the programs' --help prints must be offered.
#include "tests/docs/cli_help.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

using Words = std::set<std::string>;

constexpr const char* k_bash_completion = "/usr/share/bash-completion/bash_completion";

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Splits a command line as readline does for completion: at blanks, and
// '=' as a word of its own (COMP_WORDBREAKS); a trailing blank starts an
// empty word.
std::vector<std::string> comp_words(const std::string& line) {
    std::vector<std::string> words{""};
    for (char c : line) {
        if (c == ' ') {
            if (!words.back().empty())
                words.emplace_back();
        } else if (c == '=') {
            if (!words.back().empty())
                words.emplace_back();
            words.back() = "=";
            words.emplace_back();
        } else {
            words.back() += c;
        }
    }
    return words;
}

struct Where {
    fs::path cwd = fs::current_path();
    fs::path path_prefix; // put first on PATH (fake xenstore-list, xl)
};

// The candidates bash would offer for `line` with the cursor at its end.
Words complete(const std::string& program, const std::string& line, const Where& where = {}) {
    const auto words = comp_words(line);
    std::string words_text;
    for (const auto& w : words)
        words_text += quoted(w) + " ";
    TempDir tmp;
    const fs::path script = tmp.path() / "complete.bash";
    std::ofstream(script) << "source " << k_bash_completion << "\n"
                          << "source " << quoted(GUARDIAN_SOURCE_DIR "/completions/" + program)
                          << "\n"
                          << "spec=$(complete -p " << quoted(program) << ") || exit 3\n"
                          << "fn=${spec##*-F }; fn=${fn%% *}\n"
                          << "COMP_LINE=" << quoted(line) << "; COMP_POINT=${#COMP_LINE}\n"
                          << "COMP_WORDS=(" << words_text << "); COMP_CWORD=" << words.size() - 1
                          << "\nCOMP_TYPE=9; COMP_KEY=9\n"
                          << "\"$fn\" " << quoted(program)
                          << " \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
                          << "(( ${#COMPREPLY[@]} )) && printf '%s\\n' \"${COMPREPLY[@]}\"\n"
                          << "exit 0\n";
    std::string env;
    if (!where.path_prefix.empty())
        env = "PATH=" + quoted(where.path_prefix.string()) + ":\"$PATH\" ";
    const auto r =
        run_command("cd " + quoted(where.cwd.string()) + " && " + env + "bash " + quoted(script));
    EXPECT_EQ(r.exit_code, 0) << line << "\n" << r.err;
    Words out;
    std::istringstream in(r.out);
    std::string w;
    while (std::getline(in, w))
        out.insert(w);
    return out;
}

bool contains(const Words& all, const Words& some) {
    return std::includes(all.begin(), all.end(), some.begin(), some.end());
}

class Completion : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(k_bash_completion))
            GTEST_SKIP() << k_bash_completion << " missing (apt-get install bash-completion)";
    }
};

TEST_F(Completion, GuardianctlCommands) {
    EXPECT_EQ(complete("guardianctl", "guardianctl "),
              (Words{"check", "compare", "history", "sleep-hook", "snapshot", "status"}));
    EXPECT_EQ(complete("guardianctl", "guardianctl ch"), Words{"check"});
    EXPECT_EQ(complete("guardianctl", "guardianctl s"),
              (Words{"sleep-hook", "snapshot", "status"}));
    EXPECT_EQ(complete("guardianctl", "guardianctl --"), (Words{"--help", "--version"}));
}

TEST_F(Completion, GuardianctlOptionsPerCommand) {
    const Words check = complete("guardianctl", "guardianctl check --");
    EXPECT_TRUE(contains(check, {"--device", "--image", "--all-mounted", "--mode", "--json"}));
    EXPECT_FALSE(check.count("--output")) << "an option of snapshot offered to check";
    const Words snap = complete("guardianctl", "guardianctl snapshot --");
    EXPECT_TRUE(contains(snap, {"--output", "--device", "--image"}));
    EXPECT_FALSE(snap.count("--all-mounted")) << "snapshot takes one filesystem";
    EXPECT_EQ(complete("guardianctl", "guardianctl history --l"), Words{"--limit"});
}

TEST_F(Completion, GuardianctlModeValues) {
    EXPECT_EQ(complete("guardianctl", "guardianctl check --mode "),
              (Words{"auto", "live", "stable"}));
    EXPECT_EQ(complete("guardianctl", "guardianctl snapshot --device /dev/xvda1 --mode s"),
              Words{"stable"});
    EXPECT_EQ(complete("guardianctl", "guardianctl check --mode=l"), Words{"live"});
}

TEST_F(Completion, GuardianctlSleepHookPhaseThenKind) {
    EXPECT_EQ(complete("guardianctl", "guardianctl sleep-hook "), (Words{"post", "pre"}));
    EXPECT_EQ(complete("guardianctl", "guardianctl sleep-hook post "),
              (Words{"hibernate", "hybrid-sleep", "suspend", "suspend-then-hibernate"}));
    EXPECT_EQ(complete("guardianctl", "guardianctl sleep-hook post suspend "), Words{});
}

TEST_F(Completion, GuardianctlFiles) {
    TempDir dir;
    std::ofstream(dir.path() / "before.json") << "{}";
    std::ofstream(dir.path() / "disk.img") << "";
    std::ofstream(dir.path() / "guardian.prom") << "";
    fs::create_directory(dir.path() / "saved");
    const Where here{dir.path(), {}};
    // Fingerprints are JSON; directories stay offered to descend into.
    EXPECT_EQ(complete("guardianctl", "guardianctl compare ", here),
              (Words{"before.json", "saved"}));
    EXPECT_EQ(complete("guardianctl", "guardianctl compare before.json ", here),
              (Words{"before.json", "saved"}));
    EXPECT_EQ(complete("guardianctl", "guardianctl compare a.json b.json ", here), Words{});
    EXPECT_EQ(complete("guardianctl", "guardianctl check --image ", here),
              (Words{"before.json", "disk.img", "guardian.prom", "saved"}));
    // status -o writes a node_exporter textfile.
    EXPECT_EQ(complete("guardianctl", "guardianctl status --prometheus -o ", here),
              (Words{"guardian.prom", "saved"}));
    EXPECT_EQ(complete("guardianctl", "guardianctl snapshot --image disk.img -o ", here),
              (Words{"before.json", "saved"}));
}

TEST_F(Completion, GuardianctlDeviceOffersBlockDevices) {
    Words expected;
    for (const char* dir : {"/dev", "/dev/mapper"}) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (fs::is_block_file(e.path()))
                expected.insert(e.path().string());
    }
    if (expected.empty())
        GTEST_SKIP() << "no block device in /dev on this machine";
    EXPECT_EQ(complete("guardianctl", "guardianctl check --device /dev/"), expected);
}

// A fake dom0: xenstore-list and xl on PATH.
class FakeDom0 {
public:
    FakeDom0(const std::string& xenstore_list, const std::string& xl) {
        write("xenstore-list", xenstore_list);
        write("xl", xl);
    }
    [[nodiscard]] Where where() const { return {fs::current_path(), m_dir.path()}; }

private:
    void write(const std::string& name, const std::string& body) {
        const fs::path p = m_dir.path() / name;
        std::ofstream(p) << "#!/bin/sh\n" << body;
        fs::permissions(p, fs::perms::owner_all);
    }
    TempDir m_dir;
};

TEST_F(Completion, GuardianHostCommandsAndOptions) {
    EXPECT_EQ(complete("guardian-host", "guardian-host "),
              (Words{"fleet", "freeze", "history", "preflight", "status", "verify"}));
    EXPECT_EQ(complete("guardian-host", "guardian-host freeze 3 --"),
              (Words{"--help", "--timeout", "--wait"}));
    EXPECT_EQ(complete("guardian-host", "guardian-host status --"),
              (Words{"--help", "--json", "--output", "--prometheus"}));
    EXPECT_EQ(complete("guardian-host", "guardian-host fleet --"),
              (Words{"--help", "--json", "--ledger", "--output", "--prometheus", "--unclean"}));
    EXPECT_EQ(complete("guardian-host", "guardian-host history --"),
              (Words{"--help", "--json", "--ledger"}));
    EXPECT_EQ(complete("guardian-host", "guardian-host history "), Words{});
    EXPECT_EQ(complete("guardian-host", "guardian-host preflight --"),
              (Words{"--help", "--json", "--ledger", "--risk-table"}));
}

TEST_F(Completion, GuardianHostDomainIdsFromXenstore) {
    const FakeDom0 dom0("[ \"$1\" = /local/domain ] && printf '0\\n3\\n17\\n'\n", "exit 1\n");
    EXPECT_EQ(complete("guardian-host", "guardian-host freeze ", dom0.where()),
              (Words{"0", "17", "3"}));
    EXPECT_EQ(complete("guardian-host", "guardian-host verify 1", dom0.where()), Words{"17"});
    // One domain for freeze and verify; any number for status and preflight.
    EXPECT_EQ(complete("guardian-host", "guardian-host verify 3 ", dom0.where()), Words{});
    EXPECT_EQ(complete("guardian-host", "guardian-host preflight 3 ", dom0.where()),
              (Words{"0", "17", "3"}));
    EXPECT_EQ(complete("guardian-host", "guardian-host freeze --timeout 120 ", dom0.where()),
              (Words{"0", "17", "3"}));
    EXPECT_EQ(complete("guardian-host", "guardian-host status 3 ", dom0.where()),
              (Words{"0", "17", "3"}));
}

TEST_F(Completion, GuardianHostDomainIdsFromXlWithoutXenstoreTools) {
    const FakeDom0 dom0("exit 1\n", "cat <<'EOF'\n"
                                    "Name          ID   Mem VCPUs\tState\tTime(s)\n"
                                    "Domain-0       0  1024     2     r-----     100.0\n"
                                    "web            5   512     1     -b----      12.0\n"
                                    "EOF\n");
    EXPECT_EQ(complete("guardian-host", "guardian-host verify ", dom0.where()), (Words{"0", "5"}));
}

// Every subcommand and option the programs print in --help is offered.
TEST_F(Completion, OffersEverythingHelpLists) {
    for (const auto& [program, exe] :
         {std::pair<std::string, std::string>{"guardianctl", GUARDIANCTL},
          std::pair<std::string, std::string>{"guardian-host", GUARDIAN_HOST}}) {
        const auto commands = options_per_command(exe);
        ASSERT_FALSE(commands.empty()) << exe;
        Words subcommands;
        for (const auto& [command, options] : commands) {
            if (!command.empty())
                subcommands.insert(command);
            // -h is left out on purpose: --help says the same.
            Words wanted(options.begin(), options.end());
            wanted.erase("-h");
            const Words offered = complete(program, program + " " + command + " -");
            for (const auto& o : wanted)
                EXPECT_TRUE(offered.count(o))
                    << program << " " << command << ": " << o << " not offered";
        }
        EXPECT_EQ(complete(program, program + " "), subcommands) << program;
    }
}

} // namespace
} // namespace guardian::test
