// Live mode on a mounted filesystem under write load (and stable mode on the
// same filesystem frozen between bursts of it, below): a loop device, a writer
// thread creating, appending, renaming, deleting, setting xattrs and filling
// directories, while `guardianctl check --mode live` runs against the device
// over and over. Every check must be clean: live mode trusts only
// self-contained checksums and structural rules, so in-flight journaled
// updates must never look like damage. Repeated for the three kinds of
// filesystem guardian verifies: ext4 with metadata_csum, ext4 as Debian 8
// made it (uninit_bg, no metadata_csum: structural rules only) and ext3
// (indirect block maps; mounted by the ext4 driver, as a modern guest does).
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <random>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// RAII owners: the loop device and the mount go away on every path out.
class LoopDevice {
public:
    explicit LoopDevice(const fs::path& file) {
        const CommandResult r = run_command("losetup -f --show '" + file.string() + "'");
        if (r.exit_code != 0)
            throw std::runtime_error("losetup: " + r.err);
        m_dev = r.out.substr(0, r.out.find('\n'));
    }
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
    ~LoopDevice() { (void)run_command("losetup -d '" + m_dev + "'"); }
    [[nodiscard]] const std::string& path() const { return m_dev; }

private:
    std::string m_dev;
};

class Mount {
public:
    Mount(const std::string& dev, const fs::path& dir) : m_dir(dir) {
        const CommandResult r = run_command("mount -t ext4 '" + dev + "' '" + dir.string() + "'");
        if (r.exit_code != 0)
            throw std::runtime_error("mount: " + r.err);
    }
    Mount(const Mount&) = delete;
    Mount& operator=(const Mount&) = delete;
    ~Mount() {
        if (run_command("umount '" + m_dir.string() + "'").exit_code != 0)
            (void)run_command("umount -l '" + m_dir.string() + "'");
    }

private:
    fs::path m_dir;
};

// A fresh 384 MiB filesystem made by `mkfs` (the image path and size are
// appended) on a loop device, mounted; all of it goes away on every path out.
class ScratchFs {
public:
    explicit ScratchFs(const std::string& mkfs) {
        fs::create_directories(m_mnt);
        const CommandResult mk = run_command(mkfs + " '" + m_image.string() + "' 384M");
        if (mk.exit_code != 0)
            throw std::runtime_error(mkfs + ": " + mk.err);
        m_loop.emplace(m_image);
        m_mount.emplace(m_loop->path(), m_mnt);
    }
    [[nodiscard]] const fs::path& mnt() const { return m_mnt; }
    [[nodiscard]] const std::string& device() const { return m_loop->path(); }

private:
    TempDir m_tmp;
    fs::path m_image = m_tmp.path() / "fs.img";
    fs::path m_mnt = m_tmp.path() / "mnt";
    std::optional<LoopDevice> m_loop;
    std::optional<Mount> m_mount;
};

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

// The write load. Plain POSIX calls so the kernel sees ordinary application I/O.
class Writer {
public:
    explicit Writer(fs::path root) : m_root(std::move(root)) {}

    void run(const std::atomic<bool>& stop) {
        try {
            while (!stop.load())
                step();
        } catch (const std::exception& e) {
            m_error = e.what();
        }
    }

    [[nodiscard]] std::uint64_t operations() const { return m_ops; }
    [[nodiscard]] const std::string& error() const { return m_error; }

private:
    fs::path file(unsigned n) const { return m_root / ("f" + std::to_string(n % 400)); }

    void write_to(const fs::path& p, int flags, std::size_t bytes, bool sync) {
        const int fd = ::open(p.c_str(), flags | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0)
            return; // a concurrent rename or unlink of our own: fine
        const std::string buf(bytes, static_cast<char>('a' + m_ops % 26));
        const ssize_t n = ::write(fd, buf.data(), buf.size());
        (void)n;
        if (sync)
            (void)::fsync(fd);
        ::close(fd);
    }

    void step() {
        const unsigned n = static_cast<unsigned>(m_rng());
        switch (m_rng() % 8) {
        case 0:
        case 1:
            write_to(file(n), O_CREAT | O_TRUNC, 1 + n % 40000, n % 16 == 0);
            break;
        case 2:
            write_to(file(n), O_APPEND, 1 + n % 9000, n % 8 == 0);
            break;
        case 3:
            (void)::unlink(file(n).c_str());
            break;
        case 4:
            (void)::rename(file(n).c_str(), file(n / 7 + 1).c_str());
            break;
        case 5: {
            // Large values spill into an xattr block, small ones stay in-inode.
            const std::string value(n % 2 ? 1500 + n % 1000 : 20, 'v');
            (void)::setxattr(file(n).c_str(), ("user.k" + std::to_string(n % 5)).c_str(),
                             value.data(), value.size(), 0);
            break;
        }
        case 6: {
            // Directories with many entries (they grow into htrees).
            const fs::path dir = m_root / ("d" + std::to_string(n % 6));
            ::mkdir(dir.c_str(), 0755);
            for (int i = 0; i < 50; ++i)
                write_to(dir / ("entry-with-a-longer-name-" +
                                std::to_string((n + static_cast<unsigned>(i)) % 3000)),
                         O_CREAT, 0, false);
            break;
        }
        default: {
            const fs::path dir = m_root / ("d" + std::to_string(n % 6));
            for (int i = 0; i < 20; ++i)
                (void)::unlink((dir / ("entry-with-a-longer-name-" +
                                       std::to_string((n + static_cast<unsigned>(i) * 13) % 3000)))
                                   .c_str());
            break;
        }
        }
        ++m_ops;
    }

