#include "kiosk/log/SyslogClient.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace kiosk::log {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int msLeft(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, INT_MAX));
}

// Waits for `events` on `fd` until the deadline: the revents (> 0), 0 when the
// time is up, -1 with errno (ECANCELED when `cancelFd` became readable).
int waitFor(int fd, short events, Clock::time_point deadline, int cancelFd) {
    for (;;) {
        pollfd p[2] = {{fd, events, 0}, {cancelFd, POLLIN, 0}};
        const int n = ::poll(p, cancelFd >= 0 ? 2 : 1, msLeft(deadline));
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (cancelFd >= 0 && (p[1].revents & POLLIN)) {
            errno = ECANCELED;
            return -1;
        }
        return n == 0 ? 0 : p[0].revents;
    }
}

std::string errnoText(int e) { return e == ETIMEDOUT ? "timed out" : e == ECANCELED ? "cancelled" : std::strerror(e); }

bool isIpLiteral(const std::string& s) {
    unsigned char buf[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

struct Credentials {
    gnutls_certificate_credentials_t c = nullptr;
    Credentials() = default;
    Credentials(const Credentials&) = delete;
    Credentials& operator=(const Credentials&) = delete;
    ~Credentials() {
        if (c) gnutls_certificate_free_credentials(c);
    }
};

Result<std::unique_ptr<Credentials>> loadCredentials(const SyslogSettings& s) {
    auto cred = std::make_unique<Credentials>();
    if (const int rc = gnutls_certificate_allocate_credentials(&cred->c); rc < 0)
        return makeError(std::string("GnuTLS: ") + gnutls_strerror(rc));
    if (!s.caFile.empty()) {
        const int n = gnutls_certificate_set_x509_trust_file(cred->c, s.caFile.c_str(), GNUTLS_X509_FMT_PEM);
        if (n < 0) return makeError(s.caFile + ": cannot load the CA certificates: " + gnutls_strerror(n));
        if (n == 0) return makeError(s.caFile + ": holds no CA certificate");
    } else if (gnutls_certificate_set_x509_system_trust(cred->c) <= 0) {
        return makeError("the system's CA certificates cannot be loaded (set ca_file in [syslog])");
    }
    if (!s.certFile.empty()) {
        const int rc = gnutls_certificate_set_x509_key_file(cred->c, s.certFile.c_str(), s.keyFile.c_str(), GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            std::string msg = s.certFile;
            msg.append(", ").append(s.keyFile).append(": cannot load the client certificate and key: ").append(gnutls_strerror(rc));
            return makeError(msg);
        }
    }
    return cred;
}

}  // namespace

struct SyslogClient::Impl {
    int fd = -1;
    int cancelFd = -1;
    std::unique_ptr<Credentials> cred;
    gnutls_session_t tls = nullptr;
    Clock::time_point deadline;   // of the step under way
    bool peek = false;            // TLS reads that would wait say EAGAIN instead
    int transportErrno = 0;       // why the last push or pull failed
    bool failed = false;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        if (tls) {
            if (!failed && fd >= 0) {
                // close_notify, briefly: the collector learns the end was meant.
                deadline = Clock::now() + milliseconds(500);
                (void)gnutls_bye(tls, GNUTLS_SHUT_WR);
            }
            gnutls_deinit(tls);
        }
        if (fd >= 0) ::close(fd);
    }

    ssize_t transportError(int e) {
        transportErrno = e;
        if (e != EAGAIN) failed = true;
        gnutls_transport_set_errno(tls, e);
        errno = e;
        return -1;
    }

    std::string tlsError(int rc) const {
        if ((rc == GNUTLS_E_PUSH_ERROR || rc == GNUTLS_E_PULL_ERROR) && transportErrno) return errnoText(transportErrno);
        return gnutls_strerror(rc);
    }

    static ssize_t push(gnutls_transport_ptr_t p, const void* data, size_t size) {
        auto* self = static_cast<Impl*>(p);
        for (;;) {
            const ssize_t n = ::send(self->fd, data, size, MSG_NOSIGNAL);
            if (n >= 0) return n;
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return self->transportError(errno);
            const int w = waitFor(self->fd, POLLOUT, self->deadline, self->cancelFd);
            if (w < 0) return self->transportError(errno);
            if (w == 0) return self->transportError(ETIMEDOUT);
        }
    }

    static ssize_t pull(gnutls_transport_ptr_t p, void* data, size_t size) {
        auto* self = static_cast<Impl*>(p);
        for (;;) {
            const ssize_t n = ::recv(self->fd, data, size, 0);
            if (n >= 0) return n;
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return self->transportError(errno);
            if (self->peek) return self->transportError(EAGAIN);
            const int w = waitFor(self->fd, POLLIN, self->deadline, self->cancelFd);
            if (w < 0) return self->transportError(errno);
            if (w == 0) return self->transportError(ETIMEDOUT);
        }
    }

    static int pullTimeout(gnutls_transport_ptr_t p, unsigned int ms) {
        auto* self = static_cast<Impl*>(p);
        auto until = self->deadline;
        if (ms != GNUTLS_INDEFINITE_TIMEOUT) until = std::min(until, Clock::now() + milliseconds(ms));
        if (self->peek) until = Clock::now();
        const int w = waitFor(self->fd, POLLIN, until, self->cancelFd);
        if (w < 0) return static_cast<int>(self->transportError(errno));
        return w > 0 ? 1 : 0;
    }
};

