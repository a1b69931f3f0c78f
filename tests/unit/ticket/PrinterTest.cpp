// Printing for real: a private cupsd (its own configuration, a socket in a
// temporary folder, a raw queue whose "printer" is a TCP socket in this test),
// and ESC/POS printers that are files and FIFOs.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "Harness.h"
#include "TicketTestUtil.h"
#include "kiosk/ticket/Printer.h"

using namespace kiosk::ticket;
using namespace tickettest;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string cat(std::initializer_list<std::string_view> parts) {
    std::string s;
    for (auto p : parts) s.append(p);
    return s;
}

// Reads everything written into a FIFO until the writer closes it.
class FifoReader {
public:
    explicit FifoReader(const fs::path& fifo) {
        fd_ = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(fd_ >= 0);
        thread_ = std::thread([this] {
            bool writerSeen = false;
            const auto until = Clock::now() + 20s;
            char buf[65536];
            while (Clock::now() < until) {
                pollfd p{fd_, POLLIN, 0};
                ::poll(&p, 1, 100);
                const ssize_t n = ::read(fd_, buf, sizeof buf);
                if (n > 0) {
                    writerSeen = true;
                    data_.append(buf, static_cast<std::size_t>(n));
                } else if (n == 0 && writerSeen) {
                    break;  // the writer closed its end
                }
            }
        });
    }
    ~FifoReader() {
        if (thread_.joinable()) thread_.join();
        ::close(fd_);
    }
    std::string take() {
        thread_.join();
        return data_;
    }

private:
    int fd_ = -1;
    std::thread thread_;
    std::string data_;
};

// A network printer as CUPS' socket backend sees one (AppSocket/JetDirect):
// every connection is one job, kept whole.
class TcpPrinter {
public:
    TcpPrinter() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 4) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~TcpPrinter() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    int port() const { return port_; }
    std::optional<std::string> waitJob(std::chrono::seconds timeout) {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [&] { return !jobs_.empty(); })) return std::nullopt;
        auto job = jobs_.front();
        jobs_.erase(jobs_.begin());
        return job;
    }
    std::size_t jobsReceived() {
        std::lock_guard lock(mutex_);
        return jobs_.size();
    }

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            std::string job;
            char buf[65536];
            const auto until = Clock::now() + 20s;
            while (!stop_ && Clock::now() < until) {
                pollfd q{c, POLLIN, 0};
                if (::poll(&q, 1, 100) <= 0) continue;
                const ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                job.append(buf, static_cast<std::size_t>(n));
            }
            ::close(c);
            std::lock_guard lock(mutex_);
            jobs_.push_back(job);
            cv_.notify_all();
        }
    }
    int fd_ = -1, port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::string> jobs_;
};

std::string findProgram(const std::string& name) {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
        const auto p = fs::path(dir) / name;
        if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
    return "";
}

// A cupsd of this test's own: configuration, spool, logs and socket in a
// temporary folder; no network listener, no browsing, no web interface.
class CupsServer {
public:
    CupsServer() {
        if (::geteuid() != 0) {
            WARN("SKIP: a private cupsd needs root");
            std::exit(77);
        }
        for (const char* tool : {"cupsd", "lpadmin", "lp", "lpstat", "cupsdisable", "cupsenable", "cupsreject",
                                 "cupsaccept"})
            if (findProgram(tool).empty()) {
                WARN("SKIP: " << tool << " is not installed (packages cups, cups-client)");
                std::exit(77);
            }
        const auto& d = ws_.path();
        for (const char* sub : {"state", "cache", "spool", "log"}) fs::create_directories(d / sub);
        fs::create_directories(d / "tmp");
        fs::permissions(d / "tmp", fs::perms::all | fs::perms::sticky_bit);
        socket_ = (d / "cups.sock").string();
        std::string files;
        for (const auto& [key, value] :
             std::vector<std::pair<std::string, std::string>>{{"ServerRoot", d.string()},
                                                              {"StateDir", (d / "state").string()},
                                                              {"CacheDir", (d / "cache").string()},
                                                              {"RequestRoot", (d / "spool").string()},
                                                              {"TempDir", (d / "tmp").string()},
                                                              {"ServerBin", "/usr/lib/cups"},
                                                              {"DataDir", "/usr/share/cups"},
                                                              {"DocumentRoot", "/usr/share/cups/doc-root"},
                                                              {"AccessLog", (d / "log/access_log").string()},
                                                              {"ErrorLog", (d / "log/error_log").string()},
                                                              {"PageLog", (d / "log/page_log").string()},
                                                              {"Printcap", (d / "printcap").string()},
                                                              {"User", "lp"},
                                                              {"Group", "lp"},
                                                              {"SystemGroup", "root"}})
            files.append(key).append(" ").append(value).append("\n");
        writeFile(d / "cups-files.conf", files);
        std::string conf = "Listen ";
        conf.append(socket_).append(
            "\nLogLevel info\nBrowsing No\nWebInterface No\nDefaultAuthType None\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n");
        writeFile(d / "cupsd.conf", conf);
        cupsd_ = std::make_unique<qktest::Process>(std::vector<std::string>{
            findProgram("cupsd"), "-f", "-c", (d / "cupsd.conf").string(), "-s", (d / "cups-files.conf").string()});
        const auto until = Clock::now() + 10s;
        while (Clock::now() < until) {
            if (fs::exists(socket_) && admin({"lpstat", "-r"}).out.find("scheduler is running") != std::string::npos)
                return;
            std::this_thread::sleep_for(50ms);
        }
        FAIL("the private cupsd did not start: " << readFile(d / "log/error_log"));
    }
    ~CupsServer() {
        if (cupsd_) cupsd_->stop();
    }
    const std::string& socket() const { return socket_; }

