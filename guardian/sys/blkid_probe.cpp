#include "guardian/sys/blkid_probe.hpp"

#include <blkid/blkid.h>
#include <cerrno>
#include <memory>

namespace guardian::sys {
namespace {

struct ProbeDeleter {
    void operator()(blkid_struct_probe* p) const noexcept { blkid_free_probe(p); }
};
using ProbePtr = std::unique_ptr<blkid_struct_probe, ProbeDeleter>;

std::string lookup(blkid_probe probe, const char* name) {
    const char* value = nullptr;
    std::size_t len = 0;
    if (blkid_probe_lookup_value(probe, name, &value, &len) != 0 || value == nullptr)
        return {};
    // len includes the terminating NUL.
    return std::string(value, len > 0 ? len - 1 : 0);
}

} // namespace

Result<FsIdentity> probe_filesystem(const std::string& path) {
    errno = 0;
    ProbePtr probe(blkid_new_probe_from_filename(path.c_str()));
    if (!probe)
        return Error::from_errno("probe " + path, errno != 0 ? errno : EIO);
    blkid_probe_enable_superblocks(probe.get(), 1);
    blkid_probe_set_superblocks_flags(probe.get(),
                                      BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL);
    FsIdentity id;
    id.source = path;
    const int rc = blkid_do_safeprobe(probe.get());
    if (rc < 0)
        return Error{"probe " + path +
                         ": libblkid could not read it (or found conflicting "
                         "signatures)",
                     EIO};
    if (rc == 0) {
        id.type = lookup(probe.get(), "TYPE");
        id.uuid = lookup(probe.get(), "UUID");
        id.label = lookup(probe.get(), "LABEL");
    }
    return id;
}

} // namespace guardian::sys
