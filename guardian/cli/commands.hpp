// guardianctl's subcommands. Each returns the process exit status; the
// meaning of each status is part of the CLI contract (README).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace guardian::cli {

inline constexpr int k_exit_ok = 0;           // intact / identical
inline constexpr int k_exit_damage = 1;       // damage found / different
inline constexpr int k_exit_cannot_check = 2; // not ext4, unreadable, bad usage

struct Target {
    std::string device;
    std::string image;
    bool all_mounted = false;
};

struct CheckArgs {
    Target target;
    std::string mode = "auto"; // live | stable | auto
    bool json = false;
    bool buffered = false; // no O_DIRECT (debugging; reads the page cache)
    std::string root;      // system root for /proc (tests)
};

struct SnapshotArgs {
    Target target;
    std::string mode = "auto";
    std::string output;
    bool buffered = false;
};

struct CompareArgs {
    std::string before;
    std::string after;
    bool json = false;
};

struct StatusArgs {
    bool json = false;
    bool prometheus = false; // node_exporter textfile format (status_prometheus.hpp)
    std::string output;      // with prometheus: file to write atomically; empty: stdout
    std::string risk_table = std::string(GUARDIAN_DATADIR) + "/kernel-risk.json";
    std::string root;
};

struct HistoryArgs {
    bool json = false;
    bool boots = false;     // the boot history instead of the verifications
    std::size_t limit = 20; // newest N verifications; 0: all
    std::string root;
};

struct SleepHookArgs {
    std::string phase;            // pre | post
    std::string kind = "suspend"; // suspend | hibernate | hybrid-sleep | suspend-then-hibernate
    std::string root;
};

[[nodiscard]] int run_status(const StatusArgs& args);
[[nodiscard]] int run_history(const HistoryArgs& args);
[[nodiscard]] int run_boot_history(const HistoryArgs& args);
// Always 0: a sleep hook must never fail the sleep.
[[nodiscard]] int run_sleep_hook(const SleepHookArgs& args);
[[nodiscard]] int run_check(const CheckArgs& args);
[[nodiscard]] int run_snapshot(const SnapshotArgs& args);
[[nodiscard]] int run_compare(const CompareArgs& args);

} // namespace guardian::cli
