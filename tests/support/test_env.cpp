#include "tests/support/test_env.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace guardian::test {

std::filesystem::path source_dir() {
    return GUARDIAN_SOURCE_DIR;
}
std::filesystem::path binary_dir() {
    return GUARDIAN_BINARY_DIR;
}

std::optional<std::filesystem::path> shared_dir() {
    if (const char* env = std::getenv("GUARDIAN_SHARED_DIR"); env && *env)
        return std::filesystem::path(env);
    std::filesystem::path p = GUARDIAN_SHARED_DIR;
    if (std::filesystem::is_directory(p))
        return std::filesystem::weakly_canonical(p);
    return std::nullopt;
}

std::string why_no_loop_devices() {
    if (::geteuid() != 0)
        return "needs root (loop devices, mount); run the suite as root as CI does";
    if (!std::filesystem::exists("/dev/loop-control"))
        return "no /dev/loop-control on this machine";
    return {};
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "guardian-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    m_path = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

CommandResult run_command(const std::string& command) {
    TempDir dir;
    const auto out_path = dir.path() / "out";
    const auto err_path = dir.path() / "err";
    const std::string full =
        "(" + command + ") >'" + out_path.string() + "' 2>'" + err_path.string() + "'";
    const int status = std::system(full.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto slurp = [](const std::filesystem::path& p) {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    return r;
}

} // namespace guardian::test
