// libqrencode behind a plain matrix (kiosk/ticket/QrCode.h).
#include "kiosk/ticket/QrCode.h"

#include <qrencode.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace kiosk::ticket {

namespace {

struct QrFree {
    void operator()(QRcode* q) const { QRcode_free(q); }
};

}  // namespace

Result<QrCode> encodeQr(const std::string& payload) {
    if (payload.empty()) return makeError("QR code: the payload is empty");
    if (payload.size() > kQrMaxBytes)
        return makeError("QR code: " + std::to_string(payload.size()) +
                         " bytes do not fit in a QR code at error correction level M (at most 2331)");
    // 8-bit mode straight from the bytes (QRcode_encodeString8bit would stop at a NUL).
    errno = 0;
    std::unique_ptr<QRcode, QrFree> q(QRcode_encodeData(static_cast<int>(payload.size()),
                                                       reinterpret_cast<const unsigned char*>(payload.data()),
                                                       0, QR_ECLEVEL_M));
    if (!q) {
        const int err = errno;
        if (err == ERANGE)
            return makeError("QR code: " + std::to_string(payload.size()) +
                             " bytes do not fit in a QR code at error correction level M (at most 2331)");
        return makeError(std::string("QR code: cannot encode: ") + std::strerror(err ? err : EINVAL));
    }
    QrCode code;
    code.version = q->version;
    code.size = q->width;
    const auto n = static_cast<std::size_t>(q->width) * static_cast<std::size_t>(q->width);
    code.dark.resize(n);
    // libqrencode's bit 0 of each byte is the module's colour; the other bits describe its role.
    for (std::size_t i = 0; i < n; ++i) code.dark[i] = q->data[i] & 1;
    return code;
}

}  // namespace kiosk::ticket
