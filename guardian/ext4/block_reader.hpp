// Parallel, coalescing block reads. libext2fs reads one block at a time;
// guardian instead plans the metadata blocks it needs, merges adjacent ones
// into runs (inode tables are contiguous, so those become large sequential
// reads) and keeps up to queue_depth preads in flight on a small pool of
// reader threads. Devices (and image files that accept it) are opened with
// O_DIRECT into aligned buffers, so what is verified is what is on the disk.
// Where O_DIRECT is refused (EINVAL at open or at the first read: tmpfs, some
// block drivers), reads are buffered; on a block device each read first drops
// the device's clean cached pages of that range (POSIX_FADV_DONTNEED), so it
// still comes from the disk unless the kernel holds a dirty copy. Callers
// report which (direct()): buffered verification is the weaker one.
#pragma once

#include "guardian/util/fd.hpp"
#include "guardian/util/result.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace guardian::ext4 {

// Heap buffer aligned for O_DIRECT (4096 covers every logical sector size).
class AlignedBuffer {
public:
    AlignedBuffer() = default;
    explicit AlignedBuffer(std::size_t size, std::size_t capacity = 0);
    [[nodiscard]] std::span<std::byte> span() noexcept { return {m_data.get(), m_size}; }
    [[nodiscard]] std::span<const std::byte> span() const noexcept {
        return {m_data.get(), m_size};
    }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] std::size_t capacity() const noexcept { return m_capacity; }
    // Reuse for `size` bytes (at most capacity()).
    void reuse(std::size_t size) noexcept { m_size = size; }

private:
    struct Free {
        void operator()(std::byte* p) const noexcept;
    };
    std::unique_ptr<std::byte, Free> m_data;
    std::size_t m_size = 0;
    std::size_t m_capacity = 0;
};

class BlockReader;

// A set of blocks read together; each block's bytes are found through data().
class ReadBatch {
public:
    ReadBatch() = default;
    ~ReadBatch(); // hands its buffers back to the reader's pool
    ReadBatch(const ReadBatch&) = delete;
    ReadBatch& operator=(const ReadBatch&) = delete;
    [[nodiscard]] std::span<const std::byte> data(std::uint64_t block) const;
    [[nodiscard]] const std::vector<std::uint64_t>& blocks() const noexcept { return m_blocks; }
    [[nodiscard]] bool has(std::uint64_t block) const;
    [[nodiscard]] std::size_t bytes() const noexcept;

private:
    friend class BlockReader;
    struct Run {
        std::uint64_t first = 0;
        std::uint64_t count = 0;
        AlignedBuffer buffer;
    };
    std::vector<std::uint64_t> m_blocks; // sorted, unique
    std::vector<Run> m_runs;             // sorted by first
    // The index of the last run starting at or before `block` (0 if none):
    // the run that holds it, if any does (data(), ensure()).
    [[nodiscard]] std::size_t runs_from(std::uint64_t block) const;
    std::size_t m_block_size = 0;
    BlockReader* m_owner = nullptr;
    // Completion: set by the pool.
    std::mutex m_mutex;
    std::condition_variable m_done_cv;
    std::size_t m_pending = 0;
    std::vector<std::string> m_errors;
    // Per run: 0 pending, 1 read, 2 failed (under m_mutex; ensure()).
    std::vector<std::uint8_t> m_run_state;
};

class BlockReader {
public:
    // Opens `path` read-only, O_DIRECT when `direct` and the file accepts it.
    [[nodiscard]] static Result<std::unique_ptr<BlockReader>> open(const std::string& path,
                                                                   bool direct, unsigned threads);
    // Whether `path` takes O_DIRECT reads: opens it and reads its first 4 KiB
    // that way. False when either is refused with EINVAL; other failures are
    // errors. What guardiand reports as io=direct / io=buffered.
    [[nodiscard]] static Result<bool> direct_io_works(const std::string& path);
    ~BlockReader();
    BlockReader(const BlockReader&) = delete;
    BlockReader& operator=(const BlockReader&) = delete;

    void set_block_size(std::size_t block_size) noexcept { m_block_size = block_size; }
    [[nodiscard]] std::size_t block_size() const noexcept { return m_block_size; }
    [[nodiscard]] std::uint64_t device_bytes() const noexcept { return m_device_bytes; }
    [[nodiscard]] bool direct() const noexcept { return m_direct.load(); }
    [[nodiscard]] const std::string& path() const noexcept { return m_path; }

    // Starts reading `blocks` (any order, duplicates allowed); returns at once.
    [[nodiscard]] std::unique_ptr<ReadBatch> submit(std::vector<std::uint64_t> blocks);
    // Waits for the batch; an error names the first failed read.
    [[nodiscard]] Status wait(ReadBatch& batch);
    // Makes blocks [first, first + count) of `batch` readable: reads their
    // queued runs on the calling thread, then waits for any a reader or
    // another caller holds. False when one of those reads failed (wait()
    // names the error). Lets the threads that verify a batch each read
    // their own part right before using it: from the page cache, the copy
    // is then shared by both CPUs and the bytes are still in their caches.
    [[nodiscard]] bool ensure(ReadBatch& batch, std::uint64_t first, std::uint64_t count);
    // Reads the oldest queued run of any batch on the calling thread; false
    // when none is queued. A thread with nothing else to do lends a hand, so
    // the copies from the page cache leave the thread that waits.
    bool read_one_queued();
    // Convenience: submit + wait.
    [[nodiscard]] Result<std::unique_ptr<ReadBatch>> read(std::vector<std::uint64_t> blocks);
    // Reads `size` bytes at byte `offset` (aligned internally), synchronously.
    [[nodiscard]] Result<std::vector<std::byte>> read_bytes(std::uint64_t offset, std::size_t size);

    std::uint64_t blocks_read = 0;
    std::uint64_t bytes_read = 0;

private:
    friend class ReadBatch;
    BlockReader() = default;
    void worker();
    // Buffers are recycled: a fresh buffer costs a page fault and zeroing per
    // 4 KiB page, which was a third of a warm scan's CPU time.
    AlignedBuffer take_buffer(std::size_t size);
    void give_back(std::vector<ReadBatch::Run>& runs);
    void withdraw(ReadBatch& batch); // ~ReadBatch: no read may outlive its buffers
    Status read_run(std::byte* dst, std::uint64_t offset, std::size_t size);
    // O_DIRECT refused at read time: clear it on the fd and go on buffered.
    [[nodiscard]] Status fall_back_to_buffered();

    struct Job {
        ReadBatch* batch;
        std::size_t run;
    };
    void run_job(const Job& job); // reads one run and reports it to its batch
    // Buffered reads: whether they come from the page cache (submit()).
    void note_read_time(std::size_t bytes, std::chrono::nanoseconds took);
    static constexpr int k_slow_reads_kept = 64;
    std::string m_path;
    Fd m_fd;
    std::atomic<bool> m_direct{false}; // cleared by the first read O_DIRECT refuses
    // Buffered only: reads left before the readers stop being woken; a slow
    // read (from the disk) sets it. Starts "slow": a first scan is cold.
    std::atomic<int> m_slow_reads{k_slow_reads_kept};
    bool m_block_device = false;
    std::uint64_t m_device_bytes = 0;
    std::size_t m_block_size = 4096;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Job> m_jobs;
    bool m_stop = false;
    std::vector<std::thread> m_threads;
    std::mutex m_pool_mutex;
    std::vector<std::vector<AlignedBuffer>> m_pool; // by size class (power of two from 4 KiB)
    std::size_t m_pool_bytes = 0;
};

} // namespace guardian::ext4
