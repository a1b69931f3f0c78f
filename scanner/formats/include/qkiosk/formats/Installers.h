// Installers that carry their payload in a format of their own, recognised
// from a program's (or package's) whole content: Inno Setup and NSIS
// installers (Windows programs with their setup data appended) and Windows
// Installer packages (MSI, an OLE2 compound file). The scanner needs to know
// them: libclamav unpacks NSIS and MSI but not Inno Setup, whose files would
// otherwise be scanned as the opaque bytes of one program.
// Each check follows the structures the installer itself reads, so that a
// program merely containing the words "Inno Setup" is not taken for one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "qkiosk/formats/Formats.h"

namespace kiosk::formats {

// Format::InnoSetup, Format::Nsis or Format::Msi (Kind::Installer), or nullopt.
std::optional<Identity> identifyInstaller(std::span<const std::uint8_t> content);

// Where the data appended to a Windows program (PE) begins: after the last
// section's bytes. nullopt when `content` is not a PE or has nothing appended.
std::optional<std::uint64_t> programOverlay(std::span<const std::uint8_t> content);

}  // namespace kiosk::formats
