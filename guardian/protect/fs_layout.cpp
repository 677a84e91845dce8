// libext2fs adapter for protect/: where the journal superblock lives.
// errcode_t values never leave this file.
#include "guardian/protect/fsck_mark.hpp"

#include <ext2fs/ext2fs.h>

#include <memory>

namespace guardian::protect {
namespace {

struct FsCloser {
    void operator()(ext2_filsys fs) const noexcept { (void)ext2fs_close_free(&fs); }
};
using FsOwner = std::unique_ptr<struct_ext2_filsys, FsCloser>;

Error ext2_error(const std::string& what, errcode_t code) {
    return Error{what + ": " + error_message(code), 0};
}

} // namespace

Result<FsLayout> read_fs_layout(const std::string& device) {
    ext2_filsys raw = nullptr;
    // Read-only on a mounted device; checksum errors are not this code's
    // business (the verifier reports them), the block map is.
    const errcode_t rc =
        ext2fs_open2(device.c_str(), nullptr, EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0, 0,
                     unix_io_manager, &raw);
    if (rc != 0)
        return ext2_error("open " + device + " with libext2fs", rc);
    FsOwner fs(raw);

    FsLayout layout;
    layout.blocksize = fs->blocksize;
    layout.has_journal = ext2fs_has_feature_journal(fs->super) != 0;
    layout.errors_behavior = fs->super->s_errors;
    if (!layout.has_journal)
        return layout;
    if (fs->super->s_journal_inum == 0) {
        layout.external_journal = true;
        return layout;
    }
    blk64_t physical = 0;
    const errcode_t brc = ext2fs_bmap2(fs.get(), fs->super->s_journal_inum, nullptr, nullptr, 0, 0,
                                       nullptr, &physical);
    if (brc != 0)
        return ext2_error("map journal inode of " + device, brc);
    if (physical == 0)
        return Error{"journal inode of " + device + " has no block 0", 0};
    layout.journal_sb_block = physical;
    return layout;
}

} // namespace guardian::protect
