#include "TskVolume.h"

#include <cstring>
#include <set>
#include <string_view>
#include <vector>

#include "qkiosk/formats/Formats.h"
#include "qkiosk/formats/Zisofs.h"
#include "qkiosk/base/Text.h"

namespace kiosk::scan {
namespace {

using proto::ReasonCode;

std::string trimLabel(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    if (s == "NO NAME") return "";
    return printableName(s);
}

// Stable names for the report (libtsk's own vary between versions).
std::string fsName(TSK_FS_TYPE_ENUM type) {
    switch (type) {
        case TSK_FS_TYPE_FAT12: return "fat12";
        case TSK_FS_TYPE_FAT16: return "fat16";
        case TSK_FS_TYPE_FAT32: return "fat32";
        case TSK_FS_TYPE_EXFAT: return "exfat";
        case TSK_FS_TYPE_NTFS: return "ntfs";
        case TSK_FS_TYPE_EXT2: return "ext2";
        case TSK_FS_TYPE_EXT3: return "ext3";
        case TSK_FS_TYPE_EXT4: return "ext4";
        case TSK_FS_TYPE_ISO9660: return "iso9660";
        case TSK_FS_TYPE_HFS: return "hfsplus";
        case TSK_FS_TYPE_HFS_LEGACY: return "hfs";
        default: return tsk_fs_type_toname(type);
    }
}

// A file's default content, or one NTFS data stream, read through libtsk.
ContentReader tskReader(TSK_FS_FILE* file, std::optional<std::pair<TSK_FS_ATTR_TYPE_ENUM, std::uint16_t>> stream) {
    return [file, stream](std::uint64_t off, std::span<std::uint8_t> buf) -> Result<std::size_t> {
        const ssize_t n =
            stream ? tsk_fs_file_read_type(file, stream->first, stream->second, static_cast<TSK_OFF_T>(off),
                                           reinterpret_cast<char*>(buf.data()), buf.size(), TSK_FS_FILE_READ_FLAG_NONE)
                   : tsk_fs_file_read(file, static_cast<TSK_OFF_T>(off), reinterpret_cast<char*>(buf.data()), buf.size(),
                                      TSK_FS_FILE_READ_FLAG_NONE);
        if (n < 0) return makeError(tsk::lastError("file read failed"));
        return static_cast<std::size_t>(n);
    };
}

class Walk {
public:
    Walk(TSK_FS_INFO* fs, VolumeVisitor& v) : fs_(fs), v_(v) {}

    Status run() {
        if (auto s = checkRoot(); !s || stopped_) return s;
        // Depth first, by an explicit stack: no depth limit, no path buffer.
        std::vector<std::pair<TSK_INUM_T, std::string>> pending{{fs_->root_inum, ""}};
        seen_.insert(fs_->root_inum);
        while (!pending.empty() && !stopped_) {
            auto [inum, dirPath] = std::move(pending.back());
            pending.pop_back();
            tsk::DirPtr dir(tsk_fs_dir_open_meta(fs_, inum));
            if (!dir) {
                const auto why = tsk::lastFailure("directory open failed");
                auto s = v_.problem(why.code, dirPath, "directory could not be read: " + why.text);
                if (!s) return s;
                continue;
            }
            const std::size_t count = tsk_fs_dir_getsize(dir.get());
            std::vector<std::pair<TSK_INUM_T, std::string>> subdirs;
            for (std::size_t i = 0; i < count && !stopped_; ++i) {
                // By name first: libtsk's virtual entries ($OrphanFiles and the
                // like) are not on the volume, and loading the orphan folder
                // would make libtsk search the whole volume for orphaned files.
                // (Its inode number is no test: on HFS+ a real file can have it.)
                const TSK_FS_NAME* entry = tsk_fs_dir_get_name(dir.get(), i);
                if (!entry || entry->type == TSK_FS_NAME_TYPE_VIRT || entry->type == TSK_FS_NAME_TYPE_VIRT_DIR ||
                    (entry->flags & TSK_FS_NAME_FLAG_UNALLOC)) {
                    tsk_error_reset();
                    continue;
                }
                tsk::FilePtr file(tsk_fs_dir_get(dir.get(), i));
                if (!file) {
                    const auto why = tsk::lastFailure("entry read failed");
                    auto s = v_.problem(why.code, dirPath, "a directory entry could not be read: " + why.text);
                    if (!s) return s;
                    continue;
                }
                auto s = visit(file.get(), dirPath, subdirs);
                if (!s) return s;
            }
            // Pushed in reverse so that the walk goes in directory order.
            for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) pending.push_back(std::move(*it));
        }
        return {};
    }

private:
    bool isNtfs() const { return TSK_FS_TYPE_ISNTFS(fs_->ftype); }

