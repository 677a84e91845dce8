// What tests need to know about where they run: the source tree, the build
// tree, ../shared/, and whether this machine lets them use root and loop
// devices. A test that cannot run here skips and says why.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace guardian::test {

std::filesystem::path source_dir();
std::filesystem::path binary_dir();
// ../shared/ next to the checkout, or nullopt (tests then GTEST_SKIP()).
std::optional<std::filesystem::path> shared_dir();

// Empty when root and loop devices are usable, else the reason they are not.
std::string why_no_loop_devices();

// A fresh temporary directory removed when the object dies.
class TempDir {
public:
    TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

// Polls `done` every 50 ms until it holds or `timeout` passes; false on timeout.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

struct CommandResult {
    int exit_code = -1;
    std::string out; // stdout
    std::string err; // stderr
};
// Runs `sh -c command`, capturing both streams.
CommandResult run_command(const std::string& command);

} // namespace guardian::test

#define GUARDIAN_SKIP_WITHOUT_LOOP()                                                               \
    do {                                                                                           \
        const std::string why_ = ::guardian::test::why_no_loop_devices();                          \
        if (!why_.empty())                                                                         \
            GTEST_SKIP() << why_;                                                                  \
    } while (false)