    fs::path m_root;
    std::mt19937 m_rng{12345};
    std::uint64_t m_ops = 0;
    std::string m_error;
};

// The writer on a thread of its own, stopped and joined on every path out
// (before the mount and the loop device go).
class WriteLoad {
public:
    explicit WriteLoad(fs::path root) : m_writer(std::move(root)) {
        m_thread = std::thread([this] { m_writer.run(m_stop); });
    }
    WriteLoad(const WriteLoad&) = delete;
    WriteLoad& operator=(const WriteLoad&) = delete;
    ~WriteLoad() { stop(); }
    void stop() {
        m_stop = true;
        if (m_thread.joinable())
            m_thread.join();
    }
    [[nodiscard]] const Writer& writer() const { return m_writer; }

private:
    std::atomic<bool> m_stop{false};
    Writer m_writer;
    std::thread m_thread;
};

struct LiveFs {
    const char* name;
    const char* mkfs; // the image path and size follow
};

void PrintTo(const LiveFs& f, std::ostream* os) {
    *os << f.name;
}

class LiveMode : public testing::TestWithParam<LiveFs> {};

// Each kind runs for GUARDIAN_LIVE_SECONDS (default 60: longer than two
// 30-second writeback expiries, so written-back and checkpointed metadata is
// checked, not only the page cache's) and at least GUARDIAN_LIVE_CHECKS checks.
TEST_P(LiveMode, NoFindingsUnderWriteLoad) {
    GUARDIAN_SKIP_WITHOUT_LOOP();
    const fs::path ctl = binary_dir() / "guardian" / "guardianctl";
    ASSERT_TRUE(fs::exists(ctl)) << ctl;
    const int min_seconds = env_int("GUARDIAN_LIVE_SECONDS", 60);
    const int min_checks = env_int("GUARDIAN_LIVE_CHECKS", 200);

    const ScratchFs scratch(GetParam().mkfs);
    const fs::path& mnt = scratch.mnt();

    WriteLoad load(mnt);
    const Writer& writer = load.writer();

    const auto start = Clock::now();
    const auto elapsed = [&] {
        return std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
    };
    int checks = 0;
    int failures = 0;
    double slowest = 0;
    while ((elapsed() < min_seconds || checks < min_checks) && elapsed() < 4 * min_seconds + 60) {
        const auto t0 = Clock::now();
        const CommandResult r = run_command("timeout 60 '" + ctl.string() + "' check --device '" +
                                            scratch.device() + "' --mode live --json");
        slowest = std::max(slowest, std::chrono::duration<double>(Clock::now() - t0).count());
        ++checks;
        const auto j = nlohmann::json::parse(r.out, nullptr, false);
        const bool clean = r.exit_code == 0 && !j.is_discarded() && j.contains("findings") &&
                           j["findings"].is_array() && j["findings"].empty();
        if (!clean && ++failures <= 5)
            ADD_FAILURE() << "check " << checks << " at " << elapsed() << " s: exit " << r.exit_code
                          << "\nstdout:\n"
                          << r.out << "\nstderr:\n"
                          << r.err;
    }
    load.stop();
    std::cout << "[ live ] " << GetParam().name << ": " << checks << " checks in " << elapsed()
              << " s, slowest " << slowest << " s, " << writer.operations() << " write operations, "
              << failures << " failed checks\n";
    EXPECT_TRUE(writer.error().empty()) << writer.error();
    EXPECT_GE(checks, min_checks);
    EXPECT_GT(writer.operations(), 1000u) << "the load was not steady";
    EXPECT_EQ(failures, 0);
}

const auto k_kinds = testing::Values(
    LiveFs{"ext4_metadata_csum", "mkfs.ext4 -F -q -b 4096 -O metadata_csum"},
    LiveFs{"ext4_uninit_bg", "mkfs.ext4 -F -q -b 4096 -O ^metadata_csum,^64bit,uninit_bg"},
    LiveFs{"ext3", "mkfs.ext3 -F -q -b 4096"});
const auto k_kind_name = [](const testing::TestParamInfo<LiveFs>& p) {
    return std::string(p.param.name);
};

