#include "guardian/core/console_banner.hpp"

#include <fmt/format.h>

#include <vector>

namespace guardian {

namespace {

constexpr std::string_view banner_word = "Linux version ";

struct Line {
    std::string_view text; // without '\n' and a trailing '\r'
    std::size_t offset = 0;
};

std::vector<Line> split_lines(std::string_view log, std::size_t from) {
    std::vector<Line> out;
    std::size_t pos = from;
    while (pos < log.size()) {
        std::size_t end = log.find('\n', pos);
        if (end == std::string_view::npos) {
            end = log.size();
        }
        std::string_view text = log.substr(pos, end - pos);
        if (!text.empty() && text.back() == '\r') {
            text.remove_suffix(1);
        }
        out.push_back({text, pos});
        pos = end + 1;
    }
    return out;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// "[2026-12-06 05:22:54] " as xenconsoled --timestamp writes it.
std::string_view strip_console_timestamp(std::string_view s) {
    if (s.size() >= 22 && s[0] == '[' && s[20] == ']' && s[21] == ' ' && is_digit(s[1]) &&
        s[5] == '-' && s[11] == ' ' && s[14] == ':') {
        s.remove_prefix(22);
    }
    return s;
}

// "[    0.000000] " (CONFIG_PRINTK_TIME). Sets `zero` when the stamp is 0.
std::string_view strip_printk_time(std::string_view s, bool& stamped, bool& zero) {
    stamped = zero = false;
    if (s.empty() || s[0] != '[') {
        return s;
    }
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos || close > 20) {
        return s;
    }
    std::string_view stamp = s.substr(1, close - 1);
    while (!stamp.empty() && stamp.front() == ' ') {
        stamp.remove_prefix(1);
    }
    const std::size_t dot = stamp.find('.');
    if (stamp.empty() || dot == std::string_view::npos) {
        return s;
    }
    for (const char c : stamp) {
        if (!is_digit(c) && c != '.') {
            return s;
        }
    }
    stamped = true;
    zero = stamp.find_first_not_of("0.") == std::string_view::npos;
    s.remove_prefix(close + 1);
    if (!s.empty() && s.front() == ' ') {
        s.remove_prefix(1);
    }
    return s;
}

bool valid_release(std::string_view r) {
    if (r.empty() || r.size() > 64 || !is_digit(r.front())) {
        return false;
    }
    for (const char c : r) {
        const bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        c == '.' || c == '-' || c == '_' || c == '+' || c == '~';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// One line as a banner, or nullopt. The banner must open the line (after the
// console's and printk's stamps): a banner quoted inside other text is not one.
std::optional<ConsoleBanner> banner_of(const Line& line) {
    bool stamped = false;
    bool zero = false;
    std::string_view s = strip_printk_time(strip_console_timestamp(line.text), stamped, zero);
    if (!s.starts_with(banner_word)) {
        return std::nullopt;
    }
    s.remove_prefix(banner_word.size());
    const std::string_view release = s.substr(0, s.find(' '));
    if (!valid_release(release)) {
        return std::nullopt;
    }
    ConsoleBanner b;
    b.release = std::string(release);
    b.line = std::string(line.text);
    b.offset = line.offset;
    b.printk_stamped = stamped;
    b.printk_time_zero = stamped && zero;
    b.parsed = parse_kernel_release(release);
    // UTS_VERSION follows the compiler's parenthesis: ") #<n> ...".
    for (std::size_t at = s.find(") #"); at != std::string_view::npos; at = s.find(") #", at + 1)) {
        if (at + 3 < s.size() && is_digit(s[at + 3])) {
            b.build = std::string(s.substr(at + 2));
        }
    }
    b.package_version = package_version_from_kernel_version(b.build).value_or("");
    return b;
}

// A banner without a printk stamp has only its neighbour to vouch for it:
// x86 kernels of every era print "Command line: ..." on the next line.
bool vouched_for(const std::vector<Line>& lines, std::size_t i) {
    if (lines[i].text.empty()) {
        return false;
    }
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
        bool stamped = false;
        bool zero = false;
        const std::string_view next =
            strip_printk_time(strip_console_timestamp(lines[j].text), stamped, zero);
        if (!next.empty()) {
            return next.starts_with("Command line: ");
        }
    }
    return false;
}

// Lines that show userspace has run (or the kernel has handed over to it):
// after one of them this boot's kernel prints no banner any more, and a
// "Linux version" line is some program's output.
bool shows_userspace(std::string_view line) {
    bool stamped = false;
    bool zero = false;
    const std::string_view s = strip_printk_time(strip_console_timestamp(line), stamped, zero);
    return s.starts_with("Freeing unused kernel") ||
           (s.starts_with("Run /") && s.find(" as init process") != std::string_view::npos) ||
           s.starts_with("INIT: version") || s.starts_with("Welcome to ") ||
           s.find("systemd[1]:") != std::string_view::npos ||
           s.find(" login:") != std::string_view::npos;
}

constexpr std::string_view unvouched =
    "a 'Linux version' line without the kernel's boot-time stamp and not followed by its "
    "'Command line:' line: not taken for the kernel's banner";

} // namespace

BannerSearch find_boot_banner(std::string_view log, std::optional<std::size_t> since,
                              std::size_t log_base) {
    BannerSearch out;
    if (since) {
        const std::size_t log_size = log_base + log.size();
        if (*since > log_size || *since < log_base) {
            out.why = fmt::format("the console log ({} bytes) is shorter than when the domain was "
                                  "created ({} bytes): rotated or truncated",
                                  log_size, *since);
            out.conclusive = true;
            return out;
        }
        // A start in the middle of a line belongs to the line before.
        std::size_t from = *since - log_base;
        if (from > 0 && log[from - 1] != '\n') {
            const std::size_t nl = log.find('\n', from);
            from = nl == std::string_view::npos ? log.size() : nl + 1;
        }
        const std::vector<Line> lines = split_lines(log, from);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            auto b = banner_of(lines[i]);
            if (!b) {
                if (shows_userspace(lines[i].text)) {
                    out.why = "userspace ran on the console before any kernel banner (a kernel "
                              "booted with 'quiet' prints none): a later 'Linux version' line "
                              "is not the kernel's own";
                    out.conclusive = true;
                    return out;
                }
                continue;
            }
            out.conclusive = true; // the first 'Linux version' line decides
            if (b->printk_stamped && !b->printk_time_zero) {
                // The kernel stamps its banner at time zero; a later stamp
                // was printed after the boot began (or forged).
                out.why = "the first 'Linux version' line since the domain was created is not "
                          "stamped at boot time zero: not the kernel's own banner";
                return out;
            }
            if (!b->printk_stamped && !vouched_for(lines, i)) {
                out.why = std::string(unvouched);
                return out;
            }
            out.why = b->printk_time_zero
                          ? "kernel banner: the first 'Linux version' line since the domain was "
                            "created, stamped at boot time zero"
                          : "kernel banner: the first 'Linux version' line since the domain was "
                            "created, followed by the kernel's 'Command line:' (no printk time)";
            b->offset += log_base;
            out.banner = std::move(b);
            return out;
        }
        out.why = "no kernel banner on the console since the domain was created (a kernel "
                  "booted with 'quiet' prints none)";
        return out;
    }

    // No start offset: only an unambiguous log will do, and all of it.
    if (log_base != 0) {
        out.why = "no record of where this domain's boot began in the console log";
        return out;
    }
    std::vector<ConsoleBanner> found;
    bool vouched = false;
    const std::vector<Line> lines = split_lines(log, 0);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (auto b = banner_of(lines[i])) {
            vouched = b->printk_time_zero || vouched_for(lines, i);
            found.push_back(std::move(*b));
        }
    }
    if (found.empty()) {
        out.why = "no kernel banner in the console log";
        return out;
    }
    if (found.size() > 1) {
        out.why = fmt::format("{} 'Linux version' lines in the console log and no record of where "
                              "this domain's boot began",
                              found.size());
        return out;
    }
    if (!vouched) {
        out.why = std::string(unvouched);
        return out;
    }
    out.why = "kernel banner: the only one in the console log";
    out.banner = std::move(found.front());
    return out;
}

} // namespace guardian
