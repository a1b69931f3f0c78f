#include "qkiosk/protocol/SandboxSpec.h"

#include <cerrno>
#include <cstdlib>

namespace kiosk::sandbox {

Result<bool> parseOption(Spec& spec, int argc, char** argv, int& i) {
    const std::string flag = argv[i];
    if (!flag.starts_with("--sandbox-")) return false;
    if (i + 1 >= argc) return makeError(flag + ": missing value");
    const char* text = argv[++i];
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (errno || end == text || *end) return makeError(flag + ": not a number: " + text);
    if (flag == "--sandbox-uid") spec.uid = static_cast<uid_t>(v);
    else if (flag == "--sandbox-gid") spec.gid = static_cast<gid_t>(v);
    else if (flag == "--sandbox-memory") spec.memoryBytes = v;
    else if (flag == "--sandbox-cpu") spec.cpuSeconds = v;
    else if (flag == "--sandbox-max-file") spec.maxFileBytes = v;
    else return makeError(flag + ": unknown option");
    return true;
}

std::vector<std::string> toOptions(const Spec& spec) {
    return {"--sandbox-uid",    std::to_string(spec.uid),         "--sandbox-gid", std::to_string(spec.gid),
            "--sandbox-memory", std::to_string(spec.memoryBytes), "--sandbox-cpu", std::to_string(spec.cpuSeconds),
            "--sandbox-max-file", std::to_string(spec.maxFileBytes)};
}

}  // namespace kiosk::sandbox
