#include "guardian/xen/xenstore.hpp"

#include <cerrno>

namespace guardian::xen {

bool is_not_found(const Error& e) noexcept {
    return e.code == ENOENT;
}

} // namespace guardian::xen
