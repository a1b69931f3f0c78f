// The sandbox every worker enters before it touches its first hostile byte:
// resource limits, a private network namespace, an unprivileged user, no new
// privileges, Landlock (no filesystem access but one private folder), and a
// seccomp allow-list. There is no switch that turns it off; what the kernel
// cannot provide (Landlock, namespaces) is reported in `Applied`, never faked.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qkiosk/protocol/Result.h"

namespace kiosk::sandbox {

enum class Profile {
    Reader,    // pread the media, memfds, the socket to the front end
    Scanner,   // scan threads; libclamav's temporary files in `writableDir`
};

struct Spec {
    Profile profile = Profile::Reader;
    uid_t uid = 65534;               // the unprivileged user to become when started as root
    gid_t gid = 65534;
    std::string writableDir;         // the only folder the worker may touch (empty: none)
    std::uint64_t memoryBytes = 0;   // address space allowed beyond what is mapped at entry; 0 = no limit
    std::uint64_t cpuSeconds = 0;    // CPU time for the whole process; 0 = no limit
    std::uint64_t maxFileBytes = 0;  // largest file it may write (RLIMIT_FSIZE); 0 = no files at all
    unsigned maxOpenFiles = 256;
};

// What was actually applied, for the report and for the threat model's claims.
struct Applied {
    bool seccomp = false;
    bool noNewPrivs = false;
    bool landlock = false;
    bool privateNetwork = false;
    uid_t uid = 0;
    std::string summary() const;   // "seccomp,no_new_privs,landlock,netns,uid=65534"
};

// Applies everything, in the order that makes each step possible (limits and
// namespaces need root, then the user is dropped, then Landlock and seccomp).
// An error means the worker must not go on.
Result<Applied> enter(const Spec& spec);

// Exit status a worker uses when the kernel refused to sandbox it.
inline constexpr int kSandboxFailedExit = 3;

// Parses the "--sandbox-uid N --sandbox-gid N --sandbox-memory B --sandbox-cpu S"
// options the front end passes to every worker (argv[i] is the flag).
// Returns true when argv[i] was one of them (and consumes its value).
Result<bool> parseOption(Spec& spec, int argc, char** argv, int& i);
std::vector<std::string> toOptions(const Spec& spec);

}  // namespace kiosk::sandbox
