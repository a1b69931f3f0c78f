#include "MediaReader.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "FatVolume.h"
#include "Layout.h"
#include "TskImage.h"
#include "TskVolume.h"
#include "VirtualDisk.h"
#include "VolumeProbe.h"
#include "qkiosk/formats/Formats.h"
#include "qkiosk/base/Text.h"

namespace kiosk::scan {
namespace {

using proto::ReasonCode;

// What a file's content is, from its first and last bytes.
std::optional<formats::Identity> identifyContent(const ContentReader& read, std::uint64_t size) {
    if (size < 512) return std::nullopt;   // too small to hold any image
    std::vector<std::uint8_t> head(static_cast<std::size_t>(std::min<std::uint64_t>(size, formats::kHeadBytes)));
    std::size_t got = 0;
    while (got < head.size()) {
        auto n = read(got, std::span(head.data() + got, head.size() - got));
        if (!n || *n == 0) break;   // the sink reports what cannot be read
        got += *n;
    }
    head.resize(got);
    std::vector<std::uint8_t> tail(formats::kTailBytes);
    std::span<const std::uint8_t> tailSpan;
    if (size <= head.size()) {
        tailSpan = std::span<const std::uint8_t>(head).last(std::min(head.size(), formats::kTailBytes));
    } else {
        std::size_t t = 0;
        while (t < tail.size()) {
            auto n = read(size - tail.size() + t, std::span(tail.data() + t, tail.size() - t));
            if (!n || *n == 0) break;
            t += *n;
        }
        if (t == tail.size()) tailSpan = tail;
    }
    return formats::identify(head, tailSpan, size);
}

// Where the volumes of a media begin: "" for the stick, "<image path>/" for an image on it.
std::string volumeRoot(const std::string& base) { return base.empty() ? base : base + "/"; }

class Session {
public:
    Session(MediaSink& sink, ImageLimits limits) : sink_(sink), limits_(limits) {}

    // One media: the stick itself (base "") or a disk image file on it (base
    // = the file's path). Its volumes are "/pN/", or "<base>//pN/".
    Status readMedia(const ByteSource& src, const std::string& base, unsigned depth, std::uint32_t sectorSize) {
        const std::string where = base.empty() ? "/" : base;
        if (src.size() == 0) return sink_.finding(ReasonCode::UnknownFilesystem, where, "the media is empty (0 bytes)");
        tsk::ImgPtr img = tsk::openImage(src);
        if (!img) return sink_.finding(ReasonCode::ReadError, where, "media cannot be opened: " + tsk::lastError("open failed"));

        const Layout layout = readLayout(src, sectorSize);
        if (auto s = report(layout.findings, base); !s) return s;
        std::set<std::string> schemes;
        for (const auto& v : layout.volumes) schemes.insert(v.scheme);
        // More than one scheme: more than one reading, and each must be read.
        const bool readings = schemes.size() > 1;
        std::uint32_t nextIndex = 1;
        std::vector<const VolumeSpan*> read;
        for (const auto& v : layout.volumes) {
            nextIndex = std::max(nextIndex, v.index + 1);
            if (coveredByAnother(v, layout.volumes, read)) continue;
            read.push_back(&v);
            auto s = readVolume(src, img.get(), v, base, depth, readings);
            if (!s) return s;
        }
        const Layout hidden = findHiddenVolumes(src, usedExtents(layout), nextIndex);
        if (auto s = report(hidden.findings, base); !s) return s;
        for (const auto& v : hidden.volumes) {
            auto s = readVolume(src, img.get(), v, base, depth, true);
            if (!s) return s;
        }
        return {};
    }

private:
    // Turns one volume's files and problems into the sink's, with full paths;
    // a file that is itself a disk image is read as media of its own.
    class Visitor : public VolumeVisitor {
    public:
        Visitor(Session& session, std::uint32_t id, std::string root, unsigned depth)
            : s_(session), id_(id), root_(std::move(root)), depth_(depth) {}

        Status file(const std::string& path, std::uint64_t size, const ContentReader& read) override {
            const std::string full = root_ + printableName(path);
            const auto identity = identifyContent(read, size);
            const bool media = identity && formats::isMedia(*identity);
            if (auto st = s_.sink_.file(id_, full, size, media, read); !st) return st;
            if (media) return s_.readImage(full, size, read, *identity, depth_);
            return {};
        }

        Status problem(ReasonCode code, const std::string& path, const std::string& detail) override {
            return s_.sink_.finding(code, root_ + printableName(path), detail);
        }

    private:
        Session& s_;
        std::uint32_t id_;
        std::string root_;
        unsigned depth_;
    };

    Status report(const std::vector<LayoutFinding>& findings, const std::string& base) {
        for (const auto& f : findings) {
            auto s = sink_.finding(f.code, f.path == "/" ? (base.empty() ? "/" : base) : volumeRoot(base) + f.path, f.detail);
            if (!s) return s;
        }
        return {};
    }

    // Volumes that need no reading of their own: the same filesystem at the
    // same place as one read already (an isohybrid ISO is the bare volume and
    // partition 1), or a partition with no filesystem that lies inside what
    // another reading's filesystem claims (xorriso's "Gap" partitions inside
    // its ISO): those bytes are read through that filesystem.
    static bool coveredByAnother(const VolumeSpan& v, const std::vector<VolumeSpan>& all,
                                 const std::vector<const VolumeSpan*>& read) {
        for (const auto* r : read)
            if (r->offset == v.offset && !v.content.empty() && r->content == v.content) return true;
        if (!v.content.empty() || v.index == 0) return false;
        for (const auto& o : all)
            if (&o != &v && !o.content.empty() && o.claimed > 0 && v.offset >= o.offset &&
                v.offset + v.length <= o.offset + o.claimed)
                return true;
        return false;
    }