INSTANTIATE_TEST_SUITE_P(Kinds, LiveMode, k_kinds, k_kind_name);

// Stable mode is what the daemon runs on a frozen filesystem (a coordinated
// suspend): every rule, the whole-walk ones too (link counts, deletion times,
// file sizes: link_ledger.hpp). A frozen filesystem is consistent on disk
// but not tidy: files unlinked while open are orphans with link count 0, a
// directory removed while open likewise, and hard links share an inode. The
// writer runs between freezes; each freeze is checked in stable mode and
// must show nothing.
class FrozenMode : public testing::TestWithParam<LiveFs> {};

// Thaws on every path out: a test must never leave a filesystem frozen.
class Frozen {
public:
    explicit Frozen(const fs::path& mnt) : m_mnt(mnt) {
        const CommandResult r = run_command("fsfreeze -f '" + mnt.string() + "'");
        if (r.exit_code != 0)
            throw std::runtime_error("fsfreeze -f: " + r.err);
    }
    Frozen(const Frozen&) = delete;
    Frozen& operator=(const Frozen&) = delete;
    ~Frozen() { (void)run_command("fsfreeze -u '" + m_mnt.string() + "'"); }

private:
    fs::path m_mnt;
};

TEST_P(FrozenMode, StableChecksOfAFrozenFilesystemWithOrphansFindNothing) {
    GUARDIAN_SKIP_WITHOUT_LOOP();
    const fs::path ctl = binary_dir() / "guardian" / "guardianctl";
    ASSERT_TRUE(fs::exists(ctl)) << ctl;
    const int freezes = env_int("GUARDIAN_FROZEN_CHECKS", 12);

    const ScratchFs scratch(GetParam().mkfs);
    const fs::path& mnt = scratch.mnt();

    // Orphans held open across the freezes: unlinked files with data, an
    // unlinked file truncated after the unlink, a removed directory.
    std::vector<int> held;
    struct Closer {
        std::vector<int>& fds;
        ~Closer() {
            for (const int fd : fds)
                ::close(fd);
        }
    } closer{held};
    for (int i = 0; i < 8; ++i) {
        const fs::path p = mnt / ("orphan" + std::to_string(i));
        const int fd = ::open(p.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        ASSERT_GE(fd, 0) << p;
        const std::string data(std::size_t{20000} * static_cast<unsigned>(i + 1), 'o');
        ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
        ASSERT_EQ(::unlink(p.c_str()), 0);
        if (i % 2 == 1) {
            ASSERT_EQ(::ftruncate(fd, 4096), 0);
        }
        held.push_back(fd);
    }
    ASSERT_EQ(::mkdir((mnt / "gone").c_str(), 0755), 0);
    const int dfd = ::open((mnt / "gone").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dfd, 0);
    held.push_back(dfd);
    ASSERT_EQ(::rmdir((mnt / "gone").c_str()), 0);
    // Hard links: one inode, three names in two directories.
    ASSERT_EQ(::mkdir((mnt / "links").c_str(), 0755), 0);
    {
        const int fd = ::open((mnt / "shared").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        ASSERT_GE(fd, 0);
        ::close(fd);
    }
    ASSERT_EQ(::link((mnt / "shared").c_str(), (mnt / "links" / "a").c_str()), 0);
    ASSERT_EQ(::link((mnt / "shared").c_str(), (mnt / "links" / "b").c_str()), 0);

    WriteLoad load(mnt);
    const Writer& writer = load.writer();

    int failures = 0;
    for (int k = 0; k < freezes; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(700 + 300 * (k % 4)));
        CommandResult r;
        {
            Frozen frozen(mnt);
            r = run_command("timeout 120 '" + ctl.string() + "' check --device '" +
                            scratch.device() + "' --mode stable --json");
        }
        const auto j = nlohmann::json::parse(r.out, nullptr, false);
        const bool clean = r.exit_code == 0 && !j.is_discarded() && j.contains("findings") &&
                           j["findings"].is_array() && j["findings"].empty();
        if (!clean && ++failures <= 3)
            ADD_FAILURE() << "frozen check " << k << ": exit " << r.exit_code << "\nstdout:\n"
                          << r.out << "\nstderr:\n"
                          << r.err;
        // The whole-walk rules ran: nothing in not_verified says otherwise.
        if (clean) {
            for (const auto& n : j.value("not_verified", nlohmann::json::array())) {
                EXPECT_EQ(n.get<std::string>().find("link counts"), std::string::npos) << n;
            }
        }
    }
    load.stop();
    std::cout << "[ frozen ] " << GetParam().name << ": " << freezes << " stable checks, "
              << writer.operations() << " write operations, " << failures << " failed\n";
    EXPECT_TRUE(writer.error().empty()) << writer.error();
    EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Kinds, FrozenMode, k_kinds, k_kind_name);

} // namespace
} // namespace guardian::test
