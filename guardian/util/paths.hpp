// Every /sys, /proc, /dev, /run and /etc path guardian touches resolves under
// one configurable root, so tests build fake trees in a temporary directory
// (oomd's cgroup root, applied to the whole system view).
#pragma once

#include <string>
#include <string_view>

namespace guardian {

class SystemRoot {
public:
    SystemRoot() = default; // the real machine: "/"
    explicit SystemRoot(std::string root);

    // "/proc/self/mountinfo" -> "<root>/proc/self/mountinfo"
    [[nodiscard]] std::string path(std::string_view absolute) const;
    [[nodiscard]] const std::string& root() const noexcept { return m_root; }
    [[nodiscard]] bool is_real() const noexcept { return m_root.empty(); }

private:
    std::string m_root; // empty means "/", stored without trailing slash
};

} // namespace guardian
