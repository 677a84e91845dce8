#include "guardian/hostd/xl_log.hpp"

#include <charconv>
#include <string>

namespace guardian::hostd {

std::optional<unsigned> shutdown_code_in_xl_log(std::string_view log, std::int64_t domid) {
    const std::string head = "Domain " + std::to_string(domid) + " has shut down, reason code ";
    std::optional<unsigned> found;
    for (std::size_t at = log.find(head); at != std::string_view::npos;
         at = log.find(head, at + 1)) {
        // Only at the start of a line: xl writes it as a line of its own.
        if (at != 0 && log[at - 1] != '\n') {
            continue;
        }
        const std::string_view rest = log.substr(at + head.size());
        unsigned code = 0;
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), code);
        if (ec == std::errc() && end != rest.data() && code < 256) {
            found = code;
        }
    }
    return found;
}

} // namespace guardian::hostd
