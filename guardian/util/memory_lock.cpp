#include "guardian/util/memory_lock.hpp"

#include <atomic>
#include <cerrno>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GUARDIAN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GUARDIAN_SANITIZED 1
#endif
#endif

// glibc defines it since 2.27; the value is the kernel's (uapi asm-generic/mman-common.h).
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

namespace guardian {
namespace {

std::atomic<MemoryLockMethod> g_method{MemoryLockMethod::not_locked};

} // namespace

std::string_view to_string(MemoryLockMethod method) noexcept {
    switch (method) {
    case MemoryLockMethod::not_locked:
        return "none";
    case MemoryLockMethod::onfault:
        return "onfault";
    case MemoryLockMethod::current:
        return "current";
    }
    return "none";
}

Status lock_memory() {
#ifdef GUARDIAN_SANITIZED
    return Error{"memory not locked: sanitizer build", 0};
#else
    if (::mlockall(MCL_CURRENT) != 0) {
        g_method = MemoryLockMethod::not_locked;
        return Error::from_errno("mlockall(MCL_CURRENT)");
    }
    if (::mlockall(MCL_FUTURE | MCL_ONFAULT) == 0) {
        g_method = MemoryLockMethod::onfault;
        return ok_status();
    }
    const int err = errno;
    g_method = MemoryLockMethod::current; // MCL_CURRENT holds either way
    if (err != EINVAL)
        return Error::from_errno("mlockall(MCL_FUTURE|MCL_ONFAULT)", err);
    // Linux < 4.4 rejects the unknown flag: keep the MCL_CURRENT lock (it
    // stays in force: a failed mlockall changes nothing) and never fall back
    // to plain MCL_FUTURE (see the header).
    return ok_status();
#endif
}

MemoryLockMethod memory_lock_method() noexcept {
    return g_method.load();
}

} // namespace guardian
