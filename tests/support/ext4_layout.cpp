#include "tests/support/ext4_layout.hpp"

#include "tests/support/ext4_image.hpp"
#include "tests/support/test_env.hpp"

#include <fcntl.h>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& s) {
    return "'" + s + "'";
}

std::uint64_t to_u64(const std::string& s) {
    return std::stoull(s, nullptr, 0);
}

std::uint32_t to_u32(const std::string& s) {
    return static_cast<std::uint32_t>(std::stoul(s, nullptr, 0));
}

// The first capture of `pattern` in `text`, or throw naming what was sought.
std::string capture(const std::string& text, const std::string& pattern, const std::string& what) {
    std::smatch m;
    if (!std::regex_search(text, m, std::regex(pattern)))
        throw std::runtime_error("cannot find " + what + " in:\n" + text);
    return m[1].str();
}

struct FdOwner {
    int fd;
    explicit FdOwner(const fs::path& p, int flags) : fd(::open(p.c_str(), flags | O_CLOEXEC)) {
        if (fd < 0)
            throw std::runtime_error("open " + p.string());
    }
    FdOwner(const FdOwner&) = delete;
    FdOwner& operator=(const FdOwner&) = delete;
    ~FdOwner() { ::close(fd); }
};

off_t offset_of(std::uint64_t block, std::uint32_t block_size, std::uint32_t offset = 0) {
    return static_cast<off_t>(block * block_size + offset);
}

} // namespace

std::string debugfs(const fs::path& image, const std::string& command) {
    const CommandResult r =
        run_command(e2fs_env() + " debugfs -R " + quote(command) + " " + quote(image.string()));
    if (r.exit_code != 0)
        throw std::runtime_error("debugfs -R \"" + command + "\" failed: " + r.err);
    return r.out;
}

FsLayout read_layout(const fs::path& image) {
    const CommandResult r = run_command("dumpe2fs " + quote(image.string()));
    if (r.exit_code != 0)
        throw std::runtime_error("dumpe2fs failed: " + r.err);
    const std::string& t = r.out;
    FsLayout l;
    l.block_size = to_u32(capture(t, R"(Block size:\s+(\d+))", "block size"));
    l.blocks_per_group = to_u32(capture(t, R"(Blocks per group:\s+(\d+))", "blocks per group"));
    l.inodes_per_group = to_u32(capture(t, R"(Inodes per group:\s+(\d+))", "inodes per group"));
    l.inode_size = to_u32(capture(t, R"(Inode size:\s+(\d+))", "inode size"));
    l.block_count = to_u64(capture(t, R"(Block count:\s+(\d+))", "block count"));
    std::smatch m;
    if (std::regex_search(t, m, std::regex(R"(Group descriptor size:\s+(\d+))")))
        l.desc_size = to_u32(m[1].str());

    std::istringstream lines(t);
    std::string line;
    const std::regex group_re(R"(^Group (\d+): \(Blocks [^)]*\)(.*)$)");
    const std::regex bb_re(R"(^\s+Block bitmap at (\d+))");
    const std::regex ib_re(R"(^\s+Inode bitmap at (\d+))");
    const std::regex it_re(R"(^\s+Inode table at (\d+)-(\d+))");
    while (std::getline(lines, line)) {
        if (std::regex_search(line, m, group_re)) {
            GroupLayout g;
            g.block_uninit = m[2].str().find("BLOCK_UNINIT") != std::string::npos;
            g.inode_uninit = m[2].str().find("INODE_UNINIT") != std::string::npos;
            l.groups.push_back(g);
        } else if (l.groups.empty()) {
            continue;
        } else if (std::regex_search(line, m, bb_re)) {
            l.groups.back().block_bitmap = to_u64(m[1].str());
        } else if (std::regex_search(line, m, ib_re)) {
            l.groups.back().inode_bitmap = to_u64(m[1].str());
        } else if (std::regex_search(line, m, it_re)) {
            l.groups.back().inode_table = to_u64(m[1].str());
            l.groups.back().inode_table_blocks = to_u64(m[2].str()) - to_u64(m[1].str()) + 1;
        }
    }
    if (l.groups.empty())
        throw std::runtime_error("dumpe2fs printed no groups");
    return l;
}

std::uint32_t inode_of(const fs::path& image, const std::string& path) {
    return to_u32(capture(debugfs(image, "stat " + path), R"(Inode:\s+(\d+))", "inode of " + path));
}

std::uint64_t bmap(const fs::path& image, const std::string& path, std::uint64_t logical) {
    const std::string out = debugfs(image, "bmap " + path + " " + std::to_string(logical));
    return to_u64(capture(out, R"(^\s*(\d+))", "bmap of " + path));
}

std::vector<std::uint64_t> file_blocks(const fs::path& image, const std::string& path) {
    std::istringstream in(debugfs(image, "blocks " + path));
    std::vector<std::uint64_t> out;
    std::uint64_t b = 0;
    while (in >> b)
        out.push_back(b);
    return out;
}

InodeLocation imap(const fs::path& image, std::uint32_t ino) {
    const std::string out = debugfs(image, "imap <" + std::to_string(ino) + ">");
    InodeLocation loc;
    loc.group = to_u32(capture(out, R"(part of block group (\d+))", "imap group"));
    loc.block = to_u64(capture(out, R"(located at block (\d+))", "imap block"));
    loc.offset = to_u32(capture(out, R"(offset (0x[0-9a-fA-F]+))", "imap offset"));
    return loc;
}

