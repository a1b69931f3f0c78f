#!/usr/bin/env bash
# make-corpus.sh OUT_DIR [--size-mb 1024] [--seed 4242]
#
# Deterministic benchmark corpus: a ~SIZE MB tree of mixed stick content
# (OUT_DIR/tree), a FAT32 image of that tree (OUT_DIR/stick.img, made with
# mkfs.vfat + mtools mcopy -s, never mounted), an empty FAT32 image for
# measuring engine load time (OUT_DIR/empty.img), corpus.json (counts, bytes,
# the expected finding) and MANIFEST.sha256 (path, sha256 of every file).
# See lib/gen_corpus.py for the composition.
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR [--size-mb N] [--seed N]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
OUT=$1; shift
SIZE=1024
SEED=4242
while [[ $# -gt 0 ]]; do
  case $1 in
    --size-mb) [[ $# -ge 2 ]] || usage; SIZE=$2; shift 2 ;;
    --seed)    [[ $# -ge 2 ]] || usage; SEED=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ $SIZE =~ ^[0-9]+$ && $SIZE -ge 16 ]] || { echo "make-corpus.sh: --size-mb must be an integer >= 16" >&2; exit 2; }
for t in mkfs.vfat mcopy mmd 7z; do
  command -v "$t" >/dev/null || { echo "make-corpus.sh: $t not found (apt-get install dosfstools mtools p7zip-full)" >&2; exit 2; }
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-python3}
export LC_ALL=C TZ=UTC MTOOLS_SKIP_CHECK=1

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
t0=$(date +%s)
echo "make-corpus: generating $SIZE MB tree in $OUT/tree (seed $SEED)" >&2
"$PY" "$HERE/lib/gen_corpus.py" "$OUT" --size-mb "$SIZE" --seed "$SEED"

# Size the FAT32 volume: every file rounded up to 4 KiB clusters, two
# clusters per folder, 12 % + 24 MiB of slack for FATs and directories.
read -r need files < <(find "$OUT/tree" -printf '%y %s\n' | awk '
  $1=="f" { n += int(($2 + 4095) / 4096) * 4096; f++ }
  $1=="d" { n += 8192 }
  END { printf "%d %d\n", n, f }')
img_bytes=$(( need + need * 12 / 100 + 24 * 1024 * 1024 ))
(( img_bytes < 300 * 1024 * 1024 )) && img_bytes=$(( 300 * 1024 * 1024 ))   # FAT32 with 4 KiB clusters needs >= 65525 clusters
img_mb=$(( (img_bytes + 1048575) / 1048576 ))

make_fat() {   # make_fat IMG MB LABEL
  rm -f "$1"
  truncate -s "${2}M" "$1"
  mkfs.vfat -F 32 -S 512 -s 8 -n "$3" -i 51C4B00C --invariant "$1" >/dev/null
}

echo "make-corpus: FAT32 image $OUT/stick.img ($img_mb MiB, $files files)" >&2
make_fat "$OUT/stick.img" "$img_mb" QKBENCH
# Top-level entries in sorted order; mcopy -s recurses, -m keeps the fixed
# mtimes, -Q stops at the first error (-b, batch mode, corrupts big copies
# in mtools 4.0.32).
mapfile -t top < <(cd "$OUT/tree" && ls -1 | sort)
( cd "$OUT/tree" && mcopy -i "$OUT/stick.img" -s -m -Q "${top[@]}" ::/ )
img_files=$(mdir -i "$OUT/stick.img" -/ -b ::/ | grep -vc '/$' || true)
if [[ $img_files -ne $files ]]; then
  echo "make-corpus: image holds $img_files files, tree $files" >&2
  exit 2
fi

echo "make-corpus: empty FAT32 image $OUT/empty.img (for engine load time)" >&2
make_fat "$OUT/empty.img" 300 QKEMPTY

( cd "$OUT/tree" && find . -type f -print0 | sort -z | xargs -0 sha256sum ) > "$OUT/MANIFEST.sha256"
sha256sum "$OUT/MANIFEST.sha256" | cut -d' ' -f1 > "$OUT/TREE.sha256"
echo "make-corpus: done in $(( $(date +%s) - t0 )) s; tree digest $(cat "$OUT/TREE.sha256")" >&2
