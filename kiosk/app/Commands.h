// One function per `qkiosk` subcommand. Each returns the process exit status:
// 0 PASS/success, 1 FAIL/mismatch, 2 error (docs/design.md).
#pragma once

#include <string>
#include <vector>

namespace kiosk::app {

int scanCommand(const std::vector<std::string>& args);
int devicesCommand(const std::vector<std::string>& args);
int runCommand(const std::vector<std::string>& args);
int signaturesCommand(const std::vector<std::string>& args);
int logCommand(const std::vector<std::string>& args);
int verifyCommand(const std::vector<std::string>& args);
int ticketCommand(const std::vector<std::string>& args);
int officerCommand(const std::vector<std::string>& args);
int evidenceCommand(const std::vector<std::string>& args);
int uiCommand(const std::vector<std::string>& args);

// Prints "qkiosk: <message>" on stderr and returns 2.
int usageError(const std::string& message);

}  // namespace kiosk::app
