// guardiand's kernel trouble watch and boot history (docs/kernel-trouble.md):
// every kernel record the daemon's kmsg reader drains goes through one
// TroubleAssembler (core/kernel_trouble.hpp); each event is logged to the
// journal with its signature and a MESSAGE_ID per family of kinds, matched
// against the known bugs of the risk table, counted for the report and the
// textfile. This boot's record in the boot history (boot/boot_history_file)
// is written at start, on fatal trouble, by the heartbeat and at an orderly
// shutdown; at start the previous boot's end is attributed
// (boot/previous_boot). It decides nothing about restores and keeps no
// daemon state: the Daemon tells it whether writing is allowed now.
#pragma once

#include "guardian/boot/boot_history_file.hpp"
#include "guardian/core/boot_history.hpp"
#include "guardian/core/kernel_trouble.hpp"
#include "guardian/core/known_bugs.hpp"
#include "guardian/core/report.hpp"
#include "guardian/core/trouble_state.hpp"
#include "guardian/sys/clocks.hpp"
#include "guardian/util/log.hpp"
#include "guardian/util/paths.hpp"

#include <optional>
#include <string>
#include <vector>

namespace guardian::daemon {

struct TroubleWatchSettings {
    std::string risk_table; // path (Config::risk_table)
    std::string kernel_release;
    std::string distribution;     // os-release's (sys::read_distribution), "" when unknown
    bool previous_journal = true; // read the previous boot's journal with journalctl
    std::string journal_dir;      // tests: journal files instead of the system's
};

class TroubleWatch {
public:
    TroubleWatch(Logger& log, Clocks& clocks, SystemRoot root, TroubleWatchSettings settings);

    // Loads the history, attributes the previous boot's end, records this
    // boot, judges the known bugs for `conditions` (core/trouble_sources'
    // guest_conditions). Never fails: what cannot be read is logged and
    // shown in parts().
    void start(const std::vector<std::string>& conditions);

    // Records from the kernel log, in order; returns the events they completed.
    std::vector<TroubleEvent> feed(const std::vector<KmsgRecord>& records, bool may_write);
    // Ends an open report (the log has been quiet for a while).
    std::vector<TroubleEvent> flush(bool may_write);
    [[nodiscard]] bool report_open() const noexcept { return m_assembler.report_open(); }

    // The heartbeat: this boot's record with "last alive" now, if due.
    // True when it wrote.
    bool heartbeat(std::chrono::milliseconds interval, bool frozen, bool critical);
    // "Last alive" now, whatever the interval (guardiand stops, the boot goes on).
    bool record_alive();
    // The end this boot records for itself (orderly, emergency_reboot).
    void end_boot(BootEnd end);

    [[nodiscard]] TroubleSnapshot snapshot() const;
    [[nodiscard]] TroubleReport report() const;
    // "boot history: active (...)", "previous boot: ...": for status.
    [[nodiscard]] std::vector<PartStatus> parts() const;
    [[nodiscard]] const BootEntry& this_boot() const noexcept { return m_boot; }
    // False when the history already had this boot (guardiand restarted).
    [[nodiscard]] bool first_start_in_boot() const noexcept { return m_first_start; }
    [[nodiscard]] std::size_t history_writes() const noexcept { return m_file.writes(); }

private:
    void handle(std::vector<TroubleEvent>& events, bool may_write);
    void log_event(const TroubleEvent& e, const std::string& known_bug);
    [[nodiscard]] bool save(const char* why);
    void stamp_alive();

    Logger& m_log;
    Clocks& m_clocks;
    SystemRoot m_root;
    TroubleWatchSettings m_settings;
    TroubleAssembler m_assembler;
    std::optional<RiskTable> m_table;
    std::string m_table_error;
    std::vector<BugVerdict> m_bugs;
    boot::BootHistoryFile m_file;
    std::string m_history_error; // why the history cannot be kept, or ""
    BootEntry m_boot;            // this boot, as last written
    std::optional<BootEntry> m_previous;
    std::string m_previous_source; // where its attribution came from
    std::vector<contract::TroubleNote> m_last;
    std::int64_t m_last_written_us = 0;
    bool m_first_start = true;
};

} // namespace guardian::daemon
