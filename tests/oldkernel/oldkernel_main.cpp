// main() of the old-kernel scenario tests: installs the old-kernel filter
// (the profile in GUARDIAN_OLDKERNEL, default 3.2; 2.6.32 is the floor) before
// GoogleTest starts a thread, so every scenario, the freeze guard and every
// tool the tests run inherit it. Then locks memory as guardiand's main does,
// so the scenarios see the mlock fallback the daemon would report.
#include "guardian/util/memory_lock.hpp"
#include "tests/oldkernel/old_kernel_profile.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace guardian::test {
// Read by the scenarios: which profile this process runs under.
OldKernel g_old_kernel;
} // namespace guardian::test

int main(int argc, char** argv) {
    // glibc registered this thread's rseq (4.18) at start-up; a new thread
    // whose registration then fails (ENOSYS from the filter) aborts the
    // process. On a real old kernel the first registration fails too and
    // glibc never tries again: start over without rseq to get there.
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (!tunables || !std::strstr(tunables, "glibc.pthread.rseq=0")) {
        std::string t = tunables ? std::string(tunables) + ":" : std::string();
        t += "glibc.pthread.rseq=0";
        ::setenv("GLIBC_TUNABLES", t.c_str(), 1);
        ::execv("/proc/self/exe", argv);
        std::perror("re-exec without rseq");
        return 1;
    }
    ::testing::InitGoogleTest(&argc, argv);
    using guardian::test::g_old_kernel;
    const char* env = std::getenv("GUARDIAN_OLDKERNEL");
    // This binary is linked dynamically: libc.so's fstat() and opendir()
    // use AT_EMPTY_PATH, which no shim can replace there, so the 2.6.32
    // profile leaves that flag alone here; the static programs are run with
    // it refused (static-programs-test).
    g_old_kernel.at_empty_path = false;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // The sanitizer runtime of every child this test starts (the test
    // xenstored, the freeze guard) calls getrlimit at start-up and aborts on
    // ENOSYS; the product's own use (glibc's stack-size default) is shown by
    // oldkernel_static_programs_2_6_32.
    g_old_kernel.keep.emplace_back("prlimit64");
#endif
    if (env && !guardian::test::parse_old_kernel(env, g_old_kernel)) {
        std::fprintf(stderr, "GUARDIAN_OLDKERNEL=%s: not a kernel 2.6.32..4.9\n", env);
        return 2;
    }
    // Below 4.10 with errors=continue nothing stops writes without a sync:
    // this scenario's "every step done, not writable" is a current kernel's;
    // OldKernelScenario.WithoutShutdownIoctlTheCriticalPathRebootsAtOnce is
    // its old-kernel counterpart (same verdict, shutdown=none, reboot at once).
    std::string skip;
    if (g_old_kernel.major < 4 || (g_old_kernel.major == 4 && g_old_kernel.minor < 10))
        skip = "DaemonScenario.FeatureChangeOnUnsafeKernelActsInOrder";
#ifdef GUARDIAN_OLDKERNEL_NO_DIRECT_IO
    g_old_kernel.no_direct_io = true;
    // This scenario damages the disk with O_DIRECT writes of its own, which
    // the profile refuses; the other scenarios show the buffered reads.
    skip +=
        std::string(skip.empty() ? "" : ":") + "DaemonScenario.MetadataDamagedWhileSavedIsCritical";
#endif
    if (!skip.empty()) {
        const std::string f = GTEST_FLAG_GET(filter);
        GTEST_FLAG_SET(filter, f + (f.find('-') == std::string::npos ? ":-" : ":") + skip);
    }
    if (const std::string err = guardian::test::install_old_kernel_filter(g_old_kernel);
        !err.empty()) {
        std::fprintf(stderr, "old-kernel filter: %s\n", err.c_str());
        return 1;
    }
    (void)guardian::lock_memory(); // its method is what the tests check
    return RUN_ALL_TESTS();
}