SyslogClient::SyslogClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyslogClient::~SyslogClient() = default;

Status SyslogClient::checkCredentials(const SyslogSettings& s) {
    if (!s.tls) return {};
    auto c = loadCredentials(s);
    if (!c) return c.error();
    return {};
}

Result<std::unique_ptr<SyslogClient>> SyslogClient::connect(const SyslogSettings& s, std::chrono::milliseconds timeout,
                                                            int cancelFd) {
    const auto deadline = Clock::now() + timeout;
    auto hp = splitHostPort(s.target);
    if (!hp) return hp.error();
    auto impl = std::make_unique<Impl>();
    impl->cancelFd = cancelFd;
    impl->deadline = deadline;
    if (s.tls) {
        // Loaded for every connection: a certificate renewed on disk is used at the next one.
        auto cred = loadCredentials(s);
        if (!cred) return cred.error();
        impl->cred = std::move(*cred);
    }

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(hp->host.c_str(), hp->port.c_str(), &hints, &found); rc != 0)
        return makeError("cannot resolve " + hp->host + ": " + ::gai_strerror(rc));
    std::string why = "no address";
    for (addrinfo* a = found; a && impl->fd < 0; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            why = std::strerror(errno);
            continue;
        }
        int err = 0;
        if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                const int w = waitFor(fd, POLLOUT, deadline, cancelFd);
                if (w < 0) err = errno;
                else if (w == 0) err = ETIMEDOUT;
                else {
                    socklen_t len = sizeof err;
                    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                }
            }
        }
        if (err == 0) {
            impl->fd = fd;
        } else {
            why = errnoText(err);
            ::close(fd);
            if (err == ECANCELED) break;
        }
    }
    ::freeaddrinfo(found);
    if (impl->fd < 0) return makeError("cannot connect: " + why);

    if (s.tls) {
        if (const int rc = gnutls_init(&impl->tls, GNUTLS_CLIENT); rc < 0) return makeError(std::string("GnuTLS: ") + gnutls_strerror(rc));
        const std::string name = s.serverName.empty() ? hp->host : s.serverName;
        int rc = gnutls_set_default_priority(impl->tls);
        if (rc >= 0) rc = gnutls_credentials_set(impl->tls, GNUTLS_CRD_CERTIFICATE, impl->cred->c);
        if (rc >= 0 && !isIpLiteral(name)) rc = gnutls_server_name_set(impl->tls, GNUTLS_NAME_DNS, name.data(), name.size());
        if (rc < 0) return makeError(std::string("GnuTLS: ") + gnutls_strerror(rc));
        // The handshake fails unless the certificate chains to the CAs and names `name`.
        gnutls_session_set_verify_cert(impl->tls, name.c_str(), 0);
        gnutls_transport_set_ptr(impl->tls, impl.get());
        gnutls_transport_set_push_function(impl->tls, &Impl::push);
        gnutls_transport_set_pull_function(impl->tls, &Impl::pull);
        gnutls_transport_set_pull_timeout_function(impl->tls, &Impl::pullTimeout);
        do {
            rc = gnutls_handshake(impl->tls);
        } while (rc < 0 && !gnutls_error_is_fatal(rc) && Clock::now() < deadline);
        if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
            impl->failed = true;
            gnutls_datum_t text{};
            std::string detail = "verification failed";
            if (gnutls_certificate_verification_status_print(gnutls_session_get_verify_cert_status(impl->tls), GNUTLS_CRT_X509,
                                                             &text, 0) >= 0) {
                detail.assign(reinterpret_cast<const char*>(text.data), text.size);
                gnutls_free(text.data);
                while (!detail.empty() && (detail.back() == ' ' || detail.back() == '\0')) detail.pop_back();
            }
            std::string msg = "TLS: the collector's certificate is refused for \"";
            msg.append(name).append("\": ").append(detail);
            return makeError(msg);
        }
        if (rc < 0) {
            impl->failed = true;
            return makeError("TLS handshake: " + impl->tlsError(rc));
        }
    }
    return std::unique_ptr<SyslogClient>(new SyslogClient(std::move(impl)));
}

