#include "guardian/journal/wire_format.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace guardian::journal {
namespace {

constexpr int k_facility_daemon = 3;
constexpr std::size_t k_syslog_max = 8192;
constexpr std::size_t k_kmsg_max = 976; // below the kernel's LOG_LINE_MAX (1024 - prefix)

// The message and the one-line fields, newlines flattened.
std::string flat_text(std::string_view message, const LogFields& fields) {
    std::string out(message);
    for (const auto& [key, value] : fields)
        if (value.find('\n') == std::string::npos)
            out += " " + key + "=" + value;
    for (char& c : out)
        if (c == '\n' || c == '\r')
            c = ' ';
    return out;
}

int syslog_priority(Priority p) {
    return k_facility_daemon * 8 + static_cast<int>(p);
}

} // namespace

void append_native_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    if (value.find('\n') == std::string_view::npos) {
        out += '=';
        out += value;
        out += '\n';
        return;
    }
    out += '\n';
    const auto n = static_cast<std::uint64_t>(value.size());
    for (int i = 0; i < 8; ++i)
        out += static_cast<char>((n >> (8 * i)) & 0xffu);
    out += value;
    out += '\n';
}

std::string syslog_line(Priority priority, std::string_view identifier, pid_t pid,
                        const std::tm& local, std::string_view message, const LogFields& fields) {
    static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto month = static_cast<std::size_t>(local.tm_mon) % months.size();
    std::string line =
        fmt::format("<{}>{} {:2} {:02}:{:02}:{:02} {}[{}]: {}", syslog_priority(priority),
                    months[month], local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
                    identifier, pid, flat_text(message, fields));
    if (line.size() > k_syslog_max)
        line.resize(k_syslog_max);
    return line;
}

std::string kmsg_line(Priority priority, std::string_view identifier, pid_t pid,
                      std::string_view message, const LogFields& fields) {
    // The bare severity: kernels before 3.5 parse only "<0>".."<7>", newer
    // ones file a facility-less line under LOG_USER.
    std::string line = fmt::format("<{}>{}[{}]: {}", static_cast<int>(priority), identifier, pid,
                                   flat_text(message, fields));
    if (line.size() > k_kmsg_max)
        line.resize(k_kmsg_max);
    return line + "\n";
}

} // namespace guardian::journal
