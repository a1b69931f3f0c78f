// Fuzz harness for the installer recognition of scanner/formats/Installers.h:
// a PE walk (sections, resource directory, Inno Setup's offset table, NSIS's
// first header) and an OLE2 header read, on a whole file. It must never read
// outside the input, say only what the header promises, and agree with
// itself: an overlay lies inside the file, and an installer that appends its
// data (Inno Setup, NSIS) is a program.
#include <cstddef>
#include <cstdint>
#include <span>

#include "qkiosk/formats/Installers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kiosk::formats;
    const std::span<const std::uint8_t> input(data, size);
    const auto id = identifyInstaller(input);
    const auto overlay = programOverlay(input);
    if (overlay && (*overlay == 0 || *overlay >= size)) __builtin_trap();
    if (!id) return 0;
    if (id->kind != Kind::Installer || !id->name) __builtin_trap();
    switch (id->format) {
        case Format::Msi:
            if (size < 512 || data[0] != 0xD0) __builtin_trap();
            break;
        case Format::InnoSetup: case Format::Nsis:
            if (size < 64 || data[0] != 'M' || data[1] != 'Z') __builtin_trap();
            break;
        default:
            __builtin_trap();
    }
    return 0;
}
