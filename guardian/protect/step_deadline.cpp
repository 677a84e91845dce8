#include "guardian/protect/step_deadline.hpp"

#include <atomic>
#include <cstdio>

namespace guardian::protect {
namespace {

std::atomic<int> g_running{0};

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
                               std::chrono::milliseconds /*deadline*/) {
    // Inline for now: on the real-Xen rig the threaded version (a detached
    // thread per step, waited for until the deadline) reported the root
    // shutdown as timed out after exactly the deadline although the ioctl had
    // taken effect at once (writers got EIO immediately), and so skipped the
    // fsck mark. Until that is understood, steps run on the emergency thread
    // as before: a dead disk can still hang the sequence, but a healthy one
    // is always marked for fsck.
    g_running.fetch_add(1);
    work();
    keep.reset();
    g_running.fetch_sub(1);
    return true;
}

} // namespace guardian::protect
