#include "qkiosk/sandbox/Sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "qkiosk/base/UniqueFd.h"

namespace kiosk::sandbox {
namespace {

// Landlock rights newer than the build machine's kernel headers.
constexpr std::uint64_t kFsTruncate = 1ull << 14;    // ABI 3
constexpr std::uint64_t kFsIoctlDev = 1ull << 15;    // ABI 5
constexpr std::uint64_t kNetBindTcp = 1ull << 0;     // ABI 4
constexpr std::uint64_t kNetConnectTcp = 1ull << 1;  // ABI 4
constexpr std::uint64_t kScopeAbstractUnix = 1ull << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ull << 1;        // ABI 6

// The kernel's struct landlock_ruleset_attr as of ABI 6; older kernels are
// given only the prefix they know.
struct RulesetAttr {
    std::uint64_t handledAccessFs;
    std::uint64_t handledAccessNet;
    std::uint64_t scoped;
};

struct __attribute__((packed)) PathBeneathAttr {
    std::uint64_t allowedAccess;
    std::int32_t parentFd;
};

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

Status setLimit(int resource, rlim_t soft, rlim_t hard, const char* name) {
    const rlimit lim{soft, hard};
    if (::setrlimit(resource, &lim) != 0) return makeError(errnoText(name));
    return {};
}

// Address space already mapped: the loaded signatures, the sanitizer's shadow
// memory. The budget comes on top of it.
std::uint64_t mappedBytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0;
    statm >> pages;
    return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

Status applyLimits(const Spec& s) {
    if (auto st = setLimit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE"); !st) return st;
    if (auto st = setLimit(RLIMIT_NOFILE, s.maxOpenFiles, s.maxOpenFiles, "RLIMIT_NOFILE"); !st) return st;
    // A write past the limit fails with EFBIG instead of killing the worker.
    ::signal(SIGXFSZ, SIG_IGN);
    if (auto st = setLimit(RLIMIT_FSIZE, s.maxFileBytes, s.maxFileBytes, "RLIMIT_FSIZE"); !st) return st;
    if (s.cpuSeconds) {
        // SIGXCPU at the limit, SIGKILL a second later if it is ignored.
        if (auto st = setLimit(RLIMIT_CPU, s.cpuSeconds, s.cpuSeconds + 1, "RLIMIT_CPU"); !st) return st;
    }
    if (s.memoryBytes) {
        const rlim_t as = mappedBytes() + s.memoryBytes;
        if (auto st = setLimit(RLIMIT_AS, as, as, "RLIMIT_AS"); !st) return st;
    }
    return {};
}

Status dropUser(const Spec& s) {
    if (::geteuid() != 0) return {};   // started unprivileged: nothing to drop
    if (s.uid == 0) return makeError("refusing to run a worker as root");
    if (::setgroups(0, nullptr) != 0) return makeError(errnoText("setgroups"));
    if (::setresgid(s.gid, s.gid, s.gid) != 0) return makeError(errnoText("setresgid"));
    if (::setresuid(s.uid, s.uid, s.uid) != 0) return makeError(errnoText("setresuid"));
    if (::setuid(0) == 0) return makeError("could become root again after dropping privileges");
    return {};
}

// Landlock: no filesystem access at all except beneath `dir` (if open). Returns false
// when the kernel has no Landlock (the threat model says what is lost then).
Result<bool> applyLandlock(const UniqueFd& dir) {
    const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) return false;
    RulesetAttr attr{};
    attr.handledAccessFs = (1ull << 13) - 1;   // ABI 1: execute .. make_sym
    if (abi >= 2) attr.handledAccessFs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) attr.handledAccessFs |= kFsTruncate;
    if (abi >= 5) attr.handledAccessFs |= kFsIoctlDev;
    std::size_t size = sizeof(std::uint64_t);
    if (abi >= 4) {
        attr.handledAccessNet = kNetBindTcp | kNetConnectTcp;
        size = 2 * sizeof(std::uint64_t);
    }
    if (abi >= 6) {
        attr.scoped = kScopeAbstractUnix | kScopeSignal;
        size = sizeof attr;
    }
    UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, size, 0)));
    if (!ruleset.valid()) return makeError(errnoText("landlock_create_ruleset"));
    if (dir.valid()) {
        PathBeneathAttr rule{LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                                 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                                 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | (abi >= 3 ? kFsTruncate : 0),
                             dir.get()};
        if (::syscall(SYS_landlock_add_rule, ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
            return makeError(errnoText("landlock_add_rule"));
    }
    if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) return makeError(errnoText("landlock_restrict_self"));
    return true;
}

// One argument condition (libseccomp's SCMP_Ax macros are C compound literals).
scmp_arg_cmp arg(unsigned index, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) { return scmp_arg_cmp{index, op, a, b}; }

// A forbidden system call: say which, then die of SIGSYS (SA_RESETHAND puts
// the default action back, SA_NODEFER lets the raise() below take effect).
void onForbiddenCall(int, siginfo_t* info, void*) {
    char msg[96];
    const int n = std::snprintf(msg, sizeof msg, "qkiosk worker: the sandbox stopped system call %d\n", info->si_syscall);
    if (n > 0) (void)!::write(STDERR_FILENO, msg, static_cast<std::size_t>(n));
    ::raise(SIGSYS);
    ::_exit(128 + SIGSYS);
}

