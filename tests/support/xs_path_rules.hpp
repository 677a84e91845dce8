// xenstored's rules for node paths, shared by the two xenstores of the test
// suite (the in-memory fake and the wire-protocol test server) so that they
// cannot drift apart: a test must not pass against one with a path the other,
// or the real daemon, rejects.
#pragma once

#include <string>
#include <string_view>

namespace guardian::test {

// The characters xenstored accepts in a path (valid_chars in
// xenstored_core.c); anything else is EINVAL.
[[nodiscard]] inline bool xs_valid_chars(std::string_view p) {
    for (char c : p) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' || c == '@';
        if (!ok)
            return false;
    }
    return true;
}

// "/a/b" -> "/a", "/a" -> "/".
[[nodiscard]] inline std::string xs_parent_of(const std::string& abs) {
    const auto slash = abs.rfind('/');
    return slash == 0 ? std::string("/") : abs.substr(0, slash);
}

} // namespace guardian::test
