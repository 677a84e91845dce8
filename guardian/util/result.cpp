#include "guardian/util/result.hpp"

#include <cstring>

namespace guardian {

Error Error::from_errno(std::string what, int err) {
    what += ": ";
    what += std::strerror(err);
    return Error{std::move(what), err};
}

} // namespace guardian
