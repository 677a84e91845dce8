// `cmake --install` into a DESTDIR with --prefix /usr, as a package build
// does: every file lands where the units, the sleep hook and the default
// configuration expect it, with the right mode.
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0)
        return 0;
    return static_cast<unsigned>(st.st_mode) & 07777u;
}

TEST(Install, EveryFileLandsWithTheRightMode) {
    TempDir tmp;
    const fs::path dest = tmp.path() / "dest";
    ASSERT_TRUE(dest.is_absolute());
    // DESTDIR is always set: this test must never install onto the machine.
    const auto r = run_command("DESTDIR=" + dest.string() + " " + GUARDIAN_CMAKE_COMMAND +
                               " --install " + GUARDIAN_BINARY_DIR + " --prefix /usr");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

    const std::string unitdir = GUARDIAN_SYSTEMD_UNITDIR;
    const std::string sleepdir = GUARDIAN_SYSTEMD_SLEEPDIR;
    const std::string catalogdir = GUARDIAN_SYSTEMD_CATALOGDIR;
    struct Expect {
        std::string path;
        unsigned mode;
        bool directory = false;
    };
    const std::vector<Expect> expected{
        {"/usr/sbin/guardiand", 0755},
        {"/usr/sbin/guardian-host", 0755},
        {"/usr/bin/guardianctl", 0755},
        {"/usr/libexec/guardian/guardian-freeze-guard", 0755},
        {"/usr/share/guardian/kernel-risk.json", 0644},
        {"/etc/guardian/guardian.conf", 0644},
        {"/etc/guardian/conf.d", 0755, true},
        {"/etc/guardian/hooks.d", 0755, true},
        {unitdir + "/guardiand.service", 0644},
        {unitdir + "/guardian-boot.service", 0644},
        {sleepdir + "/guardian", 0755},
        {catalogdir + "/guardian.catalog", 0644},
        {"/usr/share/doc/guardian/examples/hooks/10-log", 0755},
        {"/usr/share/doc/guardian/examples/hooks/50-mysql", 0755},
        {"/usr/share/doc/guardian/examples/hooks/50-postgresql", 0755},
        {"/usr/share/doc/guardian/examples/hooks/README.md", 0644},
    };
    for (const auto& e : expected) {
        const fs::path p = dest / fs::path(e.path).relative_path();
        ASSERT_TRUE(fs::exists(p)) << e.path << " not installed";
        EXPECT_EQ(fs::is_directory(p), e.directory) << e.path;
        EXPECT_EQ(mode_of(p), e.mode) << e.path << std::oct << " mode " << mode_of(p);
    }
    // Installed copies are the sources, byte for byte.
    EXPECT_EQ(slurp(dest / "etc/guardian/guardian.conf"),
              slurp(fs::path(GUARDIAN_SOURCE_DIR) / "data/guardian.conf"));

    // The default risk table named in guardian.conf is the installed one.
    std::smatch m;
    const std::string conf = slurp(dest / "etc/guardian/guardian.conf");
    ASSERT_TRUE(std::regex_search(conf, m, std::regex(R"(#risk_table = (\S+))")));
    EXPECT_TRUE(fs::exists(dest / fs::path(m[1].str()).relative_path())) << m[1];

    // What the units execute and what the sleep hook calls is installed.
    for (const char* unit : {"guardiand.service", "guardian-boot.service"}) {
        const std::string text = slurp(dest / fs::path(unitdir).relative_path() / unit);
        ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(\nExecStart=(\S+))"))) << unit;
        EXPECT_TRUE(fs::exists(dest / fs::path(m[1].str()).relative_path())) << unit << " " << m[1];
    }
    const std::string hook = slurp(dest / fs::path(sleepdir).relative_path() / "guardian");
    ASSERT_TRUE(std::regex_search(hook, m, std::regex(R"((/\S+/guardianctl) sleep-hook)")));
    EXPECT_TRUE(fs::exists(dest / fs::path(m[1].str()).relative_path())) << m[1];
}

} // namespace
} // namespace guardian::test
