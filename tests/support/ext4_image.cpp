#include "tests/support/ext4_image.hpp"

#include "tests/support/ext4_layout.hpp"
#include "tests/support/test_env.hpp"

#include <cstdint>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_uuid = "6a1b7c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
constexpr const char* k_hash_seed = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

std::string quote(const fs::path& p) {
    return "'" + p.string() + "'";
}

void must_run(const std::string& command, const std::string& what) {
    const CommandResult r = run_command(command);
    if (r.exit_code != 0)
        throw std::runtime_error(what + " failed (exit " + std::to_string(r.exit_code) +
                                 "): " + r.err + r.out);
}

std::vector<char> pseudo_random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::vector<char> out(n);
    for (auto& c : out)
        c = static_cast<char>(gen() & 0xffu);
    return out;
}

void write_file(const fs::path& p, const std::vector<char>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out)
        throw std::runtime_error("cannot write " + p.string());
}

// The tree mkfs.ext4 -d copies in. mkfs preserves holes (SEEK_DATA), so a
// file of one-block extents separated by one-block holes gets one extent per
// block: 3000 of them need 9 leaf blocks under an index block (depth 2).
void populate(const fs::path& root) {
    fs::create_directories(root / "sub");
    fs::create_directories(root / "big");
    write_file(root / "data.bin", pseudo_random_bytes(64 * 1024, 1));
    write_file(root / "sub" / "a.txt", {'h', 'e', 'l', 'l', 'o', '\n'});
    for (int i = 0; i < 3000; ++i)
        std::ofstream(root / "big" / ("entry_with_a_longish_name_" + std::to_string(i)));
    std::ofstream frag(root / "frag.bin", std::ios::binary | std::ios::trunc);
    const std::vector<char> block = pseudo_random_bytes(k_block_size, 2);
    for (int i = 0; i < 3000; ++i) {
        frag.seekp(static_cast<std::streamoff>(i) * 2 * k_block_size);
        frag.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
    if (!frag)
        throw std::runtime_error("cannot write frag.bin");
}

void build(ImageKind kind, const fs::path& image, const fs::path& work) {
    const fs::path root = work / "root";
    populate(root);
    const std::string mkfs = kind == ImageKind::ext3 ? " mkfs.ext3" : " mkfs.ext4";
    const std::string common = e2fs_env() + mkfs + " -F -q -b 4096 -g 8192 -N 4096 -U " + k_uuid +
                               " -E hash_seed=" + k_hash_seed + " -L guardian-test ";
    std::string features;
    switch (kind) {
    case ImageKind::full:
    case ImageKind::journal_log:
        features = "-t ext4 -O metadata_csum,^uninit_bg";
        break;
    case ImageKind::no_metadata_csum:
        features = "-t ext4 -O ^metadata_csum";
        break;
    case ImageKind::ext2:
        features = "-t ext2";
        break;
    case ImageKind::ext4_uninit_bg:
        features = "-t ext4 -O ^metadata_csum,^64bit,uninit_bg";
        break;
    case ImageKind::ext3:
        features = "-t ext3";
        break;
    }
    must_run(common + features + " -d " + quote(root) + " " + quote(image) + " 128M", "mkfs");
    // mkfs -d links entries one by one into linear directories; e2fsck -D
    // rebuilds /big as an htree (exit 1: "file system was modified").
    const CommandResult fsck = run_command(e2fs_env() + " e2fsck -fyD " + quote(image));
    if (fsck.exit_code > 1)
        throw std::runtime_error("e2fsck -fyD failed: " + fsck.out + fsck.err);

    // A 3000-byte value cannot live in a 256-byte inode: it goes to an xattr block.
    const std::vector<char> value(3000, 'x');
    write_file(work / "xattr-value", value);
    must_run(e2fs_env() + " debugfs -w -R " +
                 quote("ea_set -f " + (work / "xattr-value").string() + " " + k_xattr_file +
                       " user.big") +
                 " " + quote(image),
             "debugfs ea_set");

    if (kind == ImageKind::journal_log) {
        // Journal three blocks of /data.bin with their own contents, so a
        // replay would change nothing: the log is real, the fs stays consistent.
        std::vector<char> payload;
        std::string targets;
        for (std::uint64_t i = 0; i < 3; ++i) {
            const std::uint64_t b = bmap(image, k_data_file, i);
            const auto bytes = read_block(image, b);
            payload.insert(payload.end(), bytes.begin(), bytes.end());
            targets += (i ? "," : "") + std::to_string(b);
        }
        write_file(work / "journal-payload", payload);
        write_file(work / "journal-cmds", {});
        std::ofstream(work / "journal-cmds")
            << "jo -c\njw -b " << targets << " " << (work / "journal-payload").string() << "\njc\n";
        must_run(e2fs_env() + " debugfs -w -f " + quote(work / "journal-cmds") + " " + quote(image),
                 "debugfs journal_write");
    }
}

// Built images are shared by every test process of this build (ctest runs
// each test case in its own process): they live in the build tree, keyed by
// when this file was compiled, so a changed recipe never meets a stale image.
// A builder writes into a private directory and renames the finished image
// into place, so concurrent test processes never see half an image.
struct Cache {
    std::mutex lock;
    std::map<ImageKind, fs::path> built;
};

Cache& cache() {
    static Cache c;
    return c;
}

// Copies only the data extents (SEEK_DATA/SEEK_HOLE): the images are mostly
// holes, and every test case copies one.
void sparse_copy(const fs::path& from, const fs::path& to) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        throw std::runtime_error("open " + from.string());
    const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        ::close(in);
        throw std::runtime_error("create " + to.string());
    }
    const off_t size = ::lseek(in, 0, SEEK_END);
    off_t pos = 0;
    bool ok = size >= 0 && ::ftruncate(out, size) == 0;
    while (ok && pos < size) {
        const off_t data = ::lseek(in, pos, SEEK_DATA);
        if (data < 0)
            break; // only a hole is left
        const off_t hole = ::lseek(in, data, SEEK_HOLE);
        off_t src = data;
        off_t dst = data;
        while (ok && src < hole) {
            const ssize_t n =
                ::copy_file_range(in, &src, out, &dst, static_cast<std::size_t>(hole - src), 0);
            ok = n > 0;
        }
        pos = hole;
    }
    ::close(in);
    if (::close(out) != 0 || !ok)
        throw std::runtime_error("copy " + from.string() + " to " + to.string());
}

