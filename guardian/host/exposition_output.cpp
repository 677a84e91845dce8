#include "guardian/host/exposition_output.hpp"

#include "guardian/util/publish_file.hpp"

#include <fmt/format.h>

namespace guardian::host {

int emit_exposition(const std::string& text, const std::string& output) {
    if (output.empty()) {
        fmt::print("{}", text);
        return 0;
    }
    if (auto st = publish_file(output, text, 0644); !st) {
        fmt::print(stderr, "guardian-host: {}\n", st.error().message);
        return 2;
    }
    return 0;
}

} // namespace guardian::host
