// raw_metadata_read: the physical limit for a metadata check of one ext4 image.
//
// It plans (untimed, with libext2fs) the list of metadata blocks guardian reads
// -- superblock, group descriptors, initialised bitmaps, inode table blocks
// holding in-use inodes, directory and htree blocks, extent tree blocks, xattr
// blocks, the journal superblock -- and then (timed) reads exactly those bytes
// with `queue_depth` threads doing pread over coalesced runs, while
// `hash_threads` threads hash every block with XXH3-128 as soon as its run has
// arrived. Nothing is parsed or verified: whatever guardian takes on top of
// this is the cost of its logic. bench/run calls it; see bench/README.md.
//
// Output: one JSON object on stdout (plan figures and one time per pass).
#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <new>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <ext2fs/ext2fs.h>
// com_err.h has no extern "C" of its own.
extern "C" {
#include <et/com_err.h>
}
#include <xxhash.h>

namespace guardian::bench {
namespace {

Error ext2_error(const std::string& what, errcode_t code) {
    return Error{what + ": " + error_message(code), 0};
}

struct FsCloser {
    void operator()(ext2_filsys fs) const noexcept { ext2fs_close_free(&fs); }
};
using FsHandle = std::unique_ptr<struct struct_ext2_filsys, FsCloser>;

struct ScanCloser {
    void operator()(ext2_inode_scan scan) const noexcept { ext2fs_close_inode_scan(scan); }
};
using ScanHandle = std::unique_ptr<struct ext2_struct_inode_scan, ScanCloser>;

struct Plan {
    unsigned block_size = 0;
    std::vector<blk64_t> blocks; // sorted, unique
    std::uint64_t inodes_in_use = 0;
};

struct IterateContext {
    std::vector<blk64_t>* out;
    bool metadata_only; // false for directories: their data blocks are metadata
    bool failed = false;
};

// C callback: must not let an exception out (push_back may throw bad_alloc).
int collect_block(ext2_filsys, blk64_t* blocknr, e2_blkcnt_t blockcnt, blk64_t, int,
                  void* priv) noexcept {
    auto* ctx = static_cast<IterateContext*>(priv);
    if (ctx->metadata_only && blockcnt >= 0)
        return 0;
    try {
        ctx->out->push_back(*blocknr);
    } catch (...) {
        ctx->failed = true;
        return BLOCK_ABORT;
    }
    return 0;
}

// Depth of the extent tree rooted in i_block, 0 when it fits in the inode.
unsigned extent_depth(const ext2_inode& inode) {
    ext3_extent_header header{};
    std::memcpy(&header, inode.i_block, sizeof header);
    return ext2fs_le16_to_cpu(header.eh_depth);
}

Result<Plan> plan_metadata(const std::string& image) {
    ext2_filsys raw = nullptr;
    if (errcode_t rc = ext2fs_open(image.c_str(), 0, 0, 0, unix_io_manager, &raw))
        return ext2_error("open " + image, rc);
    FsHandle fs(raw);
    if (errcode_t rc = ext2fs_read_bitmaps(fs.get()))
        return ext2_error("read bitmaps of " + image, rc);

    Plan plan;
    plan.block_size = fs->blocksize;
    std::vector<blk64_t>& out = plan.blocks;
    ext2_super_block* sb = fs->super;

    out.push_back(sb->s_first_data_block); // superblock
    for (dgrp_t i = 0; i < fs->desc_blocks; ++i)
        out.push_back(ext2fs_descriptor_block_loc2(fs.get(), sb->s_first_data_block, i));

    const unsigned inode_size = EXT2_INODE_SIZE(sb);
    const unsigned inodes_per_block = fs->blocksize / inode_size;
    for (dgrp_t g = 0; g < fs->group_desc_count; ++g) {
        // Uninitialised bitmaps are never read by anyone: their content is implied.
        if (!ext2fs_bg_flags_test(fs.get(), g, EXT2_BG_BLOCK_UNINIT))
            out.push_back(ext2fs_block_bitmap_loc(fs.get(), g));
        if (!ext2fs_bg_flags_test(fs.get(), g, EXT2_BG_INODE_UNINIT))
            out.push_back(ext2fs_inode_bitmap_loc(fs.get(), g));
        const blk64_t table = ext2fs_inode_table_loc(fs.get(), g);
        const ext2_ino_t first = g * sb->s_inodes_per_group + 1;
        for (unsigned b = 0; b * inodes_per_block < sb->s_inodes_per_group; ++b) {
            for (unsigned k = 0; k < inodes_per_block; ++k) {
                if (ext2fs_test_inode_bitmap2(fs->inode_map, first + b * inodes_per_block + k)) {
                    out.push_back(table + b);
                    break;
                }
            }
        }
    }

    ext2_inode_scan raw_scan = nullptr;
    if (errcode_t rc = ext2fs_open_inode_scan(fs.get(), 0, &raw_scan))
        return ext2_error("inode scan of " + image, rc);
    ScanHandle scan(raw_scan);
    std::vector<unsigned char> buffer(inode_size);
    auto* inode = reinterpret_cast<ext2_inode*>(buffer.data());
    for (;;) {
        ext2_ino_t ino = 0;
        errcode_t rc =
            ext2fs_get_next_inode_full(scan.get(), &ino, inode, static_cast<int>(inode_size));
        if (rc == EXT2_ET_BAD_BLOCK_IN_INODE_TABLE)
            continue;
        if (rc)
            return ext2_error("inode scan of " + image, rc);
        if (ino == 0)
            break;
        if (!ext2fs_test_inode_bitmap2(fs->inode_map, ino) || inode->i_links_count == 0)
            continue;
        ++plan.inodes_in_use;
        if (blk64_t acl = ext2fs_file_acl_block(fs.get(), inode))
            out.push_back(acl);
        if ((inode->i_flags & EXT4_INLINE_DATA_FL) ||
            !ext2fs_inode_has_valid_blocks2(fs.get(), inode))
            continue;
        const bool is_dir = LINUX_S_ISDIR(inode->i_mode);
        if (!is_dir) {
            // Only tree blocks matter for files: skip the (many) shallow ones cheaply.
            if ((inode->i_flags & EXT4_EXTENTS_FL) && extent_depth(*inode) == 0)
                continue;
            if (!(inode->i_flags & EXT4_EXTENTS_FL) && inode->i_block[EXT2_IND_BLOCK] == 0)
                continue;
        }
        IterateContext ctx{&out, !is_dir};
        rc = ext2fs_block_iterate3(fs.get(), ino, BLOCK_FLAG_READ_ONLY, nullptr, collect_block,
                                   &ctx);
        if (ctx.failed)
            throw std::bad_alloc();
        if (rc)
            return ext2_error("blocks of inode " + std::to_string(ino), rc);
    }

    if (ext2fs_has_feature_journal(sb) && sb->s_journal_inum != 0) {
        blk64_t journal_sb = 0;
        if (errcode_t rc = ext2fs_bmap2(fs.get(), sb->s_journal_inum, nullptr, nullptr, 0, 0,
                                        nullptr, &journal_sb))
            return ext2_error("journal superblock of " + image, rc);
        out.push_back(journal_sb);
    }

    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return plan;
}

struct Run {
    blk64_t first;
    std::uint32_t count;
    std::size_t buffer_block; // index of its first block in the read buffer
};

// Contiguous blocks become one read, capped so 32 readers still have work.
std::vector<Run> coalesce(const std::vector<blk64_t>& blocks, std::uint32_t max_blocks) {
    std::vector<Run> runs;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (!runs.empty() && runs.back().first + runs.back().count == blocks[i] &&
            runs.back().count < max_blocks)
            ++runs.back().count;
        else
            runs.push_back(Run{blocks[i], 1, i});
    }
    return runs;
}

struct AlignedFree {
    void operator()(std::byte* p) const noexcept { std::free(p); }
};

// User + system CPU time of the whole process so far.
double cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto secs = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return secs(usage.ru_utime) + secs(usage.ru_stime);
}