std::vector<ExtentTreeBlock> extent_tree_blocks(const fs::path& image, const std::string& path) {
    std::istringstream in(debugfs(image, "ex " + path));
    const std::regex re(R"(^\s*(\d+)/\s*(\d+)\s+\d+/\s*\d+\s+\d+\s+-\s+\d+\s+(\d+))");
    std::vector<ExtentTreeBlock> out;
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (!std::regex_search(line, m, re))
            continue;
        const int level = std::stoi(m[1].str());
        const int depth = std::stoi(m[2].str());
        if (level < depth)
            out.push_back({level + 1, level + 1 == depth, to_u64(m[3].str())});
    }
    return out;
}

std::vector<IndirectBlock> indirect_blocks(const fs::path& image, const std::string& path) {
    const std::string out = debugfs(image, "stat " + path);
    const std::regex re(R"(\((T?D?IND)\):(\d+))");
    std::vector<IndirectBlock> blocks;
    for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator();
         ++it) {
        const std::string kind = (*it)[1].str();
        const int level = kind == "IND" ? 1 : kind == "DIND" ? 2 : 3;
        blocks.push_back({level, to_u64((*it)[2].str())});
    }
    return blocks;
}

int extent_tree_depth(const fs::path& image, const std::string& path) {
    const std::string out = debugfs(image, "ex " + path);
    std::smatch m;
    if (!std::regex_search(out, m, std::regex(R"(\n\s*\d+/\s*(\d+)\s)")))
        return 0;
    return std::stoi(m[1].str());
}

bool is_htree(const fs::path& image, const std::string& dir) {
    const std::string flags =
        capture(debugfs(image, "stat " + dir), R"(Flags:\s+(0x[0-9a-fA-F]+))", "flags of " + dir);
    return (to_u64(flags) & 0x1000u) != 0; // EXT4_INDEX_FL
}

std::optional<std::uint64_t> xattr_block(const fs::path& image, const std::string& path) {
    const std::uint64_t b =
        to_u64(capture(debugfs(image, "stat " + path), R"(File ACL:\s+(\d+))", "File ACL"));
    if (b == 0)
        return std::nullopt;
    return b;
}

bool inode_in_use(const fs::path& image, std::uint32_t ino) {
    const std::string out = debugfs(image, "testi <" + std::to_string(ino) + ">");
    return out.find("is marked in use") != std::string::npos;
}

std::uint64_t journal_superblock_block(const fs::path& image) {
    return bmap(image, "<8>", 0);
}

std::vector<JournalLogBlock> journal_log(const fs::path& image) {
    std::istringstream in(debugfs(image, "logdump"));
    const std::regex re(R"(type \d+ \(([a-z ]+)\) at block (\d+))");
    std::vector<JournalLogBlock> out;
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (!std::regex_search(line, m, re))
            continue;
        JournalLogBlock b;
        b.type = m[1].str();
        b.log_block = to_u64(m[2].str());
        b.block = bmap(image, "<8>", b.log_block);
        out.push_back(b);
    }
    return out;
}

FsckVerdict e2fsck_readonly(const fs::path& image) {
    const CommandResult r = run_command(e2fs_env() + " e2fsck -fn " + quote(image.string()));
    return {r.exit_code, r.out + r.err};
}

std::vector<char> read_block(const fs::path& image, std::uint64_t block, std::uint32_t block_size) {
    FdOwner f(image, O_RDONLY);
    std::vector<char> buf(block_size);
    if (::pread(f.fd, buf.data(), buf.size(), offset_of(block, block_size)) !=
        static_cast<ssize_t>(buf.size()))
        throw std::runtime_error("short read of block " + std::to_string(block));
    return buf;
}

void write_block(const fs::path& image, std::uint64_t block, const std::vector<char>& bytes) {
    FdOwner f(image, O_WRONLY);
    const auto size = static_cast<std::uint32_t>(bytes.size());
    if (::pwrite(f.fd, bytes.data(), bytes.size(), offset_of(block, size)) !=
        static_cast<ssize_t>(bytes.size()))
        throw std::runtime_error("short write of block " + std::to_string(block));
}

void flip_byte(const fs::path& image, std::uint64_t block, std::uint32_t offset,
               std::uint32_t block_size) {
    auto bytes = read_block(image, block, block_size);
    bytes.at(offset) = static_cast<char>(~static_cast<unsigned char>(bytes.at(offset)));
    write_block(image, block, bytes);
}

void copy_block(const fs::path& image, std::uint64_t from, std::uint64_t to,
                std::uint32_t block_size) {
    write_block(image, to, read_block(image, from, block_size));
}

std::map<std::uint64_t, std::vector<std::uint32_t>>
changed_bytes(const fs::path& before, const fs::path& after, std::uint32_t block_size) {
    FdOwner a(before, O_RDONLY);
    FdOwner b(after, O_RDONLY);
    std::map<std::uint64_t, std::vector<std::uint32_t>> out;
    std::vector<char> ba(block_size), bb(block_size);
    for (std::uint64_t block = 0;; ++block) {
        const ssize_t na = ::pread(a.fd, ba.data(), ba.size(), offset_of(block, block_size));
        const ssize_t nb = ::pread(b.fd, bb.data(), bb.size(), offset_of(block, block_size));
        if (na <= 0 || nb <= 0)
            break;
        for (std::uint32_t i = 0; i < block_size; ++i)
            if (ba[i] != bb[i])
                out[block].push_back(i);
    }
    return out;
}

} // namespace guardian::test
