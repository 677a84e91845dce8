#include "guardian/ext4/block_reader.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace guardian::ext4 {
namespace {

// O_DIRECT needs offset, size and address aligned to the logical sector size;
// 4096 satisfies every device guardian meets, and 1 KiB ext4 blocks are read
// as the enclosing aligned span.
constexpr std::size_t k_align = 4096;
// Long runs are split so several readers share one inode table (a 2 MiB
// chunk of inode tables is eight reads in flight).
constexpr std::uint64_t k_max_run_bytes = 256u << 10;
// Unwanted bytes a read from the disk may take in to join two runs.
constexpr std::uint64_t k_max_gap_bytes = 32u << 10;

std::uint64_t align_down(std::uint64_t v) {
    return v & ~std::uint64_t{k_align - 1};
}
std::uint64_t align_up(std::uint64_t v) {
    return align_down(v + k_align - 1);
}

} // namespace

void AlignedBuffer::Free::operator()(std::byte* p) const noexcept {
    std::free(p);
}

AlignedBuffer::AlignedBuffer(std::size_t size, std::size_t capacity)
    : m_size(size), m_capacity(align_up(std::max<std::size_t>({size, capacity, 1}))) {
    void* p = std::aligned_alloc(k_align, m_capacity);
    if (!p)
        throw std::bad_alloc();
    m_data.reset(static_cast<std::byte*>(p));
}

namespace {

// Size class: 4 KiB << class >= size.
std::size_t size_class(std::size_t size) {
    std::size_t c = 0;
    while ((k_align << c) < size)
        ++c;
    return c;
}

// Freed buffers kept for reuse, at most (about a scan's memory budget).
constexpr std::size_t k_max_pool_bytes = 32u << 20;

} // namespace

AlignedBuffer BlockReader::take_buffer(std::size_t size) {
    const std::size_t c = size_class(size);
    {
        std::lock_guard lock(m_pool_mutex);
        if (c < m_pool.size() && !m_pool[c].empty()) {
            AlignedBuffer b = std::move(m_pool[c].back());
            m_pool[c].pop_back();
            m_pool_bytes -= b.capacity();
            b.reuse(size);
            return b;
        }
    }
    return AlignedBuffer(size, k_align << c);
}

void BlockReader::give_back(std::vector<ReadBatch::Run>& runs) {
    std::lock_guard lock(m_pool_mutex);
    for (auto& r : runs) {
        const std::size_t cap = r.buffer.capacity();
        if (cap == 0 || m_pool_bytes + cap > k_max_pool_bytes)
            continue; // freed with the run
        const std::size_t c = size_class(cap);
        if ((k_align << c) != cap)
            continue; // not a pooled size (read_bytes)
        if (m_pool.size() <= c)
            m_pool.resize(c + 1);
        m_pool_bytes += cap;
        m_pool[c].push_back(std::move(r.buffer));
    }
}

ReadBatch::~ReadBatch() {
    if (!m_owner)
        return;
    // A batch dropped before wait() (an early return, an exception): its
    // queued runs are withdrawn and those a reader holds finish first, since
    // they write into its buffers.
    m_owner->withdraw(*this);
    m_owner->give_back(m_runs);
}

void BlockReader::withdraw(ReadBatch& batch) {
    {
        // The usual case, a batch waited for: nothing is left to withdraw.
        std::lock_guard lock(batch.m_mutex);
        if (batch.m_pending == 0)
            return;
    }
    std::size_t withdrawn = 0;
    {
        std::lock_guard lock(m_mutex);
        const auto n = m_jobs.size();
        std::erase_if(m_jobs, [&](const Job& j) { return j.batch == &batch; });
        withdrawn = n - m_jobs.size();
    }
    std::unique_lock lock(batch.m_mutex);
    batch.m_pending -= withdrawn;
    batch.m_done_cv.wait(lock, [&] { return batch.m_pending == 0; });
}

bool ReadBatch::has(std::uint64_t block) const {
    return std::binary_search(m_blocks.begin(), m_blocks.end(), block);
}

std::size_t ReadBatch::runs_from(std::uint64_t block) const {
    const auto it = std::upper_bound(m_runs.begin(), m_runs.end(), block,
                                     [](std::uint64_t b, const Run& r) { return b < r.first; });
    return it == m_runs.begin() ? 0 : static_cast<std::size_t>(it - m_runs.begin()) - 1;
}