struct PassResult {
    double seconds = 0;
    double cpu_used = 0;
    XXH128_hash_t digest{};
};

// One timed pass: readers and hashers run at once; a hasher waits for the run
// it claimed to be marked done.
Result<PassResult> read_and_hash(const std::string& image, bool direct, const Plan& plan,
                                 const std::vector<Run>& runs, std::byte* buffer,
                                 unsigned queue_depth, unsigned hash_threads) {
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(image, O_RDONLY | (direct ? O_DIRECT : 0)));
    const std::size_t bs = plan.block_size;
    std::vector<XXH128_hash_t> hashes(plan.blocks.size());
    auto done = std::make_unique<std::atomic<std::uint8_t>[]>(runs.size());
    std::atomic<std::size_t> next_read{0};
    std::atomic<std::size_t> next_hash{0};
    std::atomic<bool> failed{false};
    std::string failure;

    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    {
        std::vector<std::jthread> threads;
        for (unsigned t = 0; t < queue_depth; ++t) {
            threads.emplace_back([&] {
                for (std::size_t i; (i = next_read.fetch_add(1)) < runs.size();) {
                    const Run& r = runs[i];
                    std::span<std::byte> dst(buffer + r.buffer_block * bs, r.count * bs);
                    Status st = pread_full(fd.get(), dst, r.first * bs, image);
                    if (!st.ok() && !failed.exchange(true))
                        failure = st.error().message;
                    done[i].store(1, std::memory_order_release);
                    done[i].notify_all();
                }
            });
        }
        for (unsigned t = 0; t < hash_threads; ++t) {
            threads.emplace_back([&] {
                for (std::size_t i; (i = next_hash.fetch_add(1)) < runs.size();) {
                    done[i].wait(0, std::memory_order_acquire);
                    const Run& r = runs[i];
                    for (std::uint32_t k = 0; k < r.count; ++k)
                        hashes[r.buffer_block + k] =
                            XXH3_128bits(buffer + (r.buffer_block + k) * bs, bs);
                }
            });
        }
    }
    PassResult result;
    result.digest = XXH3_128bits(hashes.data(), hashes.size() * sizeof(XXH128_hash_t));
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.cpu_used = cpu_seconds() - cpu_start;
    if (failed)
        return Error{failure, 0};
    return result;
}

