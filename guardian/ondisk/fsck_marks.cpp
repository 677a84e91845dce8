#include "guardian/ondisk/fsck_marks.hpp"

#include "guardian/ondisk/bytes.hpp"
#include "guardian/ondisk/crc32c.hpp"
#include "guardian/ondisk/jbd2_format.hpp"
#include "guardian/ondisk/superblock_format.hpp"

#include <cerrno>

namespace guardian::ondisk {

Status patch_journal_superblock(std::span<std::byte, 1024> jsb) {
    if (be32(jsb, 0) != jbd2::k_magic)
        return Error{"journal superblock: bad magic", 0};
    const std::uint32_t type = be32(jsb, jbd2::k_sb_blocktype);
    if (type != jbd2::k_sb_v2 && type != jbd2::k_sb_v1)
        return Error{"journal superblock: unknown block type", 0};
    put_be32(jsb, jbd2::k_sb_errno, static_cast<std::uint32_t>(-EIO));
    // Only v2 superblocks have feature words; v1 ones have no checksum.
    const std::uint32_t incompat = type == jbd2::k_sb_v2 ? be32(jsb, jbd2::k_sb_incompat) : 0;
    if (incompat & (jbd2::k_incompat_csum_v2 | jbd2::k_incompat_csum_v3)) {
        put_be32(jsb, jbd2::k_sb_checksum, 0);
        put_be32(jsb, jbd2::k_sb_checksum, crc32c(~0u, jsb));
    }
    return ok_status();
}

Status patch_fs_superblock(std::span<std::byte, 1024> s) {
    if (le16(s, sb::k_magic) != sb::k_magic_value)
        return Error{"superblock: bad magic", 0};
    put_le16(s, sb::k_state, static_cast<std::uint16_t>(le16(s, sb::k_state) | sb::k_state_error));
    if (le32(s, sb::k_ro_compat) & sb::k_ro_compat_metadata_csum)
        put_le32(s, sb::k_checksum, crc32c(~0u, Bytes(s).first(sb::k_checksum)));
    return ok_status();
}

} // namespace guardian::ondisk
