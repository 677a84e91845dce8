// guardian-freeze-guard: thaws the listed filesystems when the freeze
// deadline passes or guardiand dies (see guardian/protect/freeze_guard.hpp).
// Started by guardiand before every freeze:
//   guardian-freeze-guard --control-fd N --deadline-monotonic-ns T -- MOUNT...
#include "guardian/protect/freeze_guard.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

template <class T> bool parse_number(const char* text, T& out) {
    const std::string_view s(text);
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

int usage() {
    std::fputs("usage: guardian-freeze-guard --control-fd N --deadline-monotonic-ns T -- "
               "MOUNT...\n",
               stderr);
    return static_cast<int>(guardian::protect::GuardExit::setup_failed);
}

} // namespace

int main(int argc, char** argv) {
    int control_fd = -1;
    std::int64_t deadline = -1;
    std::vector<std::string> mounts;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (i + 1 >= argc)
            return usage();
        if (a == "--control-fd" && parse_number(argv[i + 1], control_fd))
            ++i;
        else if (a == "--deadline-monotonic-ns" && parse_number(argv[i + 1], deadline))
            ++i;
        else
            return usage();
    }
    for (; i < argc; ++i)
        mounts.emplace_back(argv[i]);
    if (control_fd < 0 || deadline < 0 || mounts.empty())
        return usage();
    return static_cast<int>(guardian::protect::run_freeze_guard(control_fd, deadline, mounts));
}
