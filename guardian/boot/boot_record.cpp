#include "guardian/boot/boot_record.hpp"

#include "guardian/boot/boot_report_run.hpp"
#include "guardian/core/boot_report.hpp"
#include "guardian/util/fd.hpp"

#include <cerrno>
#include <filesystem>

namespace guardian::boot {

Result<std::string> read_boot_record(const SystemRoot& root) {
    auto text = read_text_file(root.path(k_boot_record_file), 64 * 1024);
    if (!text && text.error().code == ENOENT)
        return std::string();
    return text;
}

Result<bool> record_boot_start(const SystemRoot& root, std::int64_t now_us) {
    GUARDIAN_TRY_ASSIGN(std::string id, read_boot_id(root));
    GUARDIAN_TRY_ASSIGN(std::string record, read_boot_record(root));
    if (boot_recorded(record, id))
        return false;
    const std::string path = root.path(k_boot_record_file);
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    GUARDIAN_TRY(write_file_atomic(path, add_boot(record, id, now_us), 0600));
    // On disk now, not at the next commit: an incident seconds from now
    // shuts the filesystem down without one.
    GUARDIAN_TRY(fsync_directory(dir.string()));
    return true;
}

} // namespace guardian::boot
