// The portable guest build (GUARDIAN_STATIC=ON): the guest executables have
// no dynamic section (no NEEDED entry, no ELF interpreter), and they run in
// an otherwise empty directory as chroot: no libc, no /proc, no journalctl.
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

const char* const k_executables[] = {GUARDIAND, GUARDIANCTL, GUARDIAN_FREEZE_GUARD};

TEST(StaticBuild, NoDynamicSectionNoInterpreter) {
    if (run_command("command -v readelf").exit_code != 0)
        GTEST_SKIP() << "readelf is not installed (binutils)";
    for (const char* exe : k_executables) {
        const auto dyn = run_command(std::string("readelf -d ") + exe);
        ASSERT_EQ(dyn.exit_code, 0) << exe << ": " << dyn.err;
        EXPECT_EQ(dyn.out.find("(NEEDED)"), std::string::npos) << exe << ":\n" << dyn.out;
        EXPECT_NE(dyn.out.find("There is no dynamic section"), std::string::npos) << exe << ":\n"
                                                                                  << dyn.out;
        const auto seg = run_command(std::string("readelf -l ") + exe);
        ASSERT_EQ(seg.exit_code, 0) << exe << ": " << seg.err;
        EXPECT_EQ(seg.out.find("INTERP"), std::string::npos) << exe << ":\n" << seg.out;
    }
}

class EmptyChroot : public testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "chroot needs root";
        for (const char* exe : k_executables)
            fs::copy_file(exe, m_dir.path() / fs::path(exe).filename());
        const auto entries = std::distance(fs::directory_iterator(m_dir.path()), {});
        ASSERT_EQ(entries, 3) << "the chroot holds the three executables and nothing else";
    }
    CommandResult in_chroot(const std::string& command) const {
        return run_command("chroot " + m_dir.path().string() + " " + command);
    }
    TempDir m_dir;
};

TEST_F(EmptyChroot, VersionAndUsage) {
    auto r = in_chroot("/guardiand --version");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string("guardiand ") + GUARDIAN_VERSION + "\n");
    r = in_chroot("/guardianctl --version");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string("guardianctl ") + GUARDIAN_VERSION + "\n");
    // The freeze guard has no --version: without arguments it prints its
    // usage and exits with setup_failed (1), which shows it started.
    r = in_chroot("/guardian-freeze-guard");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("usage: guardian-freeze-guard"), std::string::npos) << r.err;
}

TEST_F(EmptyChroot, BootReportRunsWithoutJournalctl) {
    // Just the two /proc files the report needs to start; no journalctl,
    // no mounts, no xenstore: it reports what it could not read and exits 0.
    fs::create_directories(m_dir.path() / "proc/sys/kernel/random");
    std::ofstream(m_dir.path() / "proc/sys/kernel/random/boot_id")
        << "0b3c8f1e-6c1a-4d1e-9a57-0d2f9c1d2e3f\n";
    std::ofstream(m_dir.path() / "proc/stat") << "cpu  1 2 3 4\nbtime 1763700200\n";
    const auto r = in_chroot("/guardiand --boot-report --foreground");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("journalctl not found"), std::string::npos) << r.err;
}

} // namespace
} // namespace guardian::test