Status SyslogClient::send(std::string_view bytes, std::chrono::milliseconds timeout) {
    Impl& m = *impl_;
    m.deadline = Clock::now() + timeout;
    m.peek = false;
    std::size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n;
        if (m.tls) {
            n = gnutls_record_send(m.tls, bytes.data() + off, std::min<std::size_t>(bytes.size() - off, 16384));
            if (n == GNUTLS_E_INTERRUPTED) continue;
            if (n < 0) {
                m.failed = true;
                return makeError("TLS send: " + m.tlsError(static_cast<int>(n)));
            }
        } else {
            n = ::send(m.fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                int e = errno;
                if (e == EAGAIN) {
                    const int w = waitFor(m.fd, POLLOUT, m.deadline, m.cancelFd);
                    if (w > 0) continue;
                    e = w < 0 ? errno : ETIMEDOUT;
                }
                m.failed = true;
                return makeError("send: " + errnoText(e));
            }
        }
        off += static_cast<std::size_t>(n);
    }
    return {};
}

Status SyslogClient::waitAcknowledged(std::chrono::milliseconds timeout) {
    Impl& m = *impl_;
    const auto deadline = Clock::now() + timeout;
    int pauseMs = 1;
    for (;;) {
        int unsent = 0;
        if (::ioctl(m.fd, SIOCOUTQ, &unsent) != 0) return makeError(std::string("SIOCOUTQ: ") + std::strerror(errno));
        tcp_info ti{};
        socklen_t len = sizeof ti;
        if (::getsockopt(m.fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return makeError(std::string("TCP_INFO: ") + std::strerror(errno));
        if (unsent == 0 && ti.tcpi_unacked == 0) return {};
        if (ti.tcpi_state != TCP_ESTABLISHED && ti.tcpi_state != TCP_CLOSE_WAIT) {
            m.failed = true;
            int err = 0;
            socklen_t elen = sizeof err;
            (void)::getsockopt(m.fd, SOL_SOCKET, SO_ERROR, &err, &elen);
            return makeError("the connection ended before the collector acknowledged " + std::to_string(unsent) + " bytes" +
                             (err ? std::string(" (") + std::strerror(err) + ")" : std::string()));
        }
        if (Clock::now() >= deadline) {
            m.failed = true;
            return makeError("the collector did not acknowledge " + std::to_string(unsent) + " bytes within " +
                             std::to_string(timeout.count() / 1000) + " s");
        }
        // Nothing to wait on but time; a cancel still ends the wait.
        if (m.cancelFd >= 0) {
            pollfd p{m.cancelFd, POLLIN, 0};
            if (::poll(&p, 1, pauseMs) > 0) {
                m.failed = true;
                return makeError("cancelled");
            }
        } else {
            ::usleep(static_cast<useconds_t>(pauseMs) * 1000);
        }
        pauseMs = std::min(pauseMs * 2, 50);
    }
}

bool SyslogClient::broken(std::chrono::milliseconds wait) {
    Impl& m = *impl_;
    if (m.failed) return true;
    const int revents = waitFor(m.fd, POLLIN | POLLRDHUP, Clock::now() + wait, m.cancelFd);
    if (revents < 0) return true;
    if (revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) return true;
    if (!(revents & POLLIN)) return false;
    // A collector says nothing on a syslog stream: what is readable is its
    // end, or (TLS) an alert or a session ticket.
    char buf[4096];
    if (!m.tls) {
        const ssize_t n = ::recv(m.fd, buf, sizeof buf, MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
    }
    m.peek = true;
    m.deadline = Clock::now();
    const ssize_t n = gnutls_record_recv(m.tls, buf, sizeof buf);
    m.peek = false;
    if (n == 0) return true;
    if (n < 0 && n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(static_cast<int>(n))) {
        m.failed = true;
        return true;
    }
    return false;
}

}  // namespace kiosk::log