std::span<const std::byte> ReadBatch::data(std::uint64_t block) const {
    if (m_runs.empty())
        return {};
    const Run* it = &m_runs[runs_from(block)];
    if (block < it->first || block >= it->first + it->count)
        return {};
    // The run's buffer starts at the aligned byte offset below its first block.
    const std::uint64_t run_start = it->first * m_block_size;
    const std::uint64_t skip = run_start - align_down(run_start);
    const std::uint64_t off = skip + (block - it->first) * m_block_size;
    return it->buffer.span().subspan(off, m_block_size);
}

std::size_t ReadBatch::bytes() const noexcept {
    std::size_t n = 0;
    for (const auto& r : m_runs)
        n += r.buffer.size();
    return n;
}

Result<std::unique_ptr<BlockReader>> BlockReader::open(const std::string& path, bool direct,
                                                       unsigned threads) {
    std::unique_ptr<BlockReader> r(new BlockReader());
    r->m_path = path;
    auto fd = open_fd(path, O_RDONLY | (direct ? O_DIRECT : 0));
    if (!fd.ok() && direct && fd.error().code == EINVAL) // no O_DIRECT here (tmpfs, a driver)
        fd = open_fd(path, O_RDONLY);
    else
        r->m_direct = direct && fd.ok();
    if (!fd.ok())
        return std::move(fd).error();
    r->m_fd = std::move(fd).value();
    struct stat st {};
    if (::fstat(r->m_fd.get(), &st) != 0)
        return Error::from_errno("stat " + path);
    if (S_ISBLK(st.st_mode)) {
        r->m_block_device = true;
        std::uint64_t size = 0;
        if (::ioctl(r->m_fd.get(), BLKGETSIZE64, &size) != 0)
            return Error::from_errno("BLKGETSIZE64 " + path);
        r->m_device_bytes = size;
    } else if (S_ISREG(st.st_mode)) {
        r->m_device_bytes = static_cast<std::uint64_t>(st.st_size);
    } else {
        return Error{path + ": not a block device or regular file", 0};
    }
    threads = std::clamp(threads, 1u, 64u);
    for (unsigned i = 0; i < threads; ++i)
        r->m_threads.emplace_back([p = r.get()] { p->worker(); });
    return r;
}

Result<bool> BlockReader::direct_io_works(const std::string& path) {
    auto fd = open_fd(path, O_RDONLY | O_DIRECT);
    if (!fd.ok())
        return fd.error().code == EINVAL ? Result<bool>(false)
                                         : Result<bool>(std::move(fd).error());
    AlignedBuffer buf(k_align);
    ssize_t n;
    do
        n = ::pread(fd->get(), buf.span().data(), buf.size(), 0);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return true;
    if (errno == EINVAL)
        return false;
    return Error::from_errno("read " + path + " with O_DIRECT");
}

Status BlockReader::fall_back_to_buffered() {
    const int flags = ::fcntl(m_fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(m_fd.get(), F_SETFL, flags & ~O_DIRECT) != 0)
        return Error::from_errno("clear O_DIRECT on " + m_path);
    m_direct = false;
    return ok_status();
}

BlockReader::~BlockReader() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    for (auto& t : m_threads)
        t.join();
}

