#include "guardian/util/memory_lock.hpp"

#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GUARDIAN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GUARDIAN_SANITIZED 1
#endif
#endif

namespace guardian {

Status lock_memory() {
#ifdef GUARDIAN_SANITIZED
    return Error{"memory not locked: sanitizer build", 0};
#else
    if (::mlockall(MCL_CURRENT) != 0)
        return Error::from_errno("mlockall(MCL_CURRENT)");
    if (::mlockall(MCL_FUTURE | MCL_ONFAULT) != 0)
        return Error::from_errno("mlockall(MCL_FUTURE|MCL_ONFAULT)");
    return ok_status();
#endif
}

} // namespace guardian
