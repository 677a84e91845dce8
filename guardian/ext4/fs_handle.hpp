// The libext2fs adapter: an RAII owner for ext2_filsys, and the few things
// guardian asks libext2fs for (opening with the format's own validation,
// group descriptor block locations for meta_bg, block maps of block-mapped
// inodes and of the journal). errcode_t values never leave this file pair.
#pragma once

#include "guardian/ext4/jbd2.hpp"
#include "guardian/util/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct struct_ext2_filsys;

namespace guardian::ext4 {

class FsHandle {
public:
    // Opens read-only, ignoring checksum errors (damage is reported, not fatal).
    // A missing magic is "not an ext2/3/4 filesystem"; other rejections are
    // returned with libext2fs's reason in `rejected` (damage, not an error).
    struct OpenOutcome;
    [[nodiscard]] static Result<OpenOutcome> open(const std::string& path);
    ~FsHandle();
    FsHandle(const FsHandle&) = delete;
    FsHandle& operator=(const FsHandle&) = delete;

    // Block of the descriptor table holding descriptor block `i` (meta_bg aware).
    [[nodiscard]] std::uint64_t descriptor_block(std::uint64_t i) const;
    // Physical blocks of a block-mapped (or extent) inode, logical order;
    // at most `cap` entries. Reads through libext2fs.
    [[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint64_t>>
    block_map(std::uint32_t ino, std::uint64_t cap) const;
    [[nodiscard]] std::vector<JournalExtent> journal_map(std::uint32_t ino) const;

private:
    explicit FsHandle(struct_ext2_filsys* fs) : m_fs(fs) {}
    struct_ext2_filsys* m_fs;
};

struct FsHandle::OpenOutcome {
    std::unique_ptr<FsHandle> fs; // null when rejected
    std::string rejected;         // why libext2fs refused it
};

} // namespace guardian::ext4
