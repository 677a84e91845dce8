#include "guardian/core/config.hpp"

#include <charconv>
#include <cstdint>
#include <stdexcept>

namespace guardian {
namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
        return {};
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

std::string where(const std::string& path, std::size_t line) {
    return path + ":" + std::to_string(line) + ": ";
}

// Applies one text; appends one message per bad line to `errors`.
void apply_source(const ConfigSource& source, EffectiveConfig& effective,
                  std::vector<std::string>& errors) {
    std::string_view rest = source.text;
    std::size_t line_no = 0;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        const std::string_view raw = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        ++line_no;

        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#')
            continue;
        if (line.front() == '[') {
            errors.push_back(where(source.path, line_no) +
                             "sections are not used; expected 'key = value'");
            continue;
        }
        const auto eq = line.find('=');
        const std::string_view key = eq == std::string_view::npos ? line : trim(line.substr(0, eq));
        if (eq == std::string_view::npos || key.empty()) {
            errors.push_back(where(source.path, line_no) + "expected 'key = value'");
            continue;
        }
        const std::string_view value = trim(line.substr(eq + 1));
        const ConfigKey* k = find_config_key(key);
        if (k == nullptr) {
            errors.push_back(where(source.path, line_no) + "unknown option '" + std::string(key) +
                             "'");
            continue;
        }
        if (!k->apply(effective.config, value)) {
            errors.push_back(where(source.path, line_no) + "bad value '" + std::string(value) +
                             "' for '" + std::string(key) + "': expected " +
                             std::string(k->expected));
            continue;
        }
        effective.origins[std::string(key)] = ValueOrigin{source.path, line_no};
    }
}

} // namespace

EffectiveConfig default_config() {
    EffectiveConfig effective;
    for (const auto& key : config_keys()) {
        // The table's default text is authoritative; Config's member
        // initialisers mirror it and a test pins that they agree.
        if (!key.apply(effective.config, key.fallback))
            throw std::logic_error("config key '" + std::string(key.name) +
                                   "': default does not parse");
        effective.origins[std::string(key.name)] = ValueOrigin{};
    }
    return effective;
}

Result<EffectiveConfig> parse_config(std::span<const ConfigSource> sources) {
    EffectiveConfig effective = default_config();
    std::vector<std::string> errors;
    for (const auto& source : sources)
        apply_source(source, effective, errors);
    if (!errors.empty()) {
        std::string message;
        for (const auto& e : errors)
            message += (message.empty() ? "" : "\n") + e;
        return Error{message, 0};
    }
    return effective;
}

std::string render_config(const EffectiveConfig& effective) {
    std::string out;
    for (const auto& key : config_keys()) {
        std::string line = std::string(key.name) + " = " + key.render(effective.config);
        if (line.size() < 48)
            line.append(48 - line.size(), ' ');
        const auto it = effective.origins.find(key.name);
        if (it == effective.origins.end() || it->second.path.empty())
            line += "  # default";
        else
            line += "  # " + it->second.path + ":" + std::to_string(it->second.line);
        out += line + '\n';
    }
    return out;
}

bool parse_duration(std::string_view text, Duration& out) {
    if (text == "0") { // zero needs no unit (as in systemd)
        out = Duration(0);
        return true;
    }
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    if (digits == 0 || digits > 9) // 9 digits of hours still fit a 64-bit millisecond count
        return false;
    std::uint64_t n = 0;
    if (std::from_chars(text.data(), text.data() + digits, n).ec != std::errc{})
        return false;
    const std::string_view unit = text.substr(digits);
    std::uint64_t factor = 0;
    if (unit == "ms")
        factor = 1;
    else if (unit == "s")
        factor = 1000;
    else if (unit == "m")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else
        return false;
    out = Duration(static_cast<Duration::rep>(n * factor));
    return true;
}

std::string format_duration(Duration d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0)
        return std::to_string(ms / 3'600'000) + "h";
    if (ms != 0 && ms % 60'000 == 0)
        return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0)
        return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::string_view to_string(Policy p) noexcept {
    return p == Policy::protect ? "protect" : "observe";
}

std::string_view to_string(RebootMode m) noexcept {
    switch (m) {
    case RebootMode::immediate:
        return "immediate";
    case RebootMode::orderly:
        return "orderly";
    case RebootMode::none:
        return "none";
    }
    return "?";
}

} // namespace guardian
