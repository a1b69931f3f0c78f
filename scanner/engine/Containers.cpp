#include "Containers.h"

namespace kiosk::scan {

using formats::Format;

const char* const kRarWithoutUnrar = "RAR archive: this libclamav build cannot unpack RAR (no unrar module)";

Opener openerFor(Format f, bool unrar) {
    switch (f) {
        // libclamav unpacks these completely, as far as the scanner can check.
        case Format::Gzip: case Format::Bzip2: case Format::Xz: case Format::Tar: case Format::Cpio:
        case Format::Cab: case Format::Xar:
        // An ISO 9660 image is read like an archive wherever it is: libclamav
        // extracts its files (their zisofs-compressed bytes as they are, which
        // the scanner then decodes) and libarchive reads it too.
        case Format::Iso9660:
            return Opener::Libclamav;
        case Format::Arj: case Format::Nsis: case Format::Msi:
            return Opener::LibclamavOnly;
        case Format::Rar:
            return unrar ? Opener::LibclamavOnly : Opener::Nobody;
        case Format::Zip:
            return Opener::Zip;
        // libclamav opens 7z only for some coders (LZMA, LZMA2, PPMd; not
        // BZip2 or Deflate) and none of these others at all.
        case Format::SevenZip: case Format::Ar: case Format::Rpm: case Format::Lha: case Format::Lzma:
        case Format::Zstd: case Format::Lz4: case Format::Lzip: case Format::Compress:
            return Opener::Libarchive;
        case Format::Zisofs:
            return Opener::Zisofs;
        // What the media reader (libtsk with libewf, libvmdk, libvhdi) reads.
        case Format::Fat: case Format::Ntfs: case Format::Exfat: case Format::Ext: case Format::HfsPlus:
        case Format::Mbr: case Format::Gpt: case Format::Vhd: case Format::Vhdx: case Format::Vmdk:
        case Format::VmdkDescriptor: case Format::Qcow: case Format::Qcow2: case Format::Vdi: case Format::Ewf:
            return Opener::Media;
        // lzop: Debian's libarchive would run the lzop program; WIM: libarchive
        // has no reader; the rest are filesystems no library here reads.
        case Format::Wim: case Format::Lzop: case Format::Udf: case Format::Squashfs: case Format::Cramfs:
        case Format::Romfs: case Format::Xfs: case Format::Btrfs: case Format::F2fs: case Format::Dmg:
        case Format::InnoSetup:
            return Opener::Nobody;
    }
    return Opener::Nobody;
}

bool weakSignature(Format f) {
    switch (f) {
        case Format::Tar: case Format::Cpio: case Format::Lha: case Format::Arj: case Format::Lzma:
        case Format::Compress:
            return true;
        default:
            return false;
    }
}

std::string cannotOpen(const formats::Identity& id) {
    if (id.format == Format::Rar) return kRarWithoutUnrar;
    if (id.format == Format::InnoSetup)
        return "an Inno Setup installer the scanner cannot unpack: the files it would install were not scanned";
    return std::string(id.name) + " the scanner cannot open: nothing inside it was scanned";
}

std::string mediaNotOpened(const formats::Identity& id, bool insideArchive) {
    if (insideArchive)
        return std::string(id.name) + " inside an archive: the kiosk opens disk images only when they are files on the media";
    return std::string(id.name) + " that the media reader did not open: the files in it were not scanned";
}

std::string nothingExtracted(const formats::Identity& id) {
    return std::string(id.name) + " from which nothing could be extracted: its content was not scanned";
}

std::string unreadable(const formats::Identity& id, const std::string& why) {
    return std::string(id.name) + " the scanner could not read to the end (libarchive: " + why + ")";
}

std::string notRecognised(const formats::Identity& id) {
    return std::string(id.name) + " that libarchive does not recognise: its content was not scanned";
}

std::string encryptedMember(const formats::Identity& id) {
    return std::string("an encrypted member of ") + id.name + ": it cannot be scanned";
}

std::string tooLargeToKeep(const formats::Identity& id) {
    return std::string(id.name) + " too large to keep for unpacking within the scan size limit (max_scan_size)";
}

}  // namespace kiosk::scan