Status drop_caches() {
    ::sync();
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(SystemRoot().path("/proc/sys/vm/drop_caches"), O_WRONLY));
    if (::write(fd.get(), "3\n", 2) != 2)
        return Error::from_errno("write /proc/sys/vm/drop_caches");
    return ok_status();
}

int usage() {
    std::fputs("usage: raw_metadata_read IMAGE [--cold] [--runs N] [--queue-depth N] "
               "[--hash-threads N]\n"
               "  warm: one untimed pass fills the page cache, then N timed buffered passes\n"
               "  cold: before each pass sync + drop_caches (root), reads with O_DIRECT\n",
               stderr);
    return 2;
}

int run(int argc, char** argv) {
    std::string image;
    bool cold = false;
    unsigned runs_wanted = 5, queue_depth = 32, hash_threads = 2;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        unsigned* number = arg == "--runs"           ? &runs_wanted
                           : arg == "--queue-depth"  ? &queue_depth
                           : arg == "--hash-threads" ? &hash_threads
                                                     : nullptr;
        if (number) {
            if (i + 1 >= argc)
                return usage();
            *number = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
            if (*number == 0)
                return usage();
        } else if (arg == "--cold") {
            cold = true;
        } else if (arg.starts_with("-") || !image.empty()) {
            return usage();
        } else {
            image = arg;
        }
    }
    if (image.empty())
        return usage();

    const auto plan_start = std::chrono::steady_clock::now();
    Result<Plan> plan = plan_metadata(image);
    if (!plan.ok()) {
        std::fprintf(stderr, "raw_metadata_read: %s\n", plan.error().message.c_str());
        return 2;
    }
    const double plan_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - plan_start).count();
    const std::vector<Run> runs = coalesce(plan->blocks, 256);
    const std::size_t bytes = plan->blocks.size() * plan->block_size;
    std::unique_ptr<std::byte, AlignedFree> buffer(
        static_cast<std::byte*>(std::aligned_alloc(4096, std::max<std::size_t>(bytes, 4096))));
    if (!buffer)
        throw std::bad_alloc();
    std::memset(buffer.get(), 0, bytes); // fault the pages in before any timing

    if (!cold) {
        Result<PassResult> warmup =
            read_and_hash(image, false, *plan, runs, buffer.get(), queue_depth, hash_threads);
        if (!warmup.ok()) {
            std::fprintf(stderr, "raw_metadata_read: %s\n", warmup.error().message.c_str());
            return 2;
        }
    }
    std::vector<double> times;
    std::vector<double> cpu_times;
    XXH128_hash_t digest{};
    for (unsigned n = 0; n < runs_wanted; ++n) {
        if (cold) {
            if (Status st = drop_caches(); !st.ok()) {
                std::fprintf(stderr, "raw_metadata_read: %s (cold runs need root)\n",
                             st.error().message.c_str());
                return 2;
            }
        }
        Result<PassResult> pass =
            read_and_hash(image, cold, *plan, runs, buffer.get(), queue_depth, hash_threads);
        if (!pass.ok()) {
            std::fprintf(stderr, "raw_metadata_read: %s\n", pass.error().message.c_str());
            return 2;
        }
        times.push_back(pass->seconds);
        cpu_times.push_back(pass->cpu_used);
        digest = pass->digest;
    }

    std::printf("{\"mode\":\"%s\",\"block_size\":%u,\"blocks\":%zu,\"bytes\":%zu,\"reads\":%zu,"
                "\"inodes_in_use\":%llu,\"plan_seconds\":%.6f,\"queue_depth\":%u,"
                "\"hash_threads\":%u,\"digest\":\"%016llx%016llx\",\"seconds\":[",
                cold ? "cold" : "warm", plan->block_size, plan->blocks.size(), bytes, runs.size(),
                static_cast<unsigned long long>(plan->inodes_in_use), plan_seconds, queue_depth,
                hash_threads, static_cast<unsigned long long>(digest.high64),
                static_cast<unsigned long long>(digest.low64));
    for (std::size_t i = 0; i < times.size(); ++i)
        std::printf("%s%.6f", i ? "," : "", times[i]);
    std::printf("],\"cpu_seconds\":[");
    for (std::size_t i = 0; i < cpu_times.size(); ++i)
        std::printf("%s%.6f", i ? "," : "", cpu_times[i]);
    std::printf("]}\n");
    return 0;
}

} // namespace
} // namespace guardian::bench

int main(int argc, char** argv) {
    try {
        return guardian::bench::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "raw_metadata_read: %s\n", e.what());
        return 2;
    }
}
