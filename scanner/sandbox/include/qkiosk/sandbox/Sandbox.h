// The sandbox every worker enters before it touches its first hostile byte:
// resource limits, a private network namespace, an unprivileged user, no new
// privileges, Landlock (no filesystem access but one private folder), and a
// seccomp allow-list. There is no switch that turns it off; what the kernel
// cannot provide (Landlock, namespaces) is reported in `Applied`, never faked.
#pragma once

#include <sys/types.h>

#include <string>

#include "qkiosk/base/Result.h"
#include "qkiosk/protocol/SandboxSpec.h"

namespace kiosk::sandbox {

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

}  // namespace kiosk::sandbox
