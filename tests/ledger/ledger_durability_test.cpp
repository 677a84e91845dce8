// "A record acknowledged is never lost": a writer process records events and
// acknowledges each one after the call returned; it is SIGKILLed in the
// middle of its stream, and every acknowledged record is in the ledger
// afterwards. (A power cut is the same promise one level down: WAL with
// synchronous=FULL fsyncs the log before a commit returns.)
#include "guardian/ledger/ledger.hpp"

#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace guardian;
using namespace guardian::ledger;

namespace {

[[noreturn]] void writer(const std::string& path, int ack_fd) {
    auto l = Ledger::open(path);
    if (!l) {
        _exit(2);
    }
    const GuestKey guest{"3f1a2b4c-0000-4000-8000-00000000abcd", "writer"};
    for (int i = 0;; ++i) {
        const std::string text = "event " + std::to_string(i);
        if (!l->record(guest, 1, EventKind::trouble, i, "", text)) {
            _exit(3);
        }
        const std::string ack = std::to_string(i) + "\n";
        if (write(ack_fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) {
            _exit(4);
        }
    }
}

} // namespace

TEST(LedgerDurability, EveryAcknowledgedRecordSurvivesSigkill) {
    test::TempDir dir;
    const std::string path = (dir.path() / "ledger.sqlite").string();
    for (int round = 0; round < 3; ++round) {
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            writer(path, fds[1]);
        }
        close(fds[1]);
        // Read acknowledgements until enough have come, then kill at once:
        // the writer is somewhere inside its next transaction.
        std::string acks;
        const std::size_t want = 40 + 30 * static_cast<std::size_t>(round);
        char buf[256];
        std::size_t lines = 0;
        while (lines < want) {
            const ssize_t n = read(fds[0], buf, sizeof buf);
            ASSERT_GT(n, 0) << "writer died early";
            acks.append(buf, static_cast<std::size_t>(n));
            lines = static_cast<std::size_t>(std::count(acks.begin(), acks.end(), '\n'));
        }
        ASSERT_EQ(kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status));
        // Whatever was still in the pipe was acknowledged too.
        for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
            acks.append(buf, static_cast<std::size_t>(n));
        }
        close(fds[0]);

        auto l = Ledger::open(path);
        ASSERT_TRUE(l) << l.error().message;
        auto t = l->timeline("writer");
        ASSERT_TRUE(t) << t.error().message;
        std::set<std::string> stored;
        for (const auto& e : *t) {
            stored.insert(e.text);
        }
        std::size_t checked = 0;
        for (std::size_t at = 0, nl; (nl = acks.find('\n', at)) != std::string::npos; at = nl + 1) {
            const std::string line = acks.substr(at, nl - at);
            if (line.empty()) {
                continue;
            }
            EXPECT_TRUE(stored.count("event " + line)) << "acknowledged event " << line << " lost";
            ++checked;
        }
        EXPECT_GE(checked, want);
        // The next round's writer starts over at event 0 on the same ledger.
    }
}

// SIGKILL cannot tell a synced commit from one still in the page cache; a
// power cut can. What makes commits survive one is set on every writer.
TEST(LedgerDurability, EveryWriterSyncsItsCommits) {
    test::TempDir dir;
    auto l = Ledger::open((dir.path() / "ledger.sqlite").string());
    ASSERT_TRUE(l) << l.error().message;
    auto d = l->durability();
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->journal_mode, "wal");
    EXPECT_EQ(d->synchronous, 2) << "synchronous=FULL";
}