    // A CUPS client command against this server (-h SOCKET first).
    qktest::RunResult admin(std::vector<std::string> argv) {
        argv.front() = findProgram(argv.front());
        argv.insert(argv.begin() + 1, {"-h", socket_});
        return qktest::run(argv);
    }
    void addRawQueue(const std::string& name, int port) {
        std::string uri = "socket://127.0.0.1:";
        uri.append(std::to_string(port));
        const auto r = admin({"lpadmin", "-p", name, "-E", "-v", uri, "-m", "raw"});
        INFO(r.err);
        REQUIRE(r.exitCode == 0);
    }
    qktest::Workspace& workspace() { return ws_; }

private:
    qktest::Workspace ws_;
    std::string socket_;
    std::unique_ptr<qktest::Process> cupsd_;
};

}  // namespace

TEST_CASE("Printer settings", "[printer][spec]") {
    SECTION("none") {
        auto p = parsePrinter("none");
        REQUIRE(p);
        CHECK(p->kind == Printer::None);
        CHECK(describe(*p) == "none");
        CHECK(print(*p, sampleLayout(true, "QKT1.a.b")));
    }
    SECTION("a CUPS queue on the default server") {
        auto p = parsePrinter("cups:Kiosk_Receipt");
        REQUIRE(p);
        CHECK(p->kind == Printer::Cups);
        CHECK(p->target == "Kiosk_Receipt");
        CHECK(p->server.empty());
        CHECK(describe(*p) == "cups:Kiosk_Receipt");
    }
    SECTION("a CUPS queue on a named server or socket") {
        auto p = parsePrinter("cups:ward3@/run/cups/cups.sock");
        REQUIRE(p);
        CHECK(p->target == "ward3");
        CHECK(p->server == "/run/cups/cups.sock");
        auto q = parsePrinter("cups:ward3@printhost.hospital.local:631");
        REQUIRE(q);
        CHECK(q->server == "printhost.hospital.local:631");
        CHECK(describe(*q) == "cups:ward3@printhost.hospital.local:631");
    }
    SECTION("an ESC/POS device") {
        auto p = parsePrinter("escpos:/dev/usb/lp0");
        REQUIRE(p);
        CHECK(p->kind == Printer::EscPos);
        CHECK(p->target == "/dev/usb/lp0");
        CHECK(p->dotsWide == 576);
        auto q = parsePrinter("escpos:/dev/usb/lp1?dots=384");
        REQUIRE(q);
        CHECK(q->dotsWide == 384);
        CHECK(describe(*q) == "escpos:/dev/usb/lp1?dots=384");
    }
    SECTION("anything else is an error naming the setting") {
        for (const std::string bad : {"", "lp0", "usb:/dev/usb/lp0", "cups:", "cups:two words", "cups:q@", "cups:-o",
                                      "cups:a/b", "cups:q@-h", "escpos:", "escpos:dev/usb/lp0",
                                      "escpos:/dev/usb/lp0?dots=500", "escpos:/dev/usb/lp0?dots=", "escpos:/dev/x?speed=9"}) {
            auto p = parsePrinter(bad);
            INFO(bad);
            REQUIRE_FALSE(p);
            CHECK(p.error().message.starts_with(cat({"printer \"", bad, "\": "})));
        }
    }
}