    // One volume: refuse encrypted ones, open the filesystem, walk it. With
    // `readings`, the media has more than one reading (or this volume lies
    // where no partition is): a volume that cannot be read is
    // `ambiguous-layout`, since some system may read something there.
    Status readVolume(const ByteSource& src, TSK_IMG_INFO* img, const VolumeSpan& v, const std::string& base,
                      unsigned depth, bool readings) {
        const std::string where = volumeRoot(base) + "/p" + std::to_string(v.index) + "/";
        proto::Partition part{nextId_++, v.index, where, v.scheme, "", "", v.offset, v.length};
        if (v.offset >= src.size()) {
            auto s = sink_.partition(part);
            if (!s) return s;
            return sink_.finding(ReasonCode::ReadError, where, "partition lies beyond the end of the media (truncated image?)");
        }
        std::uint64_t length = v.length;
        if (v.offset + length > src.size() || v.offset + length < v.offset) {
            auto s = sink_.finding(ReasonCode::ReadError, where, "partition runs past the end of the media (truncated image?)");
            if (!s) return s;
            length = src.size() - v.offset;
        }
        const auto head = readUpTo(src, v.offset, kProbeBytes);
        if (head.empty() && length > 0) {
            auto s = sink_.partition(part);
            if (!s) return s;
            return sink_.finding(ReasonCode::ReadError, where, "the start of the volume cannot be read");
        }
        if (auto enc = probeEncryption(head)) {
            part.fs = "encrypted";
            auto s = sink_.partition(part);
            if (!s) return s;
            return sink_.finding(enc->code, where, enc->detail);
        }
        if (FatVolume::looksLikeFat(head)) {
            // FAT is read by our own reader, which checks it as fsck.fat does;
            // a FAT boot sector it cannot open is never handed to libtsk.
            auto fat = FatVolume::open(src, v.offset, length);
            if (!fat) {
                auto s = sink_.partition(part);
                if (!s) return s;
                return sink_.finding(ReasonCode::CorruptFilesystem, where, "FAT boot sector with impossible parameters: " + fat.error().message);
            }
            part.fs = fat->type();
            part.label = printableName(fat->label());
            auto s = sink_.partition(part);
            if (!s) return s;
            Visitor visitor(*this, part.id, where, depth);
            return fat->walk(visitor);
        }
        const auto identity = formats::identify(head, {}, length);
        auto fs = TskVolume::open(img, v.offset);
        if (!fs) {
            const auto why = explainUnreadable(head);
            auto s = sink_.partition(part);
            if (!s) return s;
            if (readings && why.code == ReasonCode::UnknownFilesystem)
                return sink_.finding(ReasonCode::AmbiguousLayout, where,
                                     (v.scheme == "unpartitioned" ? std::string("a volume where no partition is")
                                                                  : std::string("one of the media's readings")) +
                                         " that cannot be read: " + why.detail);
            return sink_.finding(why.code, where, why.detail);
        }
        part.fs = fs->type();
        part.label = fs->label();
        auto s = sink_.partition(part);
        if (!s) return s;
        if (identity && identity->format == formats::Format::Udf) {
            // A UDF bridge: Windows and Linux read its UDF tree, which may
            // hold other files than the ISO 9660 tree read here.
            s = sink_.finding(ReasonCode::UnknownFilesystem, where,
                              "the volume also holds a UDF filesystem, which operating systems read instead of its "
                              "ISO 9660 tree and which the kiosk cannot read");
            if (!s) return s;
        }
        if (fs->truncated()) {
            // libtsk opens a cut-off filesystem happily; files in the missing
            // part would simply not be found, so the volume cannot pass.
            s = sink_.finding(ReasonCode::ReadError, where,
                              "filesystem is larger than the media holds (truncated image or failing device)");
            if (!s) return s;
        }
        Visitor visitor(*this, part.id, where, depth);
        return fs->walk(visitor);
    }

    // A file on a volume that is itself a disk or filesystem image.
    Status readImage(const std::string& path, std::uint64_t size, const ContentReader& read,
                     const formats::Identity& identity, unsigned depth) {
        if (depth + 1 > limits_.maxDepth)
            return sink_.finding(ReasonCode::Unscannable, path,
                                 std::string(identity.name) + " nested " + std::to_string(depth + 1) +
                                     " deep in disk images: the kiosk opens images only " + std::to_string(limits_.maxDepth) +
                                     " deep (max_image_depth)");
        imageBytes_ += size;
        if (imageBytes_ > limits_.maxBytes)
            return sink_.finding(ReasonCode::Unscannable, path,
                                 std::string(identity.name) + ": the disk images on this media add up to more than " +
                                     humanBytes(limits_.maxBytes) + " (max_image_bytes)");
        FileSource file(read, size);
        if (identity.kind != formats::Kind::VirtualDisk) return readMedia(file, path, depth + 1, 512);
        auto opened = openVirtualDisk(file, identity.format);
        if (const auto* refused = std::get_if<DiskRefusal>(&opened)) return sink_.finding(refused->code, path, refused->detail);
        const auto& disk = std::get<VirtualDisk>(opened);
        return readMedia(*disk.disk, path, depth + 1, disk.sectorSize);
    }

    MediaSink& sink_;
    ImageLimits limits_;
    std::uint32_t nextId_ = 1;
    std::uint64_t imageBytes_ = 0;
};

}  // namespace

Status MediaReader::run(MediaSink& sink) {
    tsk_error_reset();
    Session session(sink, limits_);
    return session.readMedia(media_, "", 0, sectorSize_);
}

}  // namespace kiosk::scan
