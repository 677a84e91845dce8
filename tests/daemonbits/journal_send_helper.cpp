// Sends a few entries through JournalLogger; run by journal_test inside a
// private mount namespace that has its own systemd-journald.
#include "guardian/core/message_ids.hpp"
#include "guardian/journal/journal_logger.hpp"

#include <string>

int main(int argc, char** argv) {
    if (argc != 2)
        return 2;
    const std::string run = argv[1];
    guardian::journal::JournalLogger log(guardian::Priority::info);
    log.log(guardian::Priority::crit, "verification critical on /dev/xvda1",
            {{"MESSAGE_ID", std::string(guardian::message_id::verification_critical)},
             {"GUARDIAN_DEVICE", "/dev/xvda1"},
             {"GUARDIAN_FS_UUID", "0b3c8f1e-6c1a-4d1e-9a57-0d2f9c1d2e3f"},
             {"GUARDIAN_VERDICT", "critical"},
             {"GUARDIAN_HOOK_OUTPUT", "line one\nline two"},
             {"guardian-test-run", run},
             {"PRIORITY", "7"}}); // ignored: log() sets PRIORITY itself
    // Below the threshold: must not reach the journal.
    log.debug("debug noise", {{"GUARDIAN_TEST_RUN", run}});
    return 0;
}