TEST_CASE("An ESC/POS ticket written to a device node gets exactly the rendered bytes", "[printer][escpos]") {
    qktest::Workspace ws;
    const auto dev = ws.path() / "lp0";
    writeFile(dev, "");  // a printer's node exists before anything prints to it
    const auto layout = sampleLayout(true, compactForm(700));
    auto p = parsePrinter(cat({"escpos:", dev.string()}));
    REQUIRE(p);
    auto s = print(*p, layout);
    INFO((s ? "" : s.error().message));
    REQUIRE(s);
    auto expected = renderEscPos(layout);
    REQUIRE(expected);
    CHECK(readFile(dev) == *expected);
}

TEST_CASE("An ESC/POS printer behind a FIFO receives the ticket and its QR code reads back", "[printer][escpos]") {
    requireTools({"zbarimg"});
    qktest::Workspace ws;
    const auto fifo = ws.path() / "lp0";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    FifoReader reader(fifo);
    const auto payload = compactForm(700);
    auto p = parsePrinter(cat({"escpos:", fifo.string()}));
    REQUIRE(p);
    auto s = print(*p, sampleLayout(false, payload));
    INFO((s ? "" : s.error().message));
    REQUIRE(s);
    const auto bm = parseEscPos(reader.take());
    writePbm(bm, ws.path() / "received.pbm");
    CHECK(decodeQr(ws.path() / "received.pbm") == payload);
}

TEST_CASE("A printer that cannot print is an error in bounded time, never a hang", "[printer][escpos]") {
    qktest::Workspace ws;
    const auto layout = sampleLayout(false, compactForm(700));
    PrintOptions quick;
    quick.timeout = 700ms;

    SECTION("no device node (printer unplugged)") {
        auto p = parsePrinter(cat({"escpos:", (ws.path() / "usb/lp0").string()}));
        REQUIRE(p);
        const auto t = Clock::now();
        auto s = print(*p, layout, quick);
        CHECK(secondsSince(t) < 2);
        REQUIRE_FALSE(s);
        CHECK(s.error().message.find("cannot open: No such file or directory") != std::string::npos);
        CHECK(s.error().message.find("plugged in") != std::string::npos);
        CHECK_FALSE(fs::exists(ws.path() / "usb"));
    }
    SECTION("a FIFO nobody reads") {
        const auto fifo = ws.path() / "lp0";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        auto p = parsePrinter(cat({"escpos:", fifo.string()}));
        REQUIRE(p);
        const auto t = Clock::now();
        auto s = print(*p, layout, quick);
        CHECK(secondsSince(t) < 2);
        REQUIRE_FALSE(s);
        INFO(s.error().message);
        CHECK(s.error().message.starts_with(cat({"ESC/POS printer ", fifo.string(), ": cannot open"})));
    }
    SECTION("a printer that stops taking data (out of paper)") {
        const auto fifo = ws.path() / "lp0";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        // Opened for reading and never read: the writer fills the pipe and waits.
        const int stalled = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(stalled >= 0);
        ::fcntl(stalled, F_SETPIPE_SZ, 4096);
        auto p = parsePrinter(cat({"escpos:", fifo.string()}));
        REQUIRE(p);
        const auto t = Clock::now();
        auto s = print(*p, layout, quick);
        const double took = secondsSince(t);
        ::close(stalled);
        CHECK(took >= 0.6);
        CHECK(took < 3);
        REQUIRE_FALSE(s);
        INFO(s.error().message);
        CHECK(s.error().message.find("took no more data for 0.7 s") != std::string::npos);
    }
    SECTION("a reader that goes away in the middle (no SIGPIPE kills the kiosk)") {
        const auto fifo = ws.path() / "lp0";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(reader >= 0);
        ::fcntl(reader, F_SETPIPE_SZ, 4096);
        std::thread closer([&] {
            std::this_thread::sleep_for(200ms);
            ::close(reader);
        });
        auto p = parsePrinter(cat({"escpos:", fifo.string()}));
        REQUIRE(p);
        auto s = print(*p, layout, quick);
        closer.join();
        REQUIRE_FALSE(s);
        INFO(s.error().message);
        CHECK(s.error().message.find("Broken pipe") != std::string::npos);
    }
    SECTION("a folder is not a printer") {
        auto p = parsePrinter(cat({"escpos:", ws.path().string()}));
        REQUIRE(p);
        auto s = print(*p, layout, quick);
        REQUIRE_FALSE(s);
        CHECK(s.error().message.find("Is a directory") != std::string::npos);
    }
}

