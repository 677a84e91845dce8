// The example hooks in hooks/examples/, run by the real hook runner: they
// pass shellcheck, succeed for every event on a machine without databases,
// and 50-postgresql really checkpoints a real PostgreSQL cluster.
#include "guardian/hooks/hook_runner.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

namespace guardian::hooks {
namespace {

namespace fs = std::filesystem;
using test::run_command;
using test::TempDir;

fs::path examples() {
    return test::source_dir() / "hooks/examples";
}

TEST(ExampleHooks, PassShellcheck) {
    if (run_command("command -v shellcheck").exit_code != 0)
        GTEST_SKIP() << "shellcheck is not installed";
    const auto r = run_command("shellcheck " + (examples() / "10-log").string() + " " +
                               (examples() / "50-postgresql").string() + " " +
                               (examples() / "50-mysql").string() + " " +
                               (test::source_dir() / "systemd/system-sleep/guardian").string());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(ExampleHooks, ListedInOrderAndHarmlessWithoutDatabases) {
    auto names = list_hooks(examples().string());
    ASSERT_TRUE(names.ok()) << names.error().message;
    EXPECT_EQ(*names, (std::vector<std::string>{"10-log", "50-mysql", "50-postgresql"}));
    // Without a reachable database server the database hooks have nothing to
    // do and must not fail the event; on a machine with one running this
    // would talk to it, so only run when none answers.
    if (run_command("pg_isready -q").exit_code == 0 ||
        run_command("mysqladmin --silent ping").exit_code == 0)
        GTEST_SKIP() << "a database server is running here";
    for (const auto event :
         {HookEvent::pre_freeze, HookEvent::post_thaw, HookEvent::restore, HookEvent::incident}) {
        CapturingLogger log;
        const auto results = run_hooks(examples().string(), event, {}, log);
        ASSERT_EQ(results.size(), 3u);
        for (const auto& r : results)
            EXPECT_TRUE(r.ok()) << r.name << " " << to_string(event) << ": " << r.describe() << "\n"
                                << r.output;
    }
}

// A throwaway cluster owned by the postgres user, listening only on a Unix
// socket in a temporary directory; stopped when the object dies.
class PostgresCluster {
public:
    explicit PostgresCluster(const fs::path& dir) : m_dir(dir) {
        const std::string bin = pg_bin();
        m_port = std::to_string(20000 + std::random_device{}() % 20000);
        const auto r = run_command(
            "chmod 755 " + dir.parent_path().string() + " && chown postgres " + dir.string() +
            " && runuser -u postgres -- " + bin + "/initdb -D " + dir.string() +
            "/data -A trust --no-sync -U postgres >/dev/null && runuser -u postgres -- " + bin +
            "/pg_ctl -D " + dir.string() + "/data -l " + dir.string() + "/log -w -o \"-k " +
            dir.string() + " -c listen_addresses='' -p " + m_port + " -c fsync=off\" start");
        m_started = r.exit_code == 0;
        m_error = r.out + r.err;
    }
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;
    ~PostgresCluster() {
        if (m_started)
            (void)run_command("runuser -u postgres -- " + pg_bin() + "/pg_ctl -D " +
                              m_dir.string() + "/data -m immediate -w stop");
    }
    static std::string pg_bin() {
        std::string out =
            run_command("ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1").out;
        while (!out.empty() && out.back() == '\n')
            out.pop_back();
        return out;
    }
    [[nodiscard]] bool started() const { return m_started; }
    [[nodiscard]] const std::string& error() const { return m_error; }
    [[nodiscard]] const std::string& port() const { return m_port; }
    std::string query(const std::string& sql) const {
        return run_command("runuser -u postgres -- psql -X -At -h " + m_dir.string() + " -p " +
                           m_port + " -c \"" + sql + "\"")
            .out;
    }

private:
    fs::path m_dir;
    std::string m_port;
    bool m_started = false;
    std::string m_error;
};

TEST(ExampleHooks, PostgresqlHookCheckpointsARealCluster) {
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root (runs the cluster as the postgres user)";
    if (run_command("id postgres && ls /usr/lib/postgresql/*/bin/initdb").exit_code != 0)
        GTEST_SKIP() << "PostgreSQL server or postgres user not installed";
    TempDir tmp;
    fs::create_directories(tmp.path() / "pg");
    PostgresCluster pg(tmp.path() / "pg");
    ASSERT_TRUE(pg.started()) << pg.error();

    const auto checkpoints = [&] {
        return std::stoi("0" + pg.query("SELECT checkpoints_req FROM pg_stat_bgwriter"));
    };
    const int before = checkpoints();

    HookOptions options;
    options.environment = {{"PGHOST", (tmp.path() / "pg").string()}, {"PGPORT", pg.port()}};
    // post-thaw: nothing to do.
    HookResult r = run_hook((examples() / "50-postgresql").string(), HookEvent::post_thaw, options);
    EXPECT_TRUE(r.ok()) << r.describe() << r.output;
    EXPECT_EQ(checkpoints(), before);
    // pre-freeze: one requested checkpoint, run as the postgres user.
    r = run_hook((examples() / "50-postgresql").string(), HookEvent::pre_freeze, options);
    EXPECT_TRUE(r.ok()) << r.describe() << "\n" << r.output;
    EXPECT_EQ(checkpoints(), before + 1);
}

} // namespace
} // namespace guardian::hooks
