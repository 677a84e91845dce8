#include "guardian/core/prometheus.hpp"

#include "guardian/core/guest_text.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>

namespace guardian::prometheus {
namespace {

bool is_name_start(char c, bool colon_ok) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}

bool is_name_char(char c, bool colon_ok) {
    return is_name_start(c, colon_ok) || (c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon_ok) {
    if (name.empty() || !is_name_start(name.front(), colon_ok))
        return false;
    for (const char c : name)
        if (!is_name_char(c, colon_ok))
            return false;
    return true;
}

std::string render_labels(const Labels& labels) {
    if (labels.empty())
        return "";
    std::string out = "{";
    std::set<std::string_view> seen;
    for (const auto& [name, value] : labels) {
        if (!is_valid_label_name(name) || !seen.insert(name).second)
            throw std::logic_error("prometheus: bad or repeated label name '" + name + "'");
        if (out.size() > 1)
            out += ',';
        out += name + "=\"" + escape_label_value(value) + "\"";
    }
    return out + "}";
}

} // namespace

bool is_valid_metric_name(std::string_view name) {
    return valid_name(name, true);
}

bool is_valid_label_name(std::string_view name) {
    // Names beginning with "__" are reserved for Prometheus itself.
    return valid_name(name, false) && name.rfind("__", 0) != 0;
}

std::string escape_label_value(std::string_view raw) {
    std::string out;
    std::size_t i = 0;
    while (i < raw.size()) {
        const std::size_t n = utf8_sequence(raw, i);
        std::string piece;
        if (n == 0 || is_hidden_control(raw, i, n))
            piece = "?"; // nothing in a label may act on the terminal that shows it
        else if (n > 1)
            piece = std::string(raw.substr(i, n));
        else if (raw[i] == '\\')
            piece = "\\\\";
        else if (raw[i] == '"')
            piece = "\\\"";
        else if (raw[i] == '\n')
            piece = "\\n";
        else if (static_cast<unsigned char>(raw[i]) < 0x20U || raw[i] == 0x7F)
            piece = "?";
        else
            piece = std::string(1, raw[i]);
        i += n == 0 ? 1 : n;
        // Room for the piece and, if anything follows, for "...".
        const std::size_t reserve = i < raw.size() ? 3 : 0;
        if (out.size() + piece.size() + reserve > k_max_label_value) {
            out += "...";
            break;
        }
        out += piece;
    }
    return out;
}

std::string escape_help(std::string_view raw) {
    std::string out;
    for (const char c : raw) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    // Every integer up to 2^53 is exact in a double: print it without a
    // fraction or exponent (timestamps, counts).
    if (std::trunc(v) == v && std::fabs(v) <= 9007199254740992.0)
        return fmt::format("{}", static_cast<std::int64_t>(v));
    return fmt::format("{}", v);
}

std::string render(const std::vector<MetricFamily>& families) {
    std::string out;
    std::set<std::string_view> names;
    for (const auto& f : families) {
        if (!is_valid_metric_name(f.name) || !names.insert(f.name).second)
            throw std::logic_error("prometheus: bad or repeated metric name '" + f.name + "'");
        if (f.type != "gauge" && f.type != "counter" && f.type != "untyped")
            throw std::logic_error("prometheus: unsupported type '" + f.type + "'");
        if (f.samples.empty())
            continue;
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, escape_help(f.help), f.name,
                           f.type);
        // A repeated series (two filesystems a guest reports under the same
        // device and mount point) would make the whole file unreadable to
        // Prometheus: keep the first.
        std::set<std::string> series;
        for (const auto& s : f.samples) {
            std::string key = f.name + render_labels(s.labels);
            if (series.insert(key).second)
                out += key + " " + format_value(s.value) + "\n";
        }
    }
    return out;
}

void add_state_set(MetricFamily& family, const Labels& labels,
                   const std::vector<std::string_view>& states, std::string_view current) {
    for (const auto state : states) {
        Labels l = labels;
        l.emplace_back(family.name, std::string(state));
        family.samples.push_back({std::move(l), state == current ? 1.0 : 0.0});
    }
}

} // namespace guardian::prometheus
