#include "guardian/util/publish_file.hpp"

#include "guardian/util/fd.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace guardian {

Status publish_file(const std::string& path, std::string_view content, unsigned mode) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    // Hidden and without the final suffix: the collector's *.prom glob skips it.
    std::string tmp = (slash == std::string::npos ? "" : dir) + "." + base + ".XXXXXX";
    Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno("create a temporary file for " + path);
    auto fail = [&](const std::string& what) {
        Error e = Error::from_errno(what);
        ::unlink(tmp.c_str());
        return e;
    };
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0)
        return fail("chmod " + tmp);
    if (auto st = write_all(fd.get(), content, tmp); !st) {
        ::unlink(tmp.c_str());
        return st;
    }
    if (::fsync(fd.get()) != 0)
        return fail("fsync " + tmp);
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return fail("rename " + tmp + " to " + path);
    // The rename itself must survive a crash too. Best effort: the file is
    // published either way, and a reader never sees a part of it.
    (void)fsync_directory(dir);
    return ok_status();
}

} // namespace guardian
