// The disk inside a virtual machine's disk file (VHD, VHDX, VMDK, qcow, qcow2,
// VDI, EnCase E01), so that the media reader can read it exactly like a
// stick: partitions, filesystems, files. The libyal libraries (libvhdi,
// libvmdk, libqcow, libewf) do the reading through a libbfio handle of our own
// whose callbacks read the file's ByteSource: the sandboxed reader cannot open
// any path. VDI is read by our own code (a header and a block map).
//
// Before a library sees a file, its header and block tables are checked here
// against the file's size, so that a hostile header cannot make the library
// allocate or seek far beyond what the file holds. Whatever the kiosk would
// not read in full is refused with a sentence: an image that needs other files
// (a parent, a backing file, extents, segments), an encrypted image, a variant
// the library cannot read, a disk with unapplied writes or hidden snapshots.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "ByteSource.h"
#include "qkiosk/formats/Formats.h"
#include "qkiosk/protocol/Messages.h"

namespace kiosk::scan {

// A disk that can be read: every readAt() goes to the format's library (or our
// VDI code); its errors are the library's message, made printable.
struct VirtualDisk {
    std::unique_ptr<ByteSource> disk;
    std::uint32_t sectorSize = 512;   // the disk's logical sector size (4096 on some VHDX and E01)
};

// Why a virtual disk is not read: the finding's reason (encrypted-volume,
// unscannable for an image that needs other files or a variant the kiosk
// cannot read, corrupt-filesystem for tables that contradict the file,
// read-error when the file itself cannot be read) and a sentence a security
// officer can act on, e.g. "a differencing VHD that needs its parent disk file".
struct DiskRefusal {
    proto::ReasonCode code;
    std::string detail;
};

using OpenedDisk = std::variant<VirtualDisk, DiskRefusal>;

// The disk a virtual disk file holds, read through `file`, which the caller
// keeps alive (and unchanged) while the returned disk is used. `format` is
// what formats::identify() says the file is; any other format is refused.
// The returned disk may be read from one thread at a time or from several
// (reads are serialised: the libraries keep a current offset).
OpenedDisk openVirtualDisk(const ByteSource& file, formats::Format format);

}  // namespace kiosk::scan
