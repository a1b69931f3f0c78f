// What a worker's sandbox is to be, and its command-line form: the front end
// writes the options with `toOptions`, the worker reads them back with
// `parseOption` and then enters the sandbox (qkiosk/sandbox/Sandbox.h). Kept
// here, beside the messages, so the front end can start a worker without
// linking the sandbox's libraries (libseccomp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

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

// Exit status a worker uses when the kernel refused to sandbox it.
inline constexpr int kSandboxFailedExit = 3;

// Parses the "--sandbox-uid N --sandbox-gid N --sandbox-memory B --sandbox-cpu S"
// options the front end passes to every worker (argv[i] is the flag).
// Returns true when argv[i] was one of them (and consumes its value).
Result<bool> parseOption(Spec& spec, int argc, char** argv, int& i);
std::vector<std::string> toOptions(const Spec& spec);

}  // namespace kiosk::sandbox
