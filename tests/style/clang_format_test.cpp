// The repository's .clang-format is checked, not just suggested: every C++
// file under guardian/, tests/ and bench/ must come out of clang-format
// unchanged. The failure lists the files to run `clang-format -i` on.
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> cpp_files() {
    std::vector<fs::path> out;
    for (const char* top : {"guardian", "tests", "bench"}) {
        const fs::path root = source_dir() / top;
        if (!fs::is_directory(root))
            continue;
        for (const auto& e : fs::recursive_directory_iterator(root)) {
            const auto ext = e.path().extension();
            if (e.is_regular_file() && (ext == ".cpp" || ext == ".hpp"))
                out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string clang_format_binary() {
    for (const char* name : {"clang-format", "clang-format-14"})
        if (run_command(std::string("command -v ") + name).exit_code == 0)
            return name;
    return {};
}

TEST(Style, EveryFileIsClangFormatted) {
    const std::string tool = clang_format_binary();
    if (tool.empty())
        GTEST_SKIP() << "clang-format is not installed (apt-get install clang-format)";
    ASSERT_TRUE(fs::exists(source_dir() / ".clang-format")) << "no .clang-format in the tree";
    const auto files = cpp_files();
    ASSERT_GT(files.size(), 10u) << "found almost no sources under " << source_dir();
    // One run over all files (a process per file is slow on a loaded CI
    // machine); each complaint starts with "<path>:<line>:<col>: error:".
    std::string command = tool + " --style=file --dry-run --Werror";
    for (const auto& f : files)
        command += " '" + f.string() + "'";
    const CommandResult r = run_command(command);
    std::set<std::string> bad;
    std::istringstream lines(r.err);
    std::string line;
    while (std::getline(lines, line)) {
        const auto at = line.find(": error:");
        if (at == std::string::npos)
            continue;
        std::string path = line.substr(0, at);
        path = path.substr(0, path.find(':')); // drop :line:col
        bad.insert(fs::relative(path, source_dir()).string());
    }
    if (r.exit_code != 0 && bad.empty())
        FAIL() << tool << " failed without naming a file:\n" << r.err;
    std::string offenders;
    for (const auto& f : bad)
        offenders += "  " + f + "\n";
    EXPECT_TRUE(offenders.empty()) << "not clang-formatted (run clang-format -i on them):\n"
                                   << offenders;
}

} // namespace
} // namespace guardian::test
