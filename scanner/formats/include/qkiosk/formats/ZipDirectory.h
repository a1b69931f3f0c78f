// A zip archive's central directory, read from the archive's bytes: the list
// of members the archive itself declares, with their sizes, methods and flags.
// The scanner compares it with the members libclamav really extracted, so
// that a member libclamav skipped (a compression method it lacks) is noticed.
// Bounded: it reads only the end record, the zip64 records and the
// directory, never member data, and stops at `maxMembers`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::formats {

struct ZipMember {
    std::string name;                  // as stored: raw bytes, folders separated by '/'
    std::uint16_t method = 0;          // 0 stored, 8 deflate, 12 bzip2, 14 lzma, 98 PPMd, ...
    std::uint16_t flags = 0;           // general purpose bit flag
    std::uint32_t crc32 = 0;
    std::uint64_t compressedSize = 0;
    std::uint64_t size = 0;            // uncompressed
    std::uint64_t localHeaderOffset = 0;

    bool encrypted() const { return (flags & 1) != 0; }
    bool directory() const { return !name.empty() && (name.back() == '/' || name.back() == '\\'); }
    // What a reader would have to extract: a file with bytes.
    bool hasData() const { return !directory() && size > 0; }
    // The name without its folders, as libclamav names an extracted member.
    std::string baseName() const;
};

struct ZipDirectory {
    std::vector<ZipMember> members;
    // Bytes before the archive (a self-extracting stub): the directory's
    // offsets are relative to the archive, which starts here in the content.
    std::uint64_t archiveStart = 0;
};

// Reads the directory of the zip archive that ends `content`. An error says
// what is missing or damaged ("no end of central directory record", "the
// central directory runs past the end of the archive", ...).
Result<ZipDirectory> readZipDirectory(std::span<const std::uint8_t> content, std::size_t maxMembers);

}  // namespace kiosk::formats