    // Directories are never sparse, so one that claims more bytes than the
    // whole volume holds is corrupt. libtsk would also map every block it
    // claims before reading the first: most of a minute for a few gigabytes
    // (found by fuzz_media_reader). Such a volume is reported and not walked
    // further.
    bool tooLargeForVolume(const TSK_FS_META* meta) const {
        const auto volume = static_cast<std::uint64_t>(fs_->block_count) * fs_->block_size;
        return meta->size < 0 || static_cast<std::uint64_t>(meta->size) > volume;
    }

    Status impossibleDirectory(const std::string& path, const TSK_FS_META* meta) {
        stopped_ = true;
        return v_.problem(ReasonCode::CorruptFilesystem, path,
                          "directory claims " + std::to_string(meta->size) +
                              " bytes, more than the volume holds: the filesystem is corrupt");
    }

    Status checkRoot() {
        tsk::FilePtr root(tsk_fs_file_open_meta(fs_, nullptr, fs_->root_inum));
        if (!root) {
            tsk_error_reset();   // the walk reports it
            return {};
        }
        // libtsk reads the root as a directory whatever type its inode claims.
        if (root->meta && tooLargeForVolume(root->meta)) return impossibleDirectory("", root->meta);
        return {};
    }

    // NTFS keeps its metadata as files: records 0-15 ($MFT, $Bitmap, ...) and
    // the $Extend folder. They are not user content ($MFT even holds copies of
    // small files' bytes), so they are left out of the scan and the manifest.
    bool isFilesystemMetadata(const TSK_FS_FILE* file, std::string_view dirPath) const {
        if (isNtfs()) {
            if (file->meta && file->meta->addr < 16) return true;
            if (dirPath.starts_with("$Extend/")) return true;
        }
        if (TSK_FS_TYPE_ISHFS(fs_->ftype) && file->meta && file->meta->addr < 16) return true;
        return false;
    }

    Status visit(TSK_FS_FILE* file, const std::string& dirPath, std::vector<std::pair<TSK_INUM_T, std::string>>& subdirs) {
        const TSK_FS_NAME* name = file->name;
        if (!name || !name->name) return {};
        const std::string_view n = name->name;
        if (n == "." || n == ".." || n.empty()) return {};
        const std::string path = dirPath + std::string(n);
        if (!file->meta) {
            const auto why = tsk::lastFailure("no metadata");
            return v_.problem(why.code, path, "the entry's metadata cannot be read: " + why.text);
        }
        if (TSK_FS_IS_DIR_META(file->meta->type) && tooLargeForVolume(file->meta)) return impossibleDirectory(path + "/", file->meta);
        if (isFilesystemMetadata(file, dirPath)) return {};
        // libtsk lists an exFAT volume label as an empty regular file.
        if (TSK_FS_TYPE_ISFAT(fs_->ftype) && file->meta->size == 0 && n.ends_with("(Volume Label Entry)")) return {};

        if (file->meta->type == TSK_FS_META_TYPE_DIR) {
            if (!seen_.insert(file->meta->addr).second)
                return v_.problem(ReasonCode::CorruptFilesystem, path + "/",
                                  "directory loop: this directory was already reached by another path");
            subdirs.emplace_back(file->meta->addr, path + "/");
            if (isNtfs()) return streams(file, path, false);
            return {};
        }
        if (file->meta->type == TSK_FS_META_TYPE_REG) return streams(file, path, true);
        return {};   // links, devices, libtsk's virtual files: no content of their own
    }

    // The default content of a regular file, plus every named data stream
    // (NTFS alternate data streams can hide a whole executable, even on folders).
    Status streams(TSK_FS_FILE* file, const std::string& path, bool regular) {
        if (!isNtfs()) return content(path, static_cast<std::uint64_t>(file->meta->size), tskReader(file, std::nullopt));
        const int count = tsk_fs_file_attr_getsize(file);
        for (int i = 0; i < count; ++i) {
            const TSK_FS_ATTR* attr = tsk_fs_file_attr_get_idx(file, i);
            if (!attr || attr->type != TSK_FS_ATTR_TYPE_NTFS_DATA) continue;
            const bool unnamed = attr->name == nullptr || attr->name[0] == '\0' || std::strcmp(attr->name, "$Data") == 0;
            if (unnamed && !regular) continue;
            const std::string streamPath = unnamed ? path : path + ":" + attr->name;
            if (attr->flags & TSK_FS_ATTR_ENC) {
                auto s = v_.problem(ReasonCode::Unscannable, streamPath, "file is encrypted (NTFS EFS)");
                if (!s) return s;
                continue;
            }
            auto s = content(streamPath, static_cast<std::uint64_t>(attr->size), tskReader(file, std::pair{attr->type, attr->id}));
            if (!s) return s;
        }
        return {};
    }