TEST_CASE("A ticket printed through a real CUPS server arrives as a PDF with every line", "[printer][cups]") {
    requireTools({"pdftotext"});
    CupsServer cups;
    TcpPrinter printer;
    cups.addRawQueue("kiosk", printer.port());
    const auto layout = sampleLayout(true, compactForm(700));

    SECTION("cups:QUEUE@SOCKET") {
        auto p = parsePrinter(cat({"cups:kiosk@", cups.socket()}));
        REQUIRE(p);
        const auto t = Clock::now();
        auto s = print(*p, layout);
        INFO((s ? "" : s.error().message));
        REQUIRE(s);
        CHECK(secondsSince(t) < 5);
    }
    SECTION("cups:QUEUE with CUPS_SERVER in the environment") {
        ::setenv("CUPS_SERVER", cups.socket().c_str(), 1);
        auto s = print(*parsePrinter("cups:kiosk"), layout);
        ::unsetenv("CUPS_SERVER");
        INFO((s ? "" : s.error().message));
        REQUIRE(s);
    }
    auto job = printer.waitJob(30s);
    REQUIRE(job);
    CHECK(job->starts_with("%PDF-"));
    const auto pdf = cups.workspace().path() / "job.pdf";
    writeFile(pdf, *job);
    const auto text = pdfText(pdf);
    INFO(text);
    CHECK(text.find("PASS") != std::string::npos);
    for (const auto& line : layout.lines) CHECK(containsWrapped(text, line));
}

TEST_CASE("An unknown, stopped or rejecting CUPS queue is an error and nothing is printed", "[printer][cups]") {
    CupsServer cups;
    TcpPrinter printer;
    cups.addRawQueue("kiosk", printer.port());
    const auto layout = sampleLayout(false, compactForm(700));
    PrintOptions quick;
    quick.timeout = 10s;
    auto printTo = [&](const std::string& spec) {
        auto p = parsePrinter(spec);
        REQUIRE(p);
        const auto t = Clock::now();
        auto s = print(*p, layout, quick);
        CHECK(secondsSince(t) < 5);
        REQUIRE_FALSE(s);
        return s.error().message;
    };
    const std::string queue = cat({"cups:kiosk@", cups.socket()});

    SECTION("unknown queue") {
        const auto msg = printTo(cat({"cups:nosuch@", cups.socket()}));
        CHECK(msg.starts_with(cat({"CUPS queue cups:nosuch@", cups.socket(), ": no such queue"})));
    }
    SECTION("stopped queue (cupsdisable)") {
        REQUIRE(cups.admin({"cupsdisable", "-r", "paper jam", "kiosk"}).exitCode == 0);
        const auto msg = printTo(queue);
        CHECK(msg.starts_with(cat({"CUPS queue ", queue, ": the queue is stopped (paper jam)"})));
        CHECK(msg.find("cupsenable kiosk") != std::string::npos);
    }
    SECTION("queue that rejects jobs (cupsreject)") {
        REQUIRE(cups.admin({"cupsreject", "kiosk"}).exitCode == 0);
        const auto msg = printTo(queue);
        CHECK(msg.starts_with(cat({"CUPS queue ", queue, ": the queue is not accepting jobs"})));
    }
    SECTION("no scheduler at that address") {
        const auto msg = printTo(cat({"cups:kiosk@", (cups.workspace().path() / "nothing.sock").string()}));
        CHECK(msg.find("the CUPS scheduler is not running") != std::string::npos);
    }
    // No job reached CUPS, let alone the printer.
    CHECK(cups.admin({"lpstat", "-W", "all", "-o", "kiosk"}).out.empty());
    CHECK(printer.jobsReceived() == 0);
}

TEST_CASE("A CUPS server that never answers is an error once the timeout has passed", "[printer][cups]") {
    if (findProgram("lpstat").empty()) {
        WARN("SKIP: lpstat is not installed (package cups-client)");
        std::exit(77);
    }
    // Listens (the kernel completes the connection) and never says a word.
    const int mute = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(mute >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(mute, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(mute, 4) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(mute, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    auto p = parsePrinter(cat({"cups:kiosk@127.0.0.1:", std::to_string(ntohs(a.sin_port))}));
    REQUIRE(p);
    PrintOptions quick;
    quick.timeout = 1s;
    const auto t = Clock::now();
    auto s = print(*p, sampleLayout(true, "QKT1.a.b"), quick);
    const double took = secondsSince(t);
    ::close(mute);
    CHECK(took >= 0.9);
    CHECK(took < 3);
    REQUIRE_FALSE(s);
    INFO(s.error().message);
    CHECK(s.error().message.find("lpstat did not finish within 1 s and was stopped") != std::string::npos);
}
