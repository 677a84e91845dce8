#include "guardian/daemon/state_file.hpp"

#include "guardian/util/fd.hpp"

#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace guardian::daemon {
Status write_state_file(const std::string& path, const StateSnapshot& s) {
    const nlohmann::json j = state_to_json(s);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    return write_file_atomic(path, j.dump(1) + "\n");
}

Status append_history(const std::string& path, const VerificationOutcome& v) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(path, O_WRONLY | O_CREAT | O_APPEND, 0640));
    const std::string line = verification_to_json(v).dump() + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return Error::from_errno("append " + path);
    if (::fsync(fd.get()) != 0)
        return Error::from_errno("fsync " + path);
    return ok_status();
}

} // namespace guardian::daemon
