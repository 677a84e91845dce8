#include "guardian/core/mountinfo.hpp"

#include <charconv>
#include <sstream>

namespace guardian {
namespace {

std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' &&
            s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ')
            ++i;
        if (i > start)
            out.push_back(line.substr(start, i - start));
    }
    return out;
}

bool parse_dev(std::string_view s, unsigned& major, unsigned& minor) {
    const auto colon = s.find(':');
    if (colon == std::string_view::npos)
        return false;
    const auto a = std::from_chars(s.data(), s.data() + colon, major);
    const auto b = std::from_chars(s.data() + colon + 1, s.data() + s.size(), minor);
    return a.ec == std::errc{} && a.ptr == s.data() + colon && b.ec == std::errc{} &&
           b.ptr == s.data() + s.size();
}

} // namespace

bool MountEntry::read_only() const {
    std::stringstream ss(mount_options);
    std::string opt;
    while (std::getline(ss, opt, ','))
        if (opt == "ro")
            return true;
    return false;
}

Result<std::vector<MountEntry>> parse_mountinfo(std::string_view text) {
    std::vector<MountEntry> out;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        const std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (line.empty())
            continue;
        // id parent major:minor root mount-point options [optional...] - fstype source super
        const auto f = split_spaces(line);
        std::size_t sep = 6;
        while (sep < f.size() && f[sep] != "-")
            ++sep;
        if (f.size() < 7 || sep + 2 >= f.size())
            return Error{"mountinfo line " + std::to_string(line_no) + ": malformed", 0};
        MountEntry e;
        if (!parse_dev(f[2], e.major, e.minor))
            return Error{"mountinfo line " + std::to_string(line_no) + ": bad device number '" +
                             std::string(f[2]) + "'",
                         0};
        e.root = unescape(f[3]);
        e.mount_point = unescape(f[4]);
        e.mount_options = std::string(f[5]);
        e.fs_type = std::string(f[sep + 1]);
        e.source = unescape(f[sep + 2]);
        e.super_options = sep + 3 < f.size() ? std::string(f[sep + 3]) : std::string();
        out.push_back(std::move(e));
    }
    return out;
}

bool is_ext_family(std::string_view fs_type) noexcept {
    return fs_type == "ext4" || fs_type == "ext3" || fs_type == "ext2";
}

} // namespace guardian
