#include "guardian/config/config_files.hpp"

#include "guardian/util/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace guardian {
namespace {

// Appends the file's text when it exists; false when it does not (the
// defaults then apply). read_text_file bounds it at 1 MiB.
Result<bool> read_if_present(const std::string& path, std::vector<ConfigSource>& out) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
        return Error::from_errno("stat " + path, ec.value());
    if (!std::filesystem::exists(st))
        return false;
    if (!std::filesystem::is_regular_file(st))
        return Error{path + ": not a regular file", 0};
    GUARDIAN_TRY_ASSIGN(std::string text, read_text_file(path));
    out.push_back(ConfigSource{path, std::move(text)});
    return true;
}

bool is_dropin_name(const std::string& name) {
    return name.size() > 5 && name.front() != '.' && name.ends_with(".conf");
}

} // namespace

Result<std::vector<ConfigSource>> read_config_sources(const SystemRoot& root) {
    std::vector<ConfigSource> sources;
    GUARDIAN_TRY(read_if_present(root.path(k_config_file), sources));

    const std::string dir = root.path(k_config_dropin_dir);
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec == std::errc::no_such_file_or_directory)
        return sources;
    if (ec)
        return Error::from_errno("open directory " + dir, ec.value());

    std::vector<std::string> names;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!is_dropin_name(name))
            continue;
        std::error_code sec;
        if (!std::filesystem::is_regular_file(it->path(), sec)) // follows symlinks
            continue;
        names.push_back(name);
    }
    if (ec)
        return Error::from_errno("read directory " + dir, ec.value());
    std::sort(names.begin(), names.end()); // byte order, like systemd's drop-ins
    for (const auto& name : names)
        GUARDIAN_TRY(read_if_present(dir + "/" + name, sources));
    return sources;
}

Result<EffectiveConfig> load_config(const SystemRoot& root) {
    GUARDIAN_TRY_ASSIGN(auto sources, read_config_sources(root));
    return parse_config(sources);
}

} // namespace guardian