std::unique_ptr<ReadBatch> BlockReader::submit(std::vector<std::uint64_t> blocks) {
    auto batch = std::make_unique<ReadBatch>();
    batch->m_block_size = m_block_size;
    batch->m_owner = this;
    std::sort(blocks.begin(), blocks.end());
    blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
    const std::uint64_t max_blocks = std::max<std::uint64_t>(1, k_max_run_bytes / m_block_size);
    // Whether this batch's reads go to the disk (O_DIRECT, or buffered
    // reads that were lately slow), decided once for the batch. Such reads
    // also take in a small gap between two wanted blocks: a directory's
    // blocks and its neighbours' lie a few blocks apart, and one read (one
    // sleep in the kernel, one wake-up) costs more than 32 KiB more of
    // transfer. From the page cache the gap would only be copied for
    // nothing. They also wake readers (below).
    const bool disk = m_direct || m_slow_reads.load(std::memory_order_relaxed) > 0;
    const std::uint64_t gap = disk ? k_max_gap_bytes / m_block_size : 0;
    for (std::size_t i = 0; i < blocks.size();) {
        std::size_t j = i + 1;
        while (j < blocks.size() && blocks[j] - blocks[j - 1] <= gap + 1 &&
               blocks[j] - blocks[i] < max_blocks)
            ++j;
        ReadBatch::Run run;
        run.first = blocks[i];
        run.count = blocks[j - 1] - blocks[i] + 1;
        const std::uint64_t start = align_down(run.first * m_block_size);
        const std::uint64_t end = align_up((run.first + run.count) * m_block_size);
        run.buffer = take_buffer(static_cast<std::size_t>(end - start));
        batch->m_runs.push_back(std::move(run));
        i = j;
    }
    batch->m_blocks = std::move(blocks);
    batch->m_pending = batch->m_runs.size();
    batch->m_run_state.assign(batch->m_runs.size(), 0);
    {
        std::lock_guard lock(m_mutex);
        for (std::size_t i = 0; i < batch->m_runs.size(); ++i)
            m_jobs.push_back({batch.get(), i});
        blocks_read += batch->m_blocks.size();
        bytes_read += batch->m_blocks.size() * m_block_size;
    }
    // Readers are there to keep reads in flight while the disk answers.
    // When the reads come from the page cache (buffered, and the last reads
    // were quick) a wake-up only costs a context switch, and on two CPUs
    // woken readers crowd out the thread that verifies: the batch is left
    // to wait(), which reads its runs itself. Else one reader per run.
    if (disk) {
        const std::size_t wake = std::min(batch->m_runs.size(), m_threads.size());
        for (std::size_t i = 0; i < wake; ++i)
            m_cv.notify_one();
    }
    return batch;
}

Status BlockReader::wait(ReadBatch& batch) {
    // The waiting thread reads this batch's queued runs itself rather than
    // sleeping until a reader thread is scheduled: on a busy machine that
    // hand-off, not the reading, was most of a warm scan's wall time.
    for (;;) {
        Job job{};
        {
            std::lock_guard lock(m_mutex);
            const auto it = std::find_if(m_jobs.begin(), m_jobs.end(),
                                         [&](const Job& j) { return j.batch == &batch; });
            if (it == m_jobs.end())
                break;
            job = *it;
            m_jobs.erase(it);
        }
        run_job(job);
    }
    std::unique_lock lock(batch.m_mutex);
    batch.m_done_cv.wait(lock, [&] { return batch.m_pending == 0; });
    if (!batch.m_errors.empty())
        return Error{batch.m_errors.front(), 0};
    return ok_status();
}

bool BlockReader::ensure(ReadBatch& batch, std::uint64_t first, std::uint64_t count) {
    if (count == 0)
        return true;
    // The runs that hold any of the blocks: from the one at or before
    // `first` to the last starting before first + count.
    const std::uint64_t last = first + count - 1;
    const std::size_t from = batch.runs_from(first);
    const std::size_t r = batch.runs_from(last);
    const std::size_t to = r < batch.m_runs.size() && batch.m_runs[r].first <= last ? r + 1 : r;
    for (std::size_t i = from; i < to; ++i) {
        bool mine = false;
        {
            std::lock_guard lock(m_mutex);
            const auto it = std::find_if(m_jobs.begin(), m_jobs.end(), [&](const Job& j) {
                return j.batch == &batch && j.run == i;
            });
            if (it != m_jobs.end()) {
                m_jobs.erase(it);
                mine = true;
            }
        }
        if (mine)
            run_job({&batch, i});
    }
    std::unique_lock lock(batch.m_mutex);
    bool ok = true;
    for (std::size_t i = from; i < to; ++i) {
        batch.m_done_cv.wait(lock, [&] { return batch.m_run_state[i] != 0; });
        ok = ok && batch.m_run_state[i] == 1;
    }
    return ok;
}

bool BlockReader::read_one_queued() {
    Job job{};
    {
        std::lock_guard lock(m_mutex);
        if (m_jobs.empty())
            return false;
        job = m_jobs.front();
        m_jobs.pop_front();
    }
    run_job(job);
    return true;
}

Result<std::unique_ptr<ReadBatch>> BlockReader::read(std::vector<std::uint64_t> blocks) {
    auto batch = submit(std::move(blocks));
    GUARDIAN_TRY(wait(*batch));
    return batch;
}

