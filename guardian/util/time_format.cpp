#include "guardian/util/time_format.hpp"

#include <fmt/chrono.h>

namespace guardian {

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    return fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(t));
}

std::string iso8601_utc(std::chrono::nanoseconds since_epoch) {
    return iso8601_utc(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)));
}

} // namespace guardian