// The allow-list. Everything else raises SIGSYS: no sockets, no exec, no
// fork, no ptrace, no mount, no set*id, no signals to other processes.
Status applySeccomp(Profile profile) {
    struct sigaction sa{};
    sa.sa_sigaction = &onForbiddenCall;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
    if (::sigaction(SIGSYS, &sa, nullptr) != 0) return makeError(errnoText("sigaction"));

    std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_TRAP), &seccomp_release);
    if (!ctx) return makeError("seccomp_init failed");
    int rc = 0;
    auto allow = [&](int nr) {
        if (rc == 0) rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0);
    };
    for (int nr : {
             // memory, threads, time, signals to itself
             SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
             SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list),
             SCMP_SYS(rseq), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(nanosleep),
             SCMP_SYS(clock_nanosleep), SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
             SCMP_SYS(time), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
             SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getrandom), SCMP_SYS(rt_sigaction),
             SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(exit),
             SCMP_SYS(exit_group), SCMP_SYS(restart_syscall), SCMP_SYS(getrusage), SCMP_SYS(sysinfo),
             SCMP_SYS(uname), SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler),
             // descriptors it already holds: the socket to the front end, the media, memfds
             SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
             SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat),
             SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(ftruncate),
             SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(memfd_create), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
             SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(fadvise64),
         })
        allow(nr);
#if defined(__SANITIZE_ADDRESS__)
    // The sanitizer build's runtime checks memory ranges through a pipe
    // (IsAccessibleMemoryRange) when it unwinds stacks; nothing leaves the process.
    for (int nr : {SCMP_SYS(pipe2), SCMP_SYS(pipe)}) allow(nr);
#endif
    if (profile == Profile::Scanner) {
        // libclamav's temporary files, confined by Landlock to the session's folder.
        for (int nr : {SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(mkdir),
                       SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(getdents64), SCMP_SYS(access),
                       SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(rename),
                       SCMP_SYS(renameat), SCMP_SYS(getcwd), SCMP_SYS(umask), SCMP_SYS(readlink),
                       SCMP_SYS(readlinkat), SCMP_SYS(fchmod), SCMP_SYS(chmod), SCMP_SYS(fchmodat)})
            allow(nr);
    } else if (rc == 0) {
        // The reader opens nothing: it was handed the media and makes memfds.
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
        if (rc == 0) rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
    }
    // Threads only, never a new process: clone must carry CLONE_THREAD.
    if (rc == 0)
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    // clone3's flags sit in memory seccomp cannot read: glibc falls back to clone.
    if (rc == 0) rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    // Reading its own limits (glibc does, for thread stacks), never raising them.
    if (rc == 0)
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2, arg(0, SCMP_CMP_EQ, 0),
                              arg(2, SCMP_CMP_EQ, 0));
    if (rc == 0) rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(getrlimit), 0);
    // Signals only to itself (abort(), thread cancellation).
    if (rc == 0)
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                              arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid())));
    // isatty() on stderr and the like: answered "not a terminal".
    if (rc == 0) rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
    // prctl: only reading, e.g. the sanitizers' PR_GET_DUMPABLE.
    if (rc == 0)
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, arg(0, SCMP_CMP_EQ, PR_GET_DUMPABLE));
    if (rc != 0) return makeError(std::string("seccomp rule: ") + std::strerror(-rc));
    rc = seccomp_load(ctx.get());
    if (rc != 0) return makeError(std::string("seccomp_load: ") + std::strerror(-rc));
    return {};
}

}  // namespace

std::string Applied::summary() const {
    std::string s;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!s.empty()) s += ",";
        s += name;
    };
    add(seccomp, "seccomp");
    add(noNewPrivs, "no_new_privs");
    add(landlock, "landlock");
    add(privateNetwork, "netns");
    if (!s.empty()) s += ",";
    return s + "uid=" + std::to_string(uid);
}

Result<Applied> enter(const Spec& spec) {
    Applied a;
    // Opened while still privileged; Landlock's rule is tied to this folder, not its name.
    UniqueFd dir;
    if (!spec.writableDir.empty()) {
        dir.reset(::open(spec.writableDir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir.valid()) return makeError(errnoText(spec.writableDir.c_str()));
    }
    if (auto st = applyLimits(spec); !st) return st.error();
    // A network namespace of its own: not even a loopback device is up.
    if (::geteuid() == 0) {
        if (::unshare(CLONE_NEWNET | CLONE_NEWIPC) == 0) a.privateNetwork = true;
        else if (errno != EPERM && errno != EINVAL) return makeError(errnoText("unshare"));
    }
    if (auto st = dropUser(spec); !st) return st.error();
    a.uid = ::getuid();
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return makeError(errnoText("no_new_privs"));
    a.noNewPrivs = true;
    auto landlock = applyLandlock(dir);
    if (!landlock) return landlock.error();
    a.landlock = *landlock;
    if (auto st = applySeccomp(spec.profile); !st) return st.error();
    a.seccomp = true;
    return a;
}

}  // namespace kiosk::sandbox
