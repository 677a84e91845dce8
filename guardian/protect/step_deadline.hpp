// Runs one emergency step that does I/O to a suspect device with a deadline.
//
// A disk that stopped answering leaves the thread doing the I/O in D state.
// Both were seen on the real-Xen rig: the stale-features xen-blkfront
// disables the disk (XSA-396 checks) when blkback reuses a grant, and the
// stock 6.1 frontend hit BUG() in blkif_queue_rq while reconnecting to a
// backend without indirect segments, after which no request completed. In
// both EXT4_IOC_SHUTDOWN takes effect at once (the flag comes first) and then
// waits forever writing the journal superblock's errno. Such a thread
// cannot be cancelled, signalled or joined. So each step runs on a thread of its own
// that owns everything it touches (the step's data is moved into shared
// state), and the emergency thread only waits for it until the deadline; on
// timeout it abandons the thread, never joins it, and goes on to the reboot.
// Should the device answer after all, the abandoned thread finishes and frees
// its data on its own.
#pragma once

#include "guardian/util/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace guardian::protect {

// How long a step that does I/O to a suspect device may take. A healthy
// device answers one O_DSYNC block write or an EXT4_IOC_SHUTDOWN in
// milliseconds; a Xen backend that is merely slow answers within a few
// seconds. Longer means the device is not coming back, and every second more
// is a second the guest stays up unprotected before the reboot.
inline constexpr std::chrono::milliseconds default_step_deadline{10'000};

// "timed out after 10 s (device not answering)"
[[nodiscard]] std::string timed_out_text(std::chrono::milliseconds deadline);

// Steps started by run_with_deadline whose thread has not finished yet
// (abandoned ones included): tests wait for 0 after resuming a blocked
// device, before they unmount it.
[[nodiscard]] int step_threads_running() noexcept;

// Runs `work` on a detached thread that holds `keep` (the data `work`
// touches) until it finishes, and waits for it until `deadline`. Returns
// true if it finished in time, false if it overran (the thread is left to
// itself), an error if no thread could be started.
[[nodiscard]] Result<bool> run_with_deadline(std::shared_ptr<void> keep, std::function<void()> work,
                                             std::chrono::milliseconds deadline);

} // namespace guardian::protect
