#include "guardian/sys/kernel_ring.hpp"

#include <cerrno>
#include <sys/klog.h>

namespace guardian::sys {
namespace {

// syslog(2) actions (linux/syslog.h's SYSLOG_ACTION_*), every kernel.
constexpr int k_read_all = 3;
constexpr int k_size_buffer = 10;
// When SIZE_BUFFER is refused: the largest CONFIG_LOG_BUF_SHIFT default.
constexpr int k_default_size = 1 << 17;

std::string_view last_line(std::string_view ring) {
    if (ring.empty() || ring.back() != '\n')
        return {};
    const auto start = ring.rfind('\n', ring.size() - 2);
    return ring.substr(start == std::string_view::npos ? 0 : start + 1, ring.size());
}

} // namespace

std::optional<KmsgRecord> parse_ring_line(std::string_view line) {
    if (line.size() < 3 || line.front() != '<')
        return std::nullopt;
    const auto close = line.find('>');
    if (close == std::string_view::npos || close < 2 || close > 4)
        return std::nullopt;
    int value = 0;
    for (std::size_t i = 1; i < close; ++i) {
        if (line[i] < '0' || line[i] > '9')
            return std::nullopt;
        value = value * 10 + (line[i] - '0');
    }
    std::string_view text = line.substr(close + 1);
    if (!text.empty() && text.front() == '[') {
        const auto end = text.find(']');
        if (end != std::string_view::npos) {
            text.remove_prefix(end + 1);
            if (!text.empty() && text.front() == ' ')
                text.remove_prefix(1);
        }
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.remove_suffix(1);
    KmsgRecord r;
    r.priority = value & 7;
    r.message = std::string(text);
    return r;
}

std::vector<std::string_view> ring_lines_after(std::string_view ring, std::string_view mark,
                                               bool& found) {
    std::size_t from = 0;
    found = mark.empty();
    if (!mark.empty()) {
        // The mark is a whole line: it starts the ring or follows a newline.
        for (auto at = ring.rfind(mark); at != std::string_view::npos;
             at = at == 0 ? std::string_view::npos : ring.rfind(mark, at - 1)) {
            if (at == 0 || ring[at - 1] == '\n') {
                from = at + mark.size();
                found = true;
                break;
            }
        }
    }
    std::vector<std::string_view> out;
    while (from < ring.size()) {
        const auto nl = ring.find('\n', from);
        if (nl == std::string_view::npos)
            break; // a line still being written: read next time
        out.push_back(ring.substr(from, nl - from));
        from = nl + 1;
    }
    return out;
}

Status KernelRing::read_all(std::string& out) const {
    int size = ::klogctl(k_size_buffer, nullptr, 0);
    if (size <= 0)
        size = k_default_size;
    out.resize(static_cast<std::size_t>(size));
    const int n = ::klogctl(k_read_all, out.data(), size);
    if (n < 0)
        return Error::from_errno("syslog(SYSLOG_ACTION_READ_ALL)");
    out.resize(static_cast<std::size_t>(n));
    return ok_status();
}

Result<KernelRing> KernelRing::open() {
    KernelRing ring;
    std::string text;
    GUARDIAN_TRY(ring.read_all(text));
    ring.m_mark = std::string(last_line(text));
    return ring;
}

Result<std::vector<KmsgRecord>> KernelRing::read() {
    std::string text;
    GUARDIAN_TRY(read_all(text));
    bool found = false;
    const auto lines = ring_lines_after(text, m_mark, found);
    if (!found)
        ++m_lost; // the ring wrapped past the last line seen
    std::vector<KmsgRecord> out;
    for (const auto line : lines)
        if (auto r = parse_ring_line(line)) {
            r->sequence = m_sequence++;
            out.push_back(std::move(*r));
        }
    if (!lines.empty())
        m_mark = std::string(lines.back()) + "\n";
    return out;
}

} // namespace guardian::sys