    // ISO 9660 files compressed with zisofs are shown uncompressed by Linux:
    // that is what is scanned and hashed.
    Status content(const std::string& path, std::uint64_t size, ContentReader read) {
        if (fs_->ftype == TSK_FS_TYPE_ISO9660 && size >= 16) {
            std::uint8_t head[16];
            auto n = read(0, head);
            if (n && *n == sizeof head && formats::zisofsHeader(head)) {
                auto z = formats::ZisofsReader::open(
                    [&read](std::uint64_t off, std::span<std::uint8_t> buf) -> Status {
                        std::size_t done = 0;
                        while (done < buf.size()) {
                            auto got = read(off + done, buf.subspan(done));
                            if (!got) return got.error();
                            if (*got == 0) return makeError("the compressed file ends early");
                            done += *got;
                        }
                        return {};
                    },
                    size);
                if (!z) return v_.problem(ReasonCode::Unscannable, path, "zisofs-compressed file that cannot be decompressed: " + z.error().message);
                auto reader = std::make_shared<formats::ZisofsReader>(std::move(*z));
                return v_.file(path, reader->size(), [reader](std::uint64_t off, std::span<std::uint8_t> buf) {
                    return reader->read(off, buf);
                });
            }
        }
        return v_.file(path, size, read);
    }

    TSK_FS_INFO* fs_;
    VolumeVisitor& v_;
    std::set<TSK_INUM_T> seen_;   // directories reached so far
    bool stopped_ = false;        // an impossible directory was found: the walk stops
};

}  // namespace

std::optional<TskVolume> TskVolume::open(TSK_IMG_INFO* image, std::uint64_t offset) {
    tsk::FsPtr fs(tsk_fs_open_img(image, static_cast<TSK_OFF_T>(offset), TSK_FS_TYPE_DETECT));
    if (!fs) {
        tsk_error_reset();
        return std::nullopt;
    }
    return TskVolume(image, offset, std::move(fs));
}

std::string TskVolume::type() const { return fsName(fs_->ftype); }

std::string TskVolume::label() const {
    char buf[64] = {};
    auto at = [&](TSK_OFF_T off, std::size_t len) -> std::string {
        if (len > sizeof buf || tsk_img_read(image_, static_cast<TSK_OFF_T>(offset_) + off, buf, len) != static_cast<ssize_t>(len)) {
            tsk_error_reset();
            return "";
        }
        return trimLabel(std::string(buf, len));
    };
    switch (fs_->ftype) {
        case TSK_FS_TYPE_FAT12:
        case TSK_FS_TYPE_FAT16: return at(43, 11);
        case TSK_FS_TYPE_FAT32: return at(71, 11);
        case TSK_FS_TYPE_EXT2:
        case TSK_FS_TYPE_EXT3:
        case TSK_FS_TYPE_EXT4: return at(1024 + 120, 16);
        case TSK_FS_TYPE_ISO9660: return at(32768 + 40, 32);
        default: return "";
    }
}

std::uint64_t TskVolume::extentBytes() const {
    return static_cast<std::uint64_t>(fs_->block_count) * fs_->block_size;
}

bool TskVolume::truncated() const { return fs_->last_block_act < fs_->last_block; }

Status TskVolume::walk(VolumeVisitor& visitor) {
    if (fs_->root_inum == TSK_FS_ORPHANDIR_INUM(fs_.get())) {
        // The root directory has the number libtsk keeps for its virtual
        // $OrphanFiles folder (a volume with one inode, e.g. an ISO 9660 with
        // no directory records): libtsk 4.11 would walk the root, search it
        // for orphans, walk the root again and deadlock on its own lock
        // (sleuthkit/sleuthkit#928). Such a volume cannot hold a readable tree.
        return visitor.problem(ReasonCode::ReadError, "",
                               "filesystem metadata is corrupt (the root directory is not a valid inode)");
    }
    return Walk(fs_.get(), visitor).run();
}

}  // namespace kiosk::scan
