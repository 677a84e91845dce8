// The parts of a kernel report line that a stable signature is made of: call
// trace frames, the faulting function (RIP / IP / pc), the "CPU: .. PID: ..
// Comm: .. Tainted: .." line, "Modules linked in:", and the signature itself.
// A signature names a bug, not an occurrence: addresses, "+0x../0x.."
// offsets, "?" (unreliable) frames, compiler clone suffixes (".isra.0",
// ".constprop.0", ".cold"), CPU and PID numbers and the comm are left out, so
// the same bug on a hundred guests and two kernel builds has one signature.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// Without leading and trailing blanks (spaces, tabs, a CR).
[[nodiscard]] std::string_view trim_blanks(std::string_view s);

// 64-bit FNV-1a: the signature's hash and the boot-history line checksum.
// Not cryptographic: it tells text apart, it does not resist a forger.
[[nodiscard]] std::uint64_t fnv1a64(std::string_view text) noexcept;
[[nodiscard]] std::string hex64(std::uint64_t v);

struct TraceFrame {
    std::string function; // "filemap_get_read_batch" (clone suffixes removed)
    std::string module;   // "xen_netfront" for "[xen_netfront]", else empty
    bool reliable = true; // false for "? foo+0x1/0x2"
};

// One call-trace line in any of the kernel's formats:
//   " xas_descend+0x2b/0xd0"                 (4.10 and later)
//   " ? sched_clock+0x9/0x10"                (unreliable)
//   " [<ffffffff814927c2>] _raw_spin_lock+0x22/0x30" (up to 4.9)
//   " [<ffffffff81079439>] ? foo+0x17/0x1e [mod]"
//   " schedule from schedule_timeout+0x88/0xf0" (arm, the callee "from" the caller)
//   " xennet_poll+0x676/0xb30 [xen_netfront]"
// nullopt for anything else (registers, "Call Trace:", "<TASK>", code bytes).
[[nodiscard]] std::optional<TraceFrame> parse_trace_frame(std::string_view line);

// The function in "xas_descend+0x2b/0xd0", "i40e_poll.cold+0x1/0x2 [i40e]"
// -> "xas_descend", "i40e_poll"; empty when `symbol` has no "+0x".
[[nodiscard]] std::string symbol_function(std::string_view symbol);

// The faulting function from a register line, kernel addresses only:
//   "RIP: 0010:xas_descend+0x2b/0xd0", "RIP: e030:skb_copy_ubufs+0x19c/0x5f0"
//   "RIP: 0010:[<ffffffff81079439>]  [<ffffffff81079439>] do_raw_spin_lock+0x17/0x1e"
//   "IP: [<ffffffff812a588f>] notify_remote_via_irq+0x13/0x34", "IP: xennet_poll+0xae/0xd20"
//   "RIP: xennet_poll+0xae/0xd20 RSP: ffffb4f041933900", "pc : __arch_copy_to_user+0x1a0/0x240"
//   "EIP: [<c1234567>] foo+0x1/0x2 SS:ESP ..."
// nullopt for user-space RIPs ("RIP: 0033:0x7f585a91b215") and other lines.
[[nodiscard]] std::optional<std::string> parse_fault_ip(std::string_view line);

// "CPU: 4 PID: 1234 Comm: mysqld Tainted: G        W  O      6.1.0-13-amd64 #1 Debian 6.1.55-1"
// (3.x-6.x), "CPU: 1 UID: 0 PID: 52 Comm: x Not tainted 6.12.0 #1" (6.12+),
// "Pid: 28672, comm: mount.zfs Tainted: G O 3.7.1 #3 ..." (up to 3.9).
struct TaskLine {
    int cpu = -1;
    long pid = -1;
    std::string comm;
    std::string taint;   // "G W O" flags, single-spaced; "" when "Not tainted"
    std::string release; // "6.1.0-13-amd64"
    std::string version; // "#1 Debian 6.1.55-1" (the rest, up to 96 characters)
};
[[nodiscard]] std::optional<TaskLine> parse_task_line(std::string_view line);

// "Modules linked in: xfs(E) xen_netfront ..." -> module names (flags such
// as "(O)" removed, bounded to 128); nullopt when it is not that line.
[[nodiscard]] std::optional<std::vector<std::string>> parse_modules_line(std::string_view line);

// Functions that are the reporting machinery, not the bug: the stall and
// lockup detectors' own frames, the exception entry and WARN/BUG plumbing,
// dump_stack and panic. A signature skips them.
[[nodiscard]] bool is_reporting_frame(std::string_view function) noexcept;

// A source path as the kernel tree names it: a build directory before the
// tree ("/build/linux-SAvLSw/linux-3.16.7-ckt7/drivers/gpu/x.c") and the
// ":line" are dropped, so two builds of one source agree.
[[nodiscard]] std::string source_file(std::string_view location);

// Replaces digit runs and hex numbers by "N" so "stuck for 26s" and
// "stuck for 23s" agree; bounded to 160 characters.
[[nodiscard]] std::string normalise_text(std::string_view text);

struct SignatureParts {
    std::string kind;                // to_string(TroubleKind)
    std::string function;            // faulting function, may be empty
    std::vector<std::string> frames; // top frames, reporting machinery skipped
    std::string location;            // "drivers/block/xen-blkfront.c" (no line), may be empty
    std::string detail;              // normalised text for reports without a trace
};

// "kind|function|frame>frame>...|location|detail" and its 16-digit hash.
[[nodiscard]] std::string signature_text(const SignatureParts& parts);
[[nodiscard]] std::string signature_id(const SignatureParts& parts);

} // namespace guardian
