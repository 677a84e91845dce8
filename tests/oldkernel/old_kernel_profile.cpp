#include "tests/oldkernel/old_kernel_profile.hpp"

#include <seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <sys/ioctl.h>

namespace guardian::test {
namespace {

struct Version {
    unsigned major;
    unsigned minor;
    unsigned patch = 0;
};

bool before(const OldKernel& k, Version v) {
    if (k.major != v.major)
        return k.major < v.major;
    if (k.minor != v.minor)
        return k.minor < v.minor;
    return k.patch < v.patch;
}

std::string version_text(Version v) {
    std::string out = std::to_string(v.major) + "." + std::to_string(v.minor);
    if (v.patch != 0)
        out += "." + std::to_string(v.patch);
    return out;
}

// System calls added after Linux 2.6.32 (x86_64), with the release that added
// them: on an older kernel the syscall number is unknown and the call
// returns ENOSYS. Those guardian (or glibc under it) may reach are the point;
// the rest are listed so that no later code can start depending on them
// unnoticed. glibc 2.36 (built for 3.2 and up) falls back on ENOSYS for all it
// uses: clone3 (pthread_create, posix_spawn), rseq, close_range, faccessat2,
// getrandom; below 3.2 it still copes with prlimit64 failing (the startup
// RLIMIT_STACK read falls back to a default stack size); guardian's own code
// must do the same.
struct MissingSyscall {
    const char* name;
    Version since;
};
constexpr MissingSyscall k_missing_syscalls[] = {
    {"recvmmsg", {2, 6, 33}},
    {"prlimit64", {2, 6, 36}},
    {"fanotify_init", {2, 6, 37}},
    {"fanotify_mark", {2, 6, 37}},
    {"name_to_handle_at", {2, 6, 39}},
    {"open_by_handle_at", {2, 6, 39}},
    {"clock_adjtime", {2, 6, 39}},
    {"syncfs", {2, 6, 39}},
    {"sendmmsg", {3, 0}},
    {"setns", {3, 0}},
    {"process_vm_readv", {3, 2}},
    {"process_vm_writev", {3, 2}},
    {"kcmp", {3, 5}},
    {"finit_module", {3, 8}},
    {"sched_setattr", {3, 14}},
    {"sched_getattr", {3, 14}},
    {"renameat2", {3, 15}},
    {"seccomp", {3, 17}},
    {"getrandom", {3, 17}},
    {"memfd_create", {3, 17}},
    {"kexec_file_load", {3, 17}},
    {"bpf", {3, 18}},
    {"execveat", {3, 19}},
    {"userfaultfd", {4, 3}},
    {"membarrier", {4, 3}},
    {"mlock2", {4, 4}},
    {"copy_file_range", {4, 5}},
    {"preadv2", {4, 6}},
    {"pwritev2", {4, 6}},
    {"pkey_mprotect", {4, 9}},
    {"pkey_alloc", {4, 9}},
    {"pkey_free", {4, 9}},
    {"statx", {4, 11}},
    {"io_pgetevents", {4, 18}},
    {"rseq", {4, 18}},
    {"pidfd_send_signal", {5, 1}},
    {"io_uring_setup", {5, 1}},
    {"io_uring_enter", {5, 1}},
    {"io_uring_register", {5, 1}},
    {"open_tree", {5, 2}},
    {"move_mount", {5, 2}},
    {"fsopen", {5, 2}},
    {"fsconfig", {5, 2}},
    {"fsmount", {5, 2}},
    {"fspick", {5, 2}},
    {"pidfd_open", {5, 3}},
    {"clone3", {5, 3}},
    {"openat2", {5, 6}},
    {"pidfd_getfd", {5, 6}},
    {"faccessat2", {5, 8}},
    {"close_range", {5, 9}},
    {"process_madvise", {5, 10}},
    {"epoll_pwait2", {5, 11}},
    {"mount_setattr", {5, 12}},
    {"landlock_create_ruleset", {5, 13}},
    {"landlock_add_rule", {5, 13}},
    {"landlock_restrict_self", {5, 13}},
    {"quotactl_fd", {5, 14}},
    {"memfd_secret", {5, 14}},
    {"process_mrelease", {5, 15}},
    {"futex_waitv", {5, 16}},
    {"set_mempolicy_home_node", {5, 17}},
    {"cachestat", {6, 5}},
    {"fchmodat2", {6, 6}},
    {"map_shadow_stack", {6, 6}},
    {"futex_wake", {6, 7}},
    {"futex_wait", {6, 7}},
    {"futex_requeue", {6, 7}},
    {"statmount", {6, 8}},
    {"listmount", {6, 8}},
    {"lsm_get_self_attr", {6, 8}},
    {"lsm_set_self_attr", {6, 8}},
    {"lsm_list_modules", {6, 8}},
    {"mseal", {6, 10}},
};

// Flags and ioctls of calls the old kernel has:
//  - mlockall(MCL_ONFAULT) (4.4): unknown flag bits -> EINVAL.
//  - EXT4_IOC_SHUTDOWN (4.10): ext4_ioctl's default case -> ENOTTY.
//  - CLOCK_BOOTTIME (2.6.39) in clock_gettime, clock_getres, timerfd_create
//    and timer_create: an unknown clock id -> EINVAL. Only the system call:
//    this kernel's vDSO answers clock_gettime(CLOCK_BOOTTIME) without one,
//    so guardian probes the clock with the raw system call (sys/clocks.cpp).
//  - TFD_TIMER_CANCEL_ON_SET (3.0) in timerfd_settime: unknown flag -> EINVAL.
//  - AT_EMPTY_PATH (2.6.39) in newfstatat: vfs_fstatat refuses any flag but
//    AT_SYMLINK_NOFOLLOW -> EINVAL. glibc 2.36's fstat() is
//    newfstatat(fd, "", AT_EMPTY_PATH), opendir() calls it: the static
//    programs carry guardian/util/static/fstat_shim.cpp. A dynamic test binary's
//    libc.so cannot be shimmed, so OldKernel::at_empty_path lets it opt out.
//  - O_DIRECT where the device refuses it (not a version): open -> EINVAL.
// Not emulated, because an old kernel does not fail them: unknown mmap
// flags such as MAP_FIXED_NOREPLACE (4.17) are ignored, not refused, and so
// are unknown open flags (O_PATH, 2.6.39; O_TMPFILE, 3.11, which guardian
// does not use); a missing sysfs node, /dev/xen/xenbus or a /dev/kmsg
// without records (3.5) is a path (tests use a SystemRoot).
constexpr std::uint64_t k_mcl_onfault = 4;
constexpr Version k_mcl_onfault_since{4, 4};
constexpr std::uint64_t k_ext4_ioc_shutdown = _IOR('X', 125, std::uint32_t);
constexpr Version k_ext4_shutdown_since{4, 10};
constexpr std::uint64_t k_clock_boottime = 7;
constexpr Version k_clock_boottime_since{2, 6, 39};
constexpr std::uint64_t k_tfd_timer_cancel_on_set = 2;
constexpr Version k_cancel_on_set_since{3, 0};
constexpr std::uint64_t k_at_empty_path = 0x1000;
constexpr Version k_at_empty_path_since{2, 6, 39};

struct CtxFree {
    void operator()(scmp_filter_ctx c) const noexcept { seccomp_release(c); }
};

std::string failed(const char* what, int rc) {
    return std::string(what) + ": " + std::to_string(rc);
}

} // namespace

bool parse_old_kernel(const std::string& text, OldKernel& out) {
    unsigned major = 0;
    unsigned minor = 0;
    unsigned patch = 0;
    char tail = 0;
    const int n = std::sscanf(text.c_str(), "%u.%u.%u%c", &major, &minor, &patch, &tail);
    if (n != 2 && n != 3)
        return false;
    OldKernel k = out;
    k.major = major;
    k.minor = minor;
    k.patch = n == 3 ? patch : 0;
    if (before(k, {2, 6, 32}) || !before(k, {4, 10}))
        return false;
    out = k;
    return true;
}

std::vector<std::string> describe_profile(const OldKernel& kernel) {
    std::vector<std::string> out;
    for (const auto& m : k_missing_syscalls)
        if (before(kernel, m.since) &&
            std::find(kernel.keep.begin(), kernel.keep.end(), m.name) == kernel.keep.end())
            out.push_back(std::string(m.name) + " (" + version_text(m.since) + ") -> ENOSYS");
    if (before(kernel, k_mcl_onfault_since))
        out.emplace_back("mlockall(MCL_ONFAULT) (4.4) -> EINVAL");
    if (before(kernel, k_ext4_shutdown_since))
        out.emplace_back("ioctl(EXT4_IOC_SHUTDOWN) (4.10) -> ENOTTY");
    if (before(kernel, k_clock_boottime_since))
        out.emplace_back("CLOCK_BOOTTIME (2.6.39) in clock_gettime, clock_getres, timerfd_create, "
                         "timer_create -> EINVAL");
    if (before(kernel, k_cancel_on_set_since))
        out.emplace_back("timerfd_settime(TFD_TIMER_CANCEL_ON_SET) (3.0) -> EINVAL");
    if (kernel.at_empty_path && before(kernel, k_at_empty_path_since))
        out.emplace_back("newfstatat(AT_EMPTY_PATH) (2.6.39), glibc's fstat -> EINVAL");
    if (kernel.no_direct_io)
        out.emplace_back("open(O_DIRECT) (device without it) -> EINVAL");
    return out;
}

std::string install_old_kernel_filter(const OldKernel& kernel) {
    std::unique_ptr<void, CtxFree> ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx)
        return "seccomp_init failed";
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc != 0)
        return failed("SCMP_FLTATR_CTL_TSYNC", rc);
    for (const auto& m : k_missing_syscalls) {
        if (!before(kernel, m.since) ||
            std::find(kernel.keep.begin(), kernel.keep.end(), m.name) != kernel.keep.end())
            continue;
        const int nr = seccomp_syscall_resolve_name(m.name);
        if (nr == __NR_SCMP_ERROR)
            continue; // newer than this libseccomp: this glibc cannot call it either
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), nr, 0);
        if (rc != 0)
            return failed(m.name, rc);
    }
    if (before(kernel, k_mcl_onfault_since)) {
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(mlockall), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, k_mcl_onfault, k_mcl_onfault));
        if (rc != 0)
            return failed("mlockall rule", rc);
    }
    if (before(kernel, k_ext4_shutdown_since)) {
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_EQ, k_ext4_ioc_shutdown));
        if (rc != 0)
            return failed("ioctl rule", rc);
    }
    if (before(kernel, k_clock_boottime_since)) {
        for (const int call : {SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
                               SCMP_SYS(timerfd_create), SCMP_SYS(timer_create)}) {
            rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EINVAL), call, 1,
                                  SCMP_A0(SCMP_CMP_EQ, k_clock_boottime));
            if (rc != 0)
                return failed("CLOCK_BOOTTIME rule", rc);
        }
    }
    if (before(kernel, k_cancel_on_set_since)) {
        rc = seccomp_rule_add(
            ctx.get(), SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(timerfd_settime), 1,
            SCMP_A1(SCMP_CMP_MASKED_EQ, k_tfd_timer_cancel_on_set, k_tfd_timer_cancel_on_set));
        if (rc != 0)
            return failed("TFD_TIMER_CANCEL_ON_SET rule", rc);
    }
    if (kernel.at_empty_path && before(kernel, k_at_empty_path_since)) {
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(newfstatat), 1,
                              SCMP_A3(SCMP_CMP_MASKED_EQ, k_at_empty_path, k_at_empty_path));
        if (rc != 0)
            return failed("AT_EMPTY_PATH rule", rc);
    }
    if (kernel.no_direct_io) {
        const auto direct = static_cast<std::uint64_t>(O_DIRECT);
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, direct, direct));
        if (rc == 0)
            rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(open), 1,
                                  SCMP_A1(SCMP_CMP_MASKED_EQ, direct, direct));
        if (rc != 0)
            return failed("O_DIRECT rule", rc);
    }
    rc = seccomp_load(ctx.get());
    if (rc != 0)
        return failed("seccomp_load", rc);
    return {};
}

} // namespace guardian::test
