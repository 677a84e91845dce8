// Locking the process in memory for the emergency path: nothing it needs
// may have to be paged in from a disk that is no longer trusted.
#pragma once

#include "guardian/util/result.hpp"

#include <string_view>

namespace guardian {

// How the process's memory is locked; mlockall is process-wide, so this is
// process-wide state too (memory_lock_method()).
enum class MemoryLockMethod {
    not_locked, // lock_memory() not called, or it failed
    onfault,    // MCL_CURRENT, then MCL_FUTURE | MCL_ONFAULT (Linux >= 4.4)
    current,    // MCL_CURRENT only: the kernel has no MCL_ONFAULT (EINVAL, Linux < 4.4)
};
[[nodiscard]] std::string_view to_string(MemoryLockMethod method) noexcept;

// mlockall(MCL_CURRENT) faults in and locks what is mapped now (the binary
// and its libraries); later mappings are locked as they are touched
// (MCL_FUTURE | MCL_ONFAULT). Plain MCL_FUTURE would commit every thread stack
// and malloc arena in full: a 256 MB Xen guest OOM-killed guardiand that way.
// So a kernel without MCL_ONFAULT (mlockall answers EINVAL) gets MCL_CURRENT
// only: what the emergency path runs is mapped at start-up and stays locked;
// a thread stack or arena mapped later may be paged out. The method used is
// memory_lock_method(); guardiand reports it (the callers keep a Status).
// Sanitizer builds skip it (their shadow memory reserves terabytes, which
// MCL_CURRENT would try to populate) and say so in the error.
[[nodiscard]] Status lock_memory();

// What the last lock_memory() of this process achieved (reported by guardiand
// as `mlock=` in data/guardian/methods).
[[nodiscard]] MemoryLockMethod memory_lock_method() noexcept;

} // namespace guardian
