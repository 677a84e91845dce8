#include "guardian/boot/journal_reader.hpp"

#include "guardian/hooks/hook_runner.hpp"

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <sstream>

namespace guardian::boot {
namespace {

constexpr std::string_view k_fsck_root = "systemd-fsck-root.service";
constexpr std::string_view k_fsck_prefix = "systemd-fsck@";
// journalctl reads memory-mapped files; a minute is far beyond a slow disk.
constexpr std::chrono::milliseconds k_timeout{60'000};
constexpr std::size_t k_output_limit = 32u << 20;

// A journal value as text: a string, or an array of byte values (what
// journalctl prints for a value that is not valid UTF-8), or for a field
// repeated in one entry an array of those (the first one is kept).
std::string value_text(const nlohmann::json& v) {
    if (v.is_string())
        return v.get<std::string>();
    if (!v.is_array() || v.empty())
        return "";
    if (!v.front().is_number_unsigned())
        return value_text(v.front());
    std::string out;
    for (const auto& b : v)
        if (b.is_number_unsigned())
            out += static_cast<char>(b.get<unsigned>() & 0xffu);
    return out;
}

std::string field(const nlohmann::json& entry, const char* name) {
    const auto it = entry.find(name);
    return it == entry.end() ? std::string() : value_text(*it);
}

bool is_boot_id(std::string_view s) {
    return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) != 0;
           });
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            out.push_back(std::move(line));
    return out;
}

Result<std::string> find_journalctl() {
    // Merged-/usr guests have both; Debian 8 and EL7 only /bin or /usr/bin.
    for (const char* p : {"/usr/bin/journalctl", "/bin/journalctl"})
        if (::access(p, X_OK) == 0)
            return std::string(p);
    return Error{"journalctl not found (no systemd journal on this system)", ENOENT};
}

} // namespace

std::optional<JournalLine> parse_json_entry(std::string_view line) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object())
        return std::nullopt;
    JournalLine out;
    out.unit = field(j, "_SYSTEMD_UNIT");
    out.message = field(j, "MESSAGE");
    out.message_id = field(j, "MESSAGE_ID");
    const std::string us = field(j, "__REALTIME_TIMESTAMP");
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(us.data(), us.data() + us.size(), value);
    if (ec == std::errc() && end == us.data() + us.size())
        out.realtime_us = value;
    return out;
}

std::vector<std::string> parse_boot_list(std::string_view text) {
    std::vector<std::string> boots;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        for (std::string w; words >> w;) {
            if (is_boot_id(w)) {
                std::transform(w.begin(), w.end(), w.begin(), [](char c) {
                    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                });
                boots.push_back(std::move(w));
                break;
            }
        }
    }
    return boots;
}

Result<JournalReader> JournalReader::open_system() {
    GUARDIAN_TRY_ASSIGN(std::string exe, find_journalctl());
    return JournalReader(std::move(exe), "--system");
}

Result<JournalReader> JournalReader::open_directory(const std::string& dir) {
    GUARDIAN_TRY_ASSIGN(std::string exe, find_journalctl());
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
        return Error::from_errno("journal directory " + dir);
    if (!S_ISDIR(st.st_mode))
        return Error{"journal directory " + dir + ": not a directory", ENOTDIR};
    return JournalReader(std::move(exe), "--directory=" + dir);
}

Result<std::string> JournalReader::run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{m_journalctl, m_source, "--no-pager", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    hooks::HookOptions options;
    options.timeout = k_timeout;
    options.output_limit = k_output_limit;
    hooks::HookResult r = hooks::run_program(argv, options);
    if (!r.ok()) {
        std::string first = r.output.substr(0, r.output.find('\n'));
        return Error{"journalctl " + (args.empty() ? std::string() : args.front()) + ": " +
                         r.describe() + (first.empty() ? "" : ": " + first),
                     0};
    }
    return std::move(r.output);
}

Result<std::vector<JournalLine>> JournalReader::entries(std::vector<std::string> matches,
                                                        std::size_t limit) const {
    // --all: without it journalctl prints long values (> 4 KiB) as null.
    matches.insert(matches.begin(), {"--output=json", "--all"});
    GUARDIAN_TRY_ASSIGN(const std::string out, run(matches));
    std::vector<JournalLine> lines;
    for (const auto& text : lines_of(out)) {
        if (lines.size() >= limit)
            break;
        // Lines that are not JSON are journalctl's warnings on the merged
        // stderr (a truncated file it skips): not entries.
        if (auto line = parse_json_entry(text))
            lines.push_back(std::move(*line));
    }
    return lines;
}

Result<std::vector<JournalLine>> JournalReader::fsck_lines(std::string_view boot_id,
                                                           std::size_t limit) {
    // systemd-fsck@ is a template: matches are exact, so enumerate the unit
    // names the journal knows and keep the fsck instances.
    GUARDIAN_TRY_ASSIGN(const std::string names, run({"--field=_SYSTEMD_UNIT"}));
    std::vector<std::string> matches{"_SYSTEMD_UNIT=" + std::string(k_fsck_root)};
    for (const auto& unit : lines_of(names))
        if (unit.starts_with(k_fsck_prefix))
            matches.push_back("_SYSTEMD_UNIT=" + unit);
    // Matches on one field are ORed, on different fields ANDed.
    matches.push_back("_BOOT_ID=" + std::string(boot_id));
    return entries(std::move(matches), limit);
}

Result<std::string> JournalReader::previous_boot(std::string_view boot_id) {
    if (!m_boots) {
        auto listed = run({"--list-boots"});
        if (!listed) {
            // An empty journal: journalctl exits non-zero with "No boots".
            // Any other failure is an error.
            if (listed.error().message.find("No ") == std::string::npos)
                return std::move(listed).error();
            m_boots.emplace();
        } else {
            m_boots = parse_boot_list(*listed);
        }
    }
    const auto& boots = *m_boots;
    const auto it = std::find(boots.begin(), boots.end(), boot_id);
    if (it == boots.end())
        return boots.empty() ? std::string() : boots.back();
    return it == boots.begin() ? std::string() : *(it - 1);
}

Result<std::int64_t> JournalReader::last_entry_realtime_us(std::string_view boot_id) {
    // --lines=1 reads from the tail: one entry, however long the boot.
    GUARDIAN_TRY_ASSIGN(const auto last,
                        entries({"--lines=1", "_BOOT_ID=" + std::string(boot_id)}, 1));
    return last.empty() ? 0 : last.front().realtime_us;
}

Result<std::vector<std::string>> JournalReader::kernel_json_lines(std::string_view boot_id,
                                                                  std::size_t limit) {
    // Not -k: it implies -b (this boot). --lines reads from the tail, where
    // the end of the boot is.
    GUARDIAN_TRY_ASSIGN(const std::string out,
                        run({"--output=json", "--all", "--lines=" + std::to_string(limit),
                             "_TRANSPORT=kernel", "_BOOT_ID=" + std::string(boot_id)}));
    std::vector<std::string> lines = lines_of(out);
    if (lines.size() > limit)
        lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(limit));
    return lines;
}

Result<std::vector<JournalLine>> JournalReader::entries_with_ids(
    std::string_view boot_id, const std::vector<std::string_view>& message_ids, std::size_t limit) {
    std::vector<std::string> matches;
    for (auto id : message_ids)
        matches.push_back("MESSAGE_ID=" + std::string(id));
    matches.push_back("_BOOT_ID=" + std::string(boot_id));
    return entries(std::move(matches), limit);
}

} // namespace guardian::boot
