// The kernel-trouble and boot-history values of data/guardian/ (declared in
// guest_contract.hpp): trouble-counts, trouble-last, previous-boot,
// known-bugs. Encoders and decoders side by side; the words are bounded and
// restricted so a value always splits back into its fields.
#include "guardian/core/guest_contract.hpp"

#include "guardian/util/time_format.hpp"

#include <charconv>
#include <chrono>

namespace guardian::contract {
namespace {

bool word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '+' || c == '~' || c == '@' || c == '/' || c == '-';
}

std::vector<std::string_view> split(std::string_view text, std::string_view sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = text.find(sep, start);
        const std::string_view part = text.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (!part.empty())
            out.push_back(part);
        if (end == std::string_view::npos)
            break;
        start = end + sep.size();
    }
    return out;
}

std::optional<std::uint64_t> number(std::string_view text) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return v;
}

// "-" stands for an empty field.
std::string field(std::string_view word) {
    return word == "-" ? std::string() : std::string(word);
}

// Joins words, leaving out whatever would pass the value's bound.
void append_bounded(std::string& out, std::string_view sep, const std::string& item) {
    if (out.size() + sep.size() + item.size() > k_max_trouble_value)
        return;
    if (!out.empty())
        out += sep;
    out += item;
}

std::string iso_seconds(std::int64_t unix_seconds) {
    return iso8601_utc(std::chrono::seconds(unix_seconds));
}

} // namespace

std::string trouble_word(std::string_view text) {
    if (text.empty())
        return "-";
    std::string out;
    for (char c : text.substr(0, k_max_trouble_word))
        out += word_char(c) ? c : '_';
    // A lone "-" means "empty": keep a real one apart.
    return out == "-" ? "_" : out;
}

std::string encode_trouble_counts(const TroubleCountsNode& counts) {
    std::string out;
    for (const auto& [kind, n] : counts.kinds)
        if (n > 0)
            append_bounded(out, " ", trouble_word(kind) + "=" + std::to_string(n));
    if (counts.suppressed > 0)
        append_bounded(out, " ", "suppressed=" + std::to_string(counts.suppressed));
    if (counts.forged > 0)
        append_bounded(out, " ", "forged=" + std::to_string(counts.forged));
    return out.empty() ? "none" : out;
}

TroubleCountsNode decode_trouble_counts(std::string_view text) {
    TroubleCountsNode out;
    if (text == "none")
        return out;
    for (const auto word : split(text, " ")) {
        const auto eq = word.find('=');
        const auto n = eq == std::string_view::npos ? std::nullopt : number(word.substr(eq + 1));
        if (!n) {
            out.valid = false;
            continue;
        }
        const std::string_view name = word.substr(0, eq);
        if (name == "suppressed")
            out.suppressed = *n;
        else if (name == "forged")
            out.forged = *n;
        else
            out.kinds.emplace_back(std::string(name), *n);
    }
    if (text.empty())
        out.valid = false;
    return out;
}

std::string encode_trouble_last(const std::vector<TroubleNote>& notes) {
    const std::size_t first =
        notes.size() > k_max_trouble_last ? notes.size() - k_max_trouble_last : 0;
    std::string out;
    for (std::size_t i = first; i < notes.size(); ++i) {
        const TroubleNote& n = notes[i];
        append_bounded(out, "; ",
                       iso_seconds(n.time) + " " + trouble_word(n.kind) + " " +
                           trouble_word(n.signature) + " " + trouble_word(n.function) + " " +
                           trouble_word(n.known_bug));
    }
    return out.empty() ? "none" : out;
}

std::vector<TroubleNote> decode_trouble_last(std::string_view text) {
    std::vector<TroubleNote> out;
    for (const auto entry : split(text, "; ")) {
        const auto words = split(entry, " ");
        if (words.size() != 5)
            continue;
        const auto time = parse_iso8601_utc(words[0]);
        if (!time)
            continue;
        out.push_back(
            TroubleNote{*time, field(words[1]), field(words[2]), field(words[3]), field(words[4])});
    }
    return out;
}

std::string encode_previous_boot(const std::optional<PreviousBootNode>& boot) {
    if (!boot)
        return "none";
    std::string out = "end=" + trouble_word(boot->end) + " boot=" + trouble_word(boot->boot_id) +
                      " release=" + trouble_word(boot->release);
    if (boot->last_alive > 0)
        out += " last-alive=" + iso_seconds(boot->last_alive);
    out += " uptime=" + std::to_string(boot->uptime > 0 ? boot->uptime : 0);
    const std::pair<const char*, const std::string*> optional[] = {{"trouble", &boot->trouble_kind},
                                                                   {"signature", &boot->signature},
                                                                   {"function", &boot->function},
                                                                   {"known-bug", &boot->known_bug}};
    for (const auto& [key, value] : optional)
        if (!value->empty())
            out += std::string(" ") + key + "=" + trouble_word(*value);
    return out;
}

std::optional<PreviousBootNode> decode_previous_boot(std::string_view text) {
    PreviousBootNode out;
    bool has_end = false;
    for (const auto word : split(text, " ")) {
        const auto eq = word.find('=');
        if (eq == std::string_view::npos)
            continue;
        const std::string_view key = word.substr(0, eq);
        const std::string value = field(word.substr(eq + 1));
        if (key == "end") {
            out.end = value;
            has_end = !value.empty();
        } else if (key == "boot") {
            out.boot_id = value;
        } else if (key == "release") {
            out.release = value;
        } else if (key == "last-alive") {
            out.last_alive = parse_iso8601_utc(value).value_or(0);
        } else if (key == "uptime") {
            out.uptime = static_cast<std::int64_t>(number(value).value_or(0));
        } else if (key == "trouble") {
            out.trouble_kind = value;
        } else if (key == "signature") {
            out.signature = value;
        } else if (key == "function") {
            out.function = value;
        } else if (key == "known-bug") {
            out.known_bug = value;
        }
    }
    if (!has_end)
        return std::nullopt;
    return out;
}

std::string encode_known_bugs(const std::vector<KnownBugNote>& bugs) {
    std::string out;
    std::size_t n = 0;
    for (const auto& b : bugs) {
        if (b.exposure.empty() || b.exposure == "not-affected" || n == k_max_known_bugs)
            continue;
        ++n;
        append_bounded(out, " ",
                       trouble_word(b.id) + "=" + trouble_word(b.exposure) +
                           (b.fixed_in.empty() ? "" : "@" + trouble_word(b.fixed_in)));
    }
    return out.empty() ? "none" : out;
}

std::vector<KnownBugNote> decode_known_bugs(std::string_view text) {
    std::vector<KnownBugNote> out;
    if (text == "none")
        return out;
    for (const auto word : split(text, " ")) {
        const auto eq = word.find('=');
        if (eq == std::string_view::npos || eq == 0)
            continue;
        const std::string_view rest = word.substr(eq + 1);
        const auto at = rest.find('@');
        out.push_back(KnownBugNote{
            std::string(word.substr(0, eq)), std::string(rest.substr(0, at)),
            at == std::string_view::npos ? std::string() : std::string(rest.substr(at + 1))});
    }
    return out;
}

} // namespace guardian::contract
