// ARCHITECTURE.md: one thin adapter per outside thing, and a C library's
// error codes never leave it. This pins it for the C libraries guardian
// links: each one's header is included by its adapter's source only, and
// libext2fs's errcode_t is not even named elsewhere (protect/ once had an
// adapter of its own).
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Every guardian/ file (relative path) whose text contains `needle`.
std::vector<std::string> files_naming(const std::string& needle) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(source_dir() / "guardian")) {
        const auto ext = e.path().extension();
        if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".c" && ext != ".h"))
            continue;
        if (read_text(e.path()).find(needle) != std::string::npos)
            out.push_back(fs::relative(e.path(), source_dir()).string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(Adapters, EachCLibraryIsIncludedByItsAdapterOnly) {
    const std::map<std::string, std::vector<std::string>> adapters = {
        {"#include <ext2fs/", {"guardian/ext4/fs_handle.cpp"}},
        {"errcode_t", {"guardian/ext4/fs_handle.cpp", "guardian/ext4/fs_handle.hpp"}},
        {"#include <blkid/", {"guardian/sys/blkid_probe.cpp"}},
        {"#include <sqlite3.h>", {"guardian/ledger/sqlite.cpp"}},
        {"#include <xenctrl.h>", {"guardian/hostd/xc_shim.c"}},
    };
    for (const auto& [needle, allowed] : adapters)
        EXPECT_EQ(files_naming(needle), allowed) << "'" << needle << "' outside its adapter";
}

} // namespace
} // namespace guardian::test
