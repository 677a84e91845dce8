#include "guardian/util/time_format.hpp"

#include <fmt/chrono.h>

namespace guardian {

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    return fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(t));
}

} // namespace guardian
