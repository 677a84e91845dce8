#include "guardian/util/paths.hpp"

namespace guardian {

SystemRoot::SystemRoot(std::string root) : m_root(std::move(root)) {
    while (!m_root.empty() && m_root.back() == '/')
        m_root.pop_back();
}

std::string SystemRoot::path(std::string_view absolute) const {
    std::string out = m_root;
    if (absolute.empty() || absolute.front() != '/')
        out += '/';
    out += absolute;
    return out;
}

} // namespace guardian