Result<std::vector<std::byte>> BlockReader::read_bytes(std::uint64_t offset, std::size_t size) {
    const std::uint64_t start = align_down(offset);
    const std::uint64_t end = align_up(offset + size);
    AlignedBuffer buf(static_cast<std::size_t>(end - start));
    GUARDIAN_TRY(read_run(buf.span().data(), start, buf.size()));
    const auto s = buf.span().subspan(static_cast<std::size_t>(offset - start), size);
    return std::vector<std::byte>(s.begin(), s.end());
}

Status BlockReader::read_run(std::byte* dst, std::uint64_t offset, std::size_t size) {
    if (offset >= m_device_bytes)
        return Error{"read " + m_path + " at byte " + std::to_string(offset) +
                         ": beyond the end (" + std::to_string(m_device_bytes) + " bytes)",
                     0};
    // The aligned span may reach past the end of an image whose size is not a
    // multiple of 4 KiB: read what exists and zero the rest.
    const std::size_t avail =
        static_cast<std::size_t>(std::min<std::uint64_t>(size, m_device_bytes - offset));
    if (m_block_device && !m_direct)
        // Buffered: drop the clean cached pages of this range first, so the
        // read goes to the disk. Dirty pages stay (and are read from memory);
        // DONTNEED only starts their writeback, which the flusher would do
        // anyway. Not BLKFLSBUF: it syncs the whole filesystem on the device.
        (void)::posix_fadvise(m_fd.get(), static_cast<off_t>(offset), static_cast<off_t>(size),
                              POSIX_FADV_DONTNEED);
    std::size_t done = 0;
    while (done < avail) {
        const ssize_t n =
            ::pread(m_fd.get(), dst + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EINVAL && m_direct) {
                GUARDIAN_TRY(fall_back_to_buffered());
                if (m_block_device)
                    (void)::posix_fadvise(m_fd.get(), static_cast<off_t>(offset),
                                          static_cast<off_t>(size), POSIX_FADV_DONTNEED);
                continue;
            }
            return Error::from_errno("read " + m_path + " at byte " +
                                     std::to_string(offset + done));
        }
        if (n == 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    if (done < avail)
        return Error{"read " + m_path + ": unexpected end of file at byte " +
                         std::to_string(offset + done),
                     0};
    if (done < size)
        std::memset(dst + done, 0, size - done);
    return ok_status();
}

void BlockReader::worker() {
    for (;;) {
        Job job{};
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [&] { return m_stop || !m_jobs.empty(); });
            if (m_jobs.empty())
                return;
            job = m_jobs.front();
            m_jobs.pop_front();
        }
        run_job(job);
    }
}

void BlockReader::note_read_time(std::size_t bytes, std::chrono::nanoseconds took) {
    // A copy from the page cache moves a GB/s and more; a disk read costs
    // tens of microseconds before its first byte. Slower than that: the
    // reads go to the disk, and the next batches wake readers again until
    // k_slow_reads_kept reads in a row were quick.
    constexpr std::int64_t k_disk_latency_ns = 40'000;
    const bool slow = took.count() > k_disk_latency_ns + static_cast<std::int64_t>(bytes);
    if (slow)
        m_slow_reads.store(k_slow_reads_kept, std::memory_order_relaxed);
    else if (m_slow_reads.load(std::memory_order_relaxed) > 0)
        m_slow_reads.fetch_sub(1, std::memory_order_relaxed);
}

void BlockReader::run_job(const Job& job) {
    auto& run = job.batch->m_runs[job.run];
    const std::uint64_t start = align_down(run.first * m_block_size);
    Status st = ok_status();
    const auto t0 = std::chrono::steady_clock::now();
    try {
        st = read_run(run.buffer.span().data(), start, run.buffer.size());
    } catch (const std::exception& e) { // no exception may leave a thread
        st = Error{std::string("read: ") + e.what(), 0};
    }
    if (!m_direct)
        note_read_time(run.buffer.size(), std::chrono::steady_clock::now() - t0);
    std::lock_guard lock(job.batch->m_mutex);
    if (!st.ok())
        job.batch->m_errors.push_back(st.error().message);
    job.batch->m_run_state[job.run] = st.ok() ? 1 : 2;
    // ensure() waits for single runs; wait() for the last.
    --job.batch->m_pending;
    job.batch->m_done_cv.notify_all();
}

} // namespace guardian::ext4
