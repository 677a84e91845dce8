#include "guardian/boot/boot_history_file.hpp"

#include "guardian/util/fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace guardian::boot {
namespace {

// 256 boots of a few hundred bytes each, with superseded snapshots: far
// below this; a bigger file is not ours.
constexpr std::size_t k_max_file = 4u << 20;

std::string parent_of(const std::string& path) {
    return std::filesystem::path(path).parent_path().string();
}

} // namespace

Result<DecodedHistory> read_boot_history(const std::string& path) {
    auto text = read_text_file(path, k_max_file);
    if (!text) {
        if (text.error().code == ENOENT)
            return DecodedHistory{};
        return std::move(text).error();
    }
    return decode_boot_history(*text);
}

Result<DecodedHistory> BootHistoryFile::load() {
    GUARDIAN_TRY_ASSIGN(DecodedHistory h, read_boot_history(m_path));
    m_boots = h.boots;
    m_records = h.records;
    m_dirty = h.torn_tail || h.rejected > 0;
    return h;
}

Status BootHistoryFile::compact() {
    std::error_code ec;
    std::filesystem::create_directories(parent_of(m_path), ec);
    GUARDIAN_TRY(write_file_atomic(m_path, encode_boot_history(m_boots), 0644));
    GUARDIAN_TRY(fsync_directory(parent_of(m_path)));
    m_records = m_boots.size();
    m_dirty = false;
    ++m_writes;
    return ok_status();
}

Status BootHistoryFile::save(const BootEntry& e) {
    upsert_boot(m_boots, e);
    DecodedHistory shape;
    shape.boots = m_boots;
    shape.records = m_records + 1;
    if (m_dirty || boot_history_needs_compaction(shape) || m_records == 0)
        return compact(); // the first write creates the file and its directory entry durably
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(m_path, O_WRONLY | O_APPEND));
    const std::string line = encode_boot_record(e);
    if (auto st = write_all(fd.get(), line, m_path); !st) {
        m_dirty = true; // part of the line may be there: rewrite next time
        return st;
    }
    if (::fsync(fd.get()) != 0) {
        m_dirty = true;
        return Error::from_errno("fsync " + m_path);
    }
    ++m_records;
    ++m_writes;
    return ok_status();
}

} // namespace guardian::boot
