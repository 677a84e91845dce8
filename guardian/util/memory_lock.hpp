// Locking the process in memory for the emergency path: nothing it needs
// may have to be paged in from a disk that is no longer trusted.
#pragma once

#include "guardian/util/result.hpp"

namespace guardian {

// mlockall(MCL_CURRENT) faults in and locks what is mapped now (the binary
// and its libraries); later mappings are locked as they are touched
// (MCL_FUTURE | MCL_ONFAULT). Plain MCL_FUTURE would commit every thread stack
// and malloc arena in full: a 256 MB Xen guest OOM-killed guardiand that way.
// Sanitizer builds skip it (their shadow memory reserves terabytes, which
// MCL_CURRENT would try to populate) and say so in the error.
[[nodiscard]] Status lock_memory();

} // namespace guardian
