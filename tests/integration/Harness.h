// Helpers for the end-to-end tests: a private work folder, the real fixture
// scripts, the real `qkiosk scan`, and the JSON report it writes.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

namespace qktest {

namespace fs = std::filesystem;
using nlohmann::json;

// The EICAR anti-virus test string (not a virus; every scanner detects it).
std::string eicar();

struct RunResult {
    int exitCode = -1;
    std::string out, err;
};

// Runs argv[0] with the arguments, capturing stdout and stderr.
RunResult run(const std::vector<std::string>& argv);

// A program running in the background, its stdout read line by line.
class Process {
public:
    explicit Process(const std::vector<std::string>& argv);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // The first new line containing `needle`, or "" after `seconds`.
    std::string waitForLine(const std::string& needle, double seconds);
    // SIGTERM, then the exit status (SIGKILL after 10 s).
    int stop();
    // Waits for the process to end by itself; its exit status.
    int wait();
    int pid() const { return pid_; }
    const std::string& output() const { return all_; }

private:
    bool readSome(int timeoutMs);
    int pid_ = -1;
    int fd_ = -1;
    std::string buffer_, all_;
};

class Workspace {
public:
    Workspace();
    ~Workspace();
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;

    const fs::path& path() const { return dir_; }
    fs::path write(const std::string& rel, const std::string& content);
    fs::path copy(const fs::path& from, const std::string& rel);
    // The test signature database: EICAR and clamav-testfiles' clam.exe.
    fs::path database();

private:
    fs::path dir_;
};

// A small filesystem of its own (a tmpfs at `where`) that a test can fill up,
// unmounted at the end. Without the right to mount (not root) the test
// process ends with 77: SKIP.
class SmallDisk {
public:
    SmallDisk(const fs::path& where, const std::string& size);
    ~SmallDisk();
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    const fs::path& path() const { return path_; }
    // Fills it to the last byte.
    void fill() const;

private:
    fs::path path_;
};

// Builds an image with tests/fixtures/make-image.sh. A missing tool ends the
// test process with 77, which ctest reports as SKIP.
fs::path makeImage(Workspace& ws, const std::string& name, const std::string& fsType, const std::string& table,
                   const fs::path& srcDir, const std::vector<std::string>& extra = {});

struct Scan {
    int exitCode = -1;
    json report;
    std::string out, err;
};

// qkiosk scan --image IMG --db DB --json OUT [extra...]
Scan scanImage(Workspace& ws, const fs::path& image, const std::vector<std::string>& extra = {});

// Reasons with this code (and path, if given).
std::vector<json> reasons(const json& report, const std::string& code, const std::string& path = "");
std::string sha256File(const fs::path& p);
// Text built by appends (g++ 12 warns falsely on "literal" + std::string).
std::string join(std::initializer_list<std::string> parts);
// `n` bytes from a Mersenne Twister seeded with `seed`: the same every run.
std::string randomBytes(std::size_t n, unsigned seed);
// The whole file's bytes ("" if it cannot be read).
std::string slurp(const fs::path& p);
void requireTool(const std::string& tool);

}  // namespace qktest
