// The Sleuth Kit over a ByteSource: libtsk reads the stick, a part of it, or
// the disk inside an image file through tsk_img_open_external and a read
// callback of ours, so nothing is ever opened by name. RAII holders for
// libtsk's handles, and its error text made safe to report.
#pragma once

#include <tsk/libtsk.h>

#include <memory>
#include <string>

#include "ByteSource.h"
#include "qkiosk/protocol/Messages.h"

namespace kiosk::scan::tsk {

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
struct DirDeleter {
    void operator()(TSK_FS_DIR* p) const { tsk_fs_dir_close(p); }
};
using ImgPtr = std::unique_ptr<TSK_IMG_INFO, ImgDeleter>;
using VsPtr = std::unique_ptr<TSK_VS_INFO, VsDeleter>;
using FsPtr = std::unique_ptr<TSK_FS_INFO, FsDeleter>;
using FilePtr = std::unique_ptr<TSK_FS_FILE, FileDeleter>;
using DirPtr = std::unique_ptr<TSK_FS_DIR, DirDeleter>;

// An image of all of `source` (which must outlive it); null when libtsk cannot make one.
ImgPtr openImage(const ByteSource& source);

// libtsk's last error as one printable line (or `fallback`), and the error cleared.
std::string lastError(const char* fallback);

// The same, with the reason code it calls for: libtsk's own word that the
// filesystem contradicts itself (a block or inode number out of range, a
// corrupt inode or structure) is a corrupt filesystem; anything else,
// unreadable bytes included, a read error.
struct Failure {
    proto::ReasonCode code;
    std::string text;
};
Failure lastFailure(const char* fallback);

}  // namespace kiosk::scan::tsk
