// guardian-oldkernel-run [--no-direct-io] [--chroot DIR] KERNEL -- CMD [ARGS...]
// Runs CMD under the old-kernel emulation of old_kernel_profile.hpp, e.g.
//   guardian-oldkernel-run 3.16 -- guardiand --foreground
//   guardian-oldkernel-run 4.4 -- guardianctl check /dev/xvda1
// for the real binaries (the package tests and the in-process scenario tests
// use the same table). --list prints what the profile makes fail.
// --chroot DIR enters DIR before the filter goes on: a dynamically linked
// chroot(1) could not start under a 2.6.32 profile (its ld.so stats
// libc.so.6 with AT_EMPTY_PATH), the static programs can.
#include "tests/oldkernel/old_kernel_profile.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

int main(int argc, char** argv) {
    guardian::test::OldKernel kernel;
    bool list = false;
    bool have_kernel = false;
    const char* root = nullptr;
    int i = 1;
    for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
        const std::string a = argv[i];
        if (a == "--no-direct-io")
            kernel.no_direct_io = true;
        else if (a == "--list")
            list = true;
        else if (a == "--chroot" && i + 1 < argc)
            root = argv[++i];
        else if (!have_kernel && guardian::test::parse_old_kernel(a, kernel))
            have_kernel = true;
        else {
            std::fprintf(stderr,
                         "guardian-oldkernel-run: bad argument '%s' (a kernel 2.6.32..4.9, "
                         "--no-direct-io, --chroot DIR, --list)\n",
                         argv[i]);
            return 2;
        }
    }
    if (!have_kernel || (!list && i + 1 >= argc)) {
        std::fprintf(stderr,
                     "usage: guardian-oldkernel-run [--no-direct-io] [--chroot DIR] [--list] "
                     "KERNEL -- CMD...\n");
        return 2;
    }
    if (list) {
        for (const auto& line : guardian::test::describe_profile(kernel))
            std::printf("%s\n", line.c_str());
        if (i + 1 >= argc)
            return 0;
    }
    if (root && (::chroot(root) != 0 || ::chdir("/") != 0)) {
        std::fprintf(stderr, "guardian-oldkernel-run: chroot %s: %s\n", root, std::strerror(errno));
        return 1;
    }
    if (const std::string err = guardian::test::install_old_kernel_filter(kernel); !err.empty()) {
        std::fprintf(stderr, "guardian-oldkernel-run: %s\n", err.c_str());
        return 1;
    }
    ::execvp(argv[i + 1], argv + i + 1);
    std::fprintf(stderr, "guardian-oldkernel-run: exec %s: %s\n", argv[i + 1],
                 std::strerror(errno));
    return 127;
}
