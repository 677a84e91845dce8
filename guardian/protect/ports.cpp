#include "guardian/protect/ports.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

namespace guardian::protect {

Result<KmsgWriter> KmsgWriter::open(const SystemRoot& root) {
    const std::string path = root.path("/dev/kmsg");
    // O_APPEND matters only for the regular file a test root puts there.
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(path, O_WRONLY | O_APPEND));
    KmsgWriter w(std::move(fd), path);
    w.m_buffer.reserve(1024);
    return w;
}

Status KmsgWriter::write_line(std::string_view line) {
    m_buffer.assign("<2>guardian: ");
    // kmsg records are limited to about 1 KiB; cut rather than split, so the
    // console shows exactly one line.
    m_buffer.append(line.substr(0, m_buffer.capacity() - m_buffer.size() - 1));
    m_buffer.push_back('\n');
    ssize_t n;
    do
        n = ::write(m_fd.get(), m_buffer.data(), m_buffer.size());
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return Error::from_errno("write " + m_path);
    return ok_status();
}

namespace {

// kill(-1, sig): every process the caller may signal except init and the
// caller's own thread group. ESRCH means there was no such process.
Status signal_others(int sig, const char* what) {
    if (::kill(-1, sig) != 0 && errno != ESRCH)
        return Error::from_errno(what);
    return ok_status();
}

} // namespace

Status SignalProcessHalter::stop_others() {
    return signal_others(SIGSTOP, "kill(-1, SIGSTOP)");
}

Status SignalProcessHalter::continue_others() {
    return signal_others(SIGCONT, "kill(-1, SIGCONT)");
}

Status ImmediateRebooter::reboot_now() {
    if (::reboot(RB_AUTOBOOT) != 0)
        return Error::from_errno("reboot(RB_AUTOBOOT)");
    return ok_status(); // not reached on success
}

Status OrderlyRebooter::reboot_now() {
    char arg0[] = "systemctl";
    char arg1[] = "reboot";
    char arg2[] = "--no-wall";
    char* const argv[] = {arg0, arg1, arg2, nullptr};
    char* const envp[] = {nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, m_systemctl.c_str(), nullptr, nullptr, argv, envp);
    if (rc != 0)
        return Error::from_errno("spawn " + m_systemctl + " reboot", rc);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return Error::from_errno("wait for " + m_systemctl);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return Error{m_systemctl + " reboot failed (status " + std::to_string(status) + ")", 0};
    return ok_status();
}

} // namespace guardian::protect
