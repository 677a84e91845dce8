#include "guardian/protect/step_deadline.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <system_error>
#include <thread>

namespace guardian::protect {
namespace {

std::atomic<int> g_running{0};

// What the waiting thread and the step's thread share; outlives whichever
// of them is done last.
struct Completion {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
};

} // namespace

std::string timed_out_text(std::chrono::milliseconds deadline) {
    char n[32];
    const auto ms = deadline.count();
    if (ms % 1000 == 0)
        std::snprintf(n, sizeof n, "%lld", static_cast<long long>(ms / 1000));
    else
        std::snprintf(n, sizeof n, "%.1f", static_cast<double>(ms) / 1000.0);
    return std::string("timed out after ") + n + " s (device not answering)";
}

int step_threads_running() noexcept {
    return g_running.load();
}

Result<bool> run_with_deadline(std::shared_ptr<void> keep, std::function<void()> work,
                               std::chrono::milliseconds deadline) {
    auto completion = std::make_shared<Completion>();
    g_running.fetch_add(1);
    try {
        std::thread([completion, keep = std::move(keep), work = std::move(work)]() mutable {
            work();
            {
                std::lock_guard lock(completion->mutex);
                completion->done = true;
            }
            completion->cv.notify_all();
            // The step's data (a held device fd among it) goes before the
            // count does, so "0 running" means the device is free.
            keep.reset();
            work = nullptr;
            g_running.fetch_sub(1);
        }).detach();
    } catch (const std::system_error& e) {
        g_running.fetch_sub(1);
        return Error{std::string("cannot start a thread for the step: ") + e.what(),
                     e.code().value()};
    }
    std::unique_lock lock(completion->mutex);
    return completion->cv.wait_for(lock, deadline, [&] { return completion->done; });
}

} // namespace guardian::protect
