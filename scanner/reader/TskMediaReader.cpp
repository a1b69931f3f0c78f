#include "TskMediaReader.h"

#include <tsk/libtsk.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "VolumeProbe.h"
#include "qkiosk/protocol/Text.h"

namespace kiosk::scan {
namespace {

using proto::ReasonCode;

// TSK's external image: our struct begins with TSK_IMG_INFO, TSK reads through
// `readAt`, and TSK's close hook frees the struct.
struct FdImage {
    TSK_IMG_INFO info;  // must stay first
    int fd;
};

ssize_t readAt(TSK_IMG_INFO* img, TSK_OFF_T off, char* buf, size_t len) {
    auto* self = reinterpret_cast<FdImage*>(img);
    std::size_t done = 0;
    while (done < len) {
        const ssize_t n = ::pread(self->fd, buf + done, len - done, off + static_cast<TSK_OFF_T>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            tsk_error_reset();
            tsk_error_set_errno(TSK_ERR_IMG_READ);
            tsk_error_set_errstr("pread at %lld: %s", static_cast<long long>(off), std::strerror(errno));
            return -1;
        }
        if (n == 0) break;  // end of a truncated image or a vanished device
        done += static_cast<std::size_t>(n);
    }
    if (done < len) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("short read at %lld (media ends early)", static_cast<long long>(off));
        return -1;
    }
    return static_cast<ssize_t>(done);
}

void closeImage(TSK_IMG_INFO* img) { std::free(img); }
void statImage(TSK_IMG_INFO*, FILE*) {}

struct ImgDeleter {
    void operator()(TSK_IMG_INFO* p) const { tsk_img_close(p); }
};
struct VsDeleter {
    void operator()(TSK_VS_INFO* p) const { tsk_vs_close(p); }
};
struct FsDeleter {
    void operator()(TSK_FS_INFO* p) const { tsk_fs_close(p); }
};
struct FileDeleter {
    void operator()(TSK_FS_FILE* p) const { tsk_fs_file_close(p); }
};
using ImgPtr = std::unique_ptr<TSK_IMG_INFO, ImgDeleter>;
using VsPtr = std::unique_ptr<TSK_VS_INFO, VsDeleter>;
using FsPtr = std::unique_ptr<TSK_FS_INFO, FsDeleter>;
using FilePtr = std::unique_ptr<TSK_FS_FILE, FileDeleter>;

std::string tskError(const char* fallback) {
    const char* e = tsk_error_get();
    std::string s = (e && *e) ? e : fallback;
    tsk_error_reset();
    // TSK's messages end in newlines and may quote hostile bytes.
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    for (auto& c : s)
        if (c == '\n') c = ' ';
    return printableName(s);
}

ImgPtr openImage(int fd, std::uint64_t size) {
    auto* ext = static_cast<FdImage*>(std::calloc(1, sizeof(FdImage)));
    if (!ext) return nullptr;
    ext->fd = fd;
    TSK_IMG_INFO* img = tsk_img_open_external(ext, static_cast<TSK_OFF_T>(size), 512, readAt, closeImage, statImage);
    if (!img) std::free(ext);
    return ImgPtr(img);
}

std::string trimLabel(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    if (s == "NO NAME") return "";
    return printableName(s);
}

// The label where it sits in a fixed place; "" where TSK would need a walk.
std::string readLabel(TSK_IMG_INFO* img, const TSK_FS_INFO* fs, TSK_OFF_T offset) {
    char buf[64] = {};
    auto at = [&](TSK_OFF_T off, std::size_t len) -> std::string {
        if (len > sizeof buf || tsk_img_read(img, offset + off, buf, len) != static_cast<ssize_t>(len)) {
            tsk_error_reset();
            return "";
        }
        return trimLabel(std::string(buf, len));
    };
    switch (fs->ftype) {
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

// Stable names for the report (TSK's own vary between versions).
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

class Walker {
public:
    Walker(MediaSink& sink, TSK_FS_INFO* fs, std::uint32_t index) : sink_(sink), fs_(fs), index_(index) {}

    Status walk() {
        if (auto s = checkRoot(); !s || corrupt_) return s;
        const auto rc = tsk_fs_dir_walk(fs_, fs_->root_inum,
                                        static_cast<TSK_FS_DIR_WALK_FLAG_ENUM>(TSK_FS_DIR_WALK_FLAG_ALLOC |
                                                                               TSK_FS_DIR_WALK_FLAG_RECURSE |
                                                                               TSK_FS_DIR_WALK_FLAG_NOORPHAN),
                                        &Walker::callback, this);
        if (!sinkStatus_ || corrupt_) return sinkStatus_;  // a corrupt directory was reported already
        if (rc != 0) {
            auto s = sink_.finding(ReasonCode::ReadError, prefix(), "directory tree could not be read completely: " +
                                                                       tskError("directory walk failed"));
            if (!s) return s;
        }
        return {};
    }

private:
    static TSK_WALK_RET_ENUM callback(TSK_FS_FILE* file, const char* path, void* self) {
        auto* w = static_cast<Walker*>(self);
        w->sinkStatus_ = w->visit(file, path ? path : "");
        return w->sinkStatus_ && !w->corrupt_ ? TSK_WALK_CONT : TSK_WALK_STOP;
    }

    // Directories are never sparse, so one that claims more bytes than the
    // whole volume holds is corrupt. libtsk would also map every block it
    // claims before reading the first: most of a minute for a few gigabytes (found by
    // fuzz_media_reader). Such a volume is reported and its walk stops; the
    // finding fails the media.
    bool impossibleDirectory(const TSK_FS_META* meta) const {
        if (!meta || !TSK_FS_IS_DIR_META(meta->type)) return false;
        return tooLargeForVolume(meta);
    }

    bool tooLargeForVolume(const TSK_FS_META* meta) const {
        const auto volume = static_cast<std::uint64_t>(fs_->block_count) * fs_->block_size;
        return meta->size < 0 || static_cast<std::uint64_t>(meta->size) > volume;
    }

    Status reportImpossibleDirectory(const std::string& path, const TSK_FS_META* meta) {
        corrupt_ = true;
        return sink_.finding(ReasonCode::ReadError, path,
                             "directory claims " + std::to_string(meta->size) +
                                 " bytes, more than the volume holds: the filesystem is corrupt");
    }

    Status checkRoot() {
        FilePtr root(tsk_fs_file_open_meta(fs_, nullptr, fs_->root_inum));
        if (!root) {
            tsk_error_reset();  // the walk reports it
            return {};
        }
        // libtsk reads the root as a directory whatever type its inode claims.
        if (root->meta && tooLargeForVolume(root->meta)) return reportImpossibleDirectory(prefix(), root->meta);
        return {};
    }

    std::string prefix() const { return "/p" + std::to_string(index_) + "/"; }

    bool isNtfs() const { return TSK_FS_TYPE_ISNTFS(fs_->ftype); }

    // NTFS keeps its metadata as files: records 0-15 ($MFT, $Bitmap, ...) and the
    // $Extend folder. They are not user content ($MFT even holds copies of
    // small files' bytes), so they are left out of the scan and the manifest.
    bool isFilesystemMetadata(const TSK_FS_FILE* file, std::string_view parent) const {
        if (isNtfs()) {
            if (file->meta && file->meta->addr < 16) return true;
            if (parent.starts_with("$Extend/") || parent == "$Extend/") return true;
        }
        if (TSK_FS_TYPE_ISHFS(fs_->ftype) && file->meta && file->meta->addr < 16) return true;
        return false;
    }

    Status visit(TSK_FS_FILE* file, const std::string& parent) {
        if (!file->name || !file->meta) return {};
        const std::string_view name = file->name->name ? file->name->name : "";
        if (name == "." || name == "..") return {};
        const std::string path = prefix() + printableName(parent) + printableName(name);
        // Checked before libtsk recurses into it, which it does after this callback.
        if (impossibleDirectory(file->meta)) return reportImpossibleDirectory(path + "/", file->meta);
        if (isFilesystemMetadata(file, parent)) return {};

        // TSK lists a FAT volume label as an empty regular file.
        if (TSK_FS_TYPE_ISFAT(fs_->ftype) && file->meta->size == 0 && name.ends_with("(Volume Label Entry)")) return {};
        if (file->meta->type == TSK_FS_META_TYPE_REG) return visitStreams(file, path, true);
        if (file->meta->type == TSK_FS_META_TYPE_DIR && isNtfs()) return visitStreams(file, path, false);
        return {};  // links, devices, virtual files: no content of their own
    }

    // The default content of a regular file, plus every named data stream
    // (NTFS alternate data streams can hide a whole executable, even on folders).
    Status visitStreams(TSK_FS_FILE* file, const std::string& path, bool regular) {
        if (!isNtfs()) {
            if (!regular) return {};
            const auto size = static_cast<std::uint64_t>(file->meta->size);
            return sink_.file(index_ ? index_ : 1, path, size, [file](std::uint64_t off, std::span<std::uint8_t> buf) -> Result<std::size_t> {
                const ssize_t n = tsk_fs_file_read(file, static_cast<TSK_OFF_T>(off), reinterpret_cast<char*>(buf.data()),
                                                   buf.size(), TSK_FS_FILE_READ_FLAG_NONE);
                if (n < 0) return makeError(tskError("file read failed"));
                return static_cast<std::size_t>(n);
            });
        }
        const int count = tsk_fs_file_attr_getsize(file);
        for (int i = 0; i < count; ++i) {
            const TSK_FS_ATTR* attr = tsk_fs_file_attr_get_idx(file, i);
            if (!attr || attr->type != TSK_FS_ATTR_TYPE_NTFS_DATA) continue;
            const bool unnamed = attr->name == nullptr || attr->name[0] == '\0' || std::strcmp(attr->name, "$Data") == 0;
            if (unnamed && !regular) continue;
            const std::string streamPath = unnamed ? path : path + ":" + printableName(attr->name);
            if (attr->flags & TSK_FS_ATTR_ENC) {
                auto s = sink_.finding(ReasonCode::Unscannable, streamPath, "file is encrypted (NTFS EFS)");
                if (!s) return s;
                continue;
            }
            const auto type = attr->type;
            const auto id = attr->id;
            const auto size = static_cast<std::uint64_t>(attr->size);
            auto s = sink_.file(index_ ? index_ : 1, streamPath, size, [file, type, id](std::uint64_t off, std::span<std::uint8_t> buf) -> Result<std::size_t> {
                const ssize_t n = tsk_fs_file_read_type(file, type, id, static_cast<TSK_OFF_T>(off),
                                                        reinterpret_cast<char*>(buf.data()), buf.size(),
                                                        TSK_FS_FILE_READ_FLAG_NONE);
                if (n < 0) return makeError(tskError("stream read failed"));
                return static_cast<std::size_t>(n);
            });
            if (!s) return s;
        }
        return {};
    }

    MediaSink& sink_;
    TSK_FS_INFO* fs_;
    std::uint32_t index_;
    Status sinkStatus_{};
    bool corrupt_ = false;   // an impossible directory was found: the walk stops
};

std::vector<std::uint8_t> readHead(TSK_IMG_INFO* img, std::uint64_t offset, std::uint64_t length) {
    std::vector<std::uint8_t> head(std::min<std::uint64_t>(length, kProbeBytes));
    // Read sector by sector so a bad sector in the middle still leaves what came before.
    std::size_t got = 0;
    while (got < head.size()) {
        const std::size_t chunk = std::min<std::size_t>(4096, head.size() - got);
        if (tsk_img_read(img, static_cast<TSK_OFF_T>(offset + got), reinterpret_cast<char*>(head.data() + got), chunk) !=
            static_cast<ssize_t>(chunk)) {
            tsk_error_reset();
            break;
        }
        got += chunk;
    }
    head.resize(got);
    return head;
}

// One volume: refuse encrypted ones, open the filesystem, walk it.
Status readVolume(MediaSink& sink, TSK_IMG_INFO* img, std::uint32_t index, const std::string& scheme,
                  std::uint64_t offset, std::uint64_t length) {
    const std::string where = "/p" + std::to_string(index) + "/";
    proto::Partition part{index + (index == 0 ? 1u : 0u), index, where, scheme, "", "", offset, length};
    const auto head = readHead(img, offset, length);
    if (head.empty() && length > 0) {
        auto s = sink.partition(part);
        if (!s) return s;
        return sink.finding(ReasonCode::ReadError, where, "the start of the volume cannot be read");
    }
    if (auto enc = probeEncryption(head)) {
        part.fs = "encrypted";
        auto s = sink.partition(part);
        if (!s) return s;
        return sink.finding(enc->code, where, enc->detail);
    }
    FsPtr fs(tsk_fs_open_img(img, static_cast<TSK_OFF_T>(offset), TSK_FS_TYPE_DETECT));
    if (!fs) {
        tsk_error_reset();
        const auto why = explainUnreadable(head);
        auto s = sink.partition(part);
        if (!s) return s;
        return sink.finding(why.code, where, why.detail);
    }
    part.fs = fsName(fs->ftype);
    part.label = readLabel(img, fs.get(), static_cast<TSK_OFF_T>(offset));
    auto s = sink.partition(part);
    if (!s) return s;
    if (fs->last_block_act < fs->last_block) {
        // TSK opens a cut-off filesystem happily; files in the missing part would
        // simply not be found, so the volume as a whole cannot pass.
        s = sink.finding(ReasonCode::ReadError, where,
                         "filesystem is larger than the media holds (truncated image or failing device)");
        if (!s) return s;
    }
    if (fs->root_inum == TSK_FS_ORPHANDIR_INUM(fs.get())) {
        // The root directory has the number libtsk keeps for its virtual
        // $OrphanFiles folder (a volume with one inode, e.g. an ISO 9660 with
        // no directory records): libtsk 4.11 would walk the root, search it
        // for orphans, walk the root again and deadlock on its own lock
        // (sleuthkit/sleuthkit#928). Such a volume cannot hold a readable tree.
        return sink.finding(ReasonCode::ReadError, where,
                            "filesystem metadata is corrupt (the root directory is not a valid inode)");
    }
    Walker walker(sink, fs.get(), index);
    return walker.walk();
}

}  // namespace

Status TskMediaReader::run(MediaSink& sink) {
    tsk_error_reset();
    ImgPtr img = openImage(fd_, size_);
    if (!img) return sink.finding(ReasonCode::ReadError, "/", "media cannot be opened: " + tskError("open failed"));
    if (size_ == 0) return sink.finding(ReasonCode::UnknownFilesystem, "/", "the media is empty (0 bytes)");

    VsPtr vs(tsk_vs_open(img.get(), 0, TSK_VS_TYPE_DETECT));
    tsk_error_reset();
    std::uint32_t index = 0;
    if (vs) {
        const std::string scheme = vs->vstype == TSK_VS_TYPE_GPT ? "gpt" : vs->vstype == TSK_VS_TYPE_DOS ? "mbr"
                                                                                                          : tsk_vs_type_toname(vs->vstype);
        for (TSK_PNUM_T i = 0; i < vs->part_count; ++i) {
            const TSK_VS_PART_INFO* p = tsk_vs_part_get(vs.get(), i);
            if (!p || !(p->flags & TSK_VS_PART_FLAG_ALLOC)) continue;
            const std::uint64_t offset = static_cast<std::uint64_t>(p->start) * vs->block_size;
            std::uint64_t length = static_cast<std::uint64_t>(p->len) * vs->block_size;
            ++index;
            if (offset >= size_) {
                auto s = sink.partition(proto::Partition{index, index, "/p" + std::to_string(index) + "/", scheme, "", "", offset, length});
                if (!s) return s;
                s = sink.finding(ReasonCode::ReadError, "/p" + std::to_string(index) + "/",
                                 "partition lies beyond the end of the media (truncated image?)");
                if (!s) return s;
                continue;
            }
            if (offset + length > size_) {
                auto s = sink.finding(ReasonCode::ReadError, "/p" + std::to_string(index) + "/",
                                      "partition runs past the end of the media (truncated image?)");
                if (!s) return s;
            }
            auto s = readVolume(sink, img.get(), index, scheme, offset, length);
            if (!s) return s;
        }
    }
    if (index == 0) {
        // No partition table (or an empty one): a bare filesystem, as sticks often are.
        return readVolume(sink, img.get(), 0, "none", 0, size_);
    }
    return {};
}

}  // namespace kiosk::scan