fs::path shared_cache_dir() {
    std::string stamp = std::string(__DATE__ "-" __TIME__);
    for (char& ch : stamp)
        if (ch == ' ' || ch == ':')
            ch = '_';
    return binary_dir() / "test-images" / stamp;
}

} // namespace

std::string to_string(ImageKind kind) {
    switch (kind) {
    case ImageKind::full:
        return "full";
    case ImageKind::journal_log:
        return "journal_log";
    case ImageKind::no_metadata_csum:
        return "no_metadata_csum";
    case ImageKind::ext2:
        return "ext2";
    case ImageKind::ext4_uninit_bg:
        return "ext4_uninit_bg";
    case ImageKind::ext3:
        return "ext3";
    }
    return "unknown";
}

std::string e2fs_env() {
    return "E2FSPROGS_FAKE_TIME=1700000000 TZ=UTC";
}

void copy_image(ImageKind kind, const fs::path& dest) {
    Cache& c = cache();
    const std::lock_guard<std::mutex> hold(c.lock);
    auto it = c.built.find(kind);
    if (it == c.built.end()) {
        const fs::path final_image = shared_cache_dir() / (to_string(kind) + ".img");
        if (!fs::exists(final_image)) {
            fs::create_directories(shared_cache_dir());
            TempDir scratch;
            const fs::path work = scratch.path() / to_string(kind);
            fs::create_directories(work);
            const fs::path image = work / "image";
            build(kind, image, work);
            const fs::path staged = final_image.string() + "." + std::to_string(::getpid());
            fs::copy_file(image, staged, fs::copy_options::overwrite_existing);
            fs::rename(staged, final_image);
        }
        it = c.built.emplace(kind, final_image).first;
    }
    sparse_copy(it->second, dest);
}

} // namespace guardian::test
