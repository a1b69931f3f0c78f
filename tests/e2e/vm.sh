#!/usr/bin/env bash
# vm.sh - boot a throw-away QEMU guest (TCG, no KVM needed) with the host's
# Debian kernel and a busybox initramfs, plug USB sticks into its xHCI
# controller, run a guest script and return its exit status (and files).
#
# Usage: vm.sh [options] --script GUEST_SCRIPT
#   --work DIR            logs, collected files and (by default) the cache
#                         (default: $QK_E2E_WORK or ${TMPDIR:-/tmp}/qkiosk-e2e)
#   --cache DIR           initramfs cache (default: WORK/cache; may be shared)
#   --timeout SEC         hard kill of QEMU after SEC seconds (default 90)
#   --script FILE         host shell script run in the guest by /init (busybox
#                         sh) after the base setup; its exit status is ours
#   --add-bin PATH[:GUEST]    host executable (or shared library) copied to
#                         /usr/bin/NAME (or GUEST) with every shared library
#                         ldd finds, at the same paths, and the dynamic loader
#   --add-file HOST:GUEST file or directory copied into the guest at GUEST
#   --stick IMG[,serial=S][,ro][,format=F]
#                         cold-plugged usb-storage (46f4:0001) on the xHCI bus
#                         over IMG; snapshot=on (guest writes are thrown away)
#                         or, with ro, read-only; repeatable (at most 4)
#   --hotplug-stick IMG[,serial=S][,ro][,format=F]@SEC
#                         plugged SEC seconds after the guest prints
#                         QK-READY-FOR-HOTPLUG (QEMU monitor drive_add +
#                         device_add); repeatable
#   --unplug-after SEC    device_del each hot-plugged stick SEC seconds after
#                         it was plugged (without --hotplug-stick: the first
#                         cold stick, SEC s after QK-READY-FOR-HOTPLUG). The
#                         guest may also print QK-READY-FOR-UNPLUG to have the
#                         stick(s) removed at once.
#   --collect GUEST_PATH  file, directory or guest-side glob sent back to the
#                         host after the script, into WORK/out/GUEST_PATH;
#                         repeatable. Everything the script leaves in /qk/out
#                         comes back too (WORK/out/qk/out/).
#   --cmdline "ARGS"      extra kernel parameters (usbcore.authorized_default=0)
#   --module NAME         also put kernel module NAME (and its dependencies)
#                         into the initramfs; load it with modprobe; repeatable
#   --kernel VMLINUZ      kernel to boot (default: newest /boot/vmlinuz-* with
#                         modules in /lib/modules)
#   --mem MB              guest memory (default 1024)
#   --smp N               guest CPUs (default 1)
#   --cpu MODEL           QEMU CPU model (default max: the most TCG emulates)
#   --qemu-arg ARG        extra QEMU argument, repeatable (e.g. --qemu-arg
#                         -device --qemu-arg usb-kbd,bus=xhci.0)
#   --quiet               do not stream the guest console; print its last 60
#                         lines when the result is not 0
#   -h, --help
#
# Environment: QK_E2E_WORK (default --work), QK_E2E_QEMU (QEMU binary),
# QK_E2E_NO_INSTALL=1 (never apt-get install what is missing).
#
# Exit status: the guest script's status; 124 timeout; 125 the guest ended
# without reporting a status (crash, panic, QEMU error); 77 QEMU, the kernel
# or busybox missing and not installable (a test must SKIP then); 2 bad
# arguments.
#
# Files in WORK after a run: console.log (guest serial console), dmesg.log,
# qemu.log (QEMU's stderr), qemu.cmd, monitor.log (QMP transcript), xfer.tar
# (collected files as sent), out/ (collected files).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
PROG=vm.sh

usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
die2() { echo "$PROG: $*" >&2; exit 2; }
skip() { echo "$PROG: SKIP: $*" >&2; exit 77; }
note() { echo "$PROG: $*" >&2; }

WORK=${QK_E2E_WORK:-${TMPDIR:-/tmp}/qkiosk-e2e}
CACHE=""
TIMEOUT=90
SCRIPT=""
CMDLINE=""
KERNEL=""
MEM=1024
CPU=max
SMP=1
QUIET=0
UNPLUG_AFTER=""
ADD_BINS=() ADD_FILES=() STICKS=() HOTPLUGS=() COLLECT=() EXTRA_MODULES=() QEMU_ARGS=()

need() { [[ $# -ge 2 ]] || die2 "option $1 needs a value"; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --work) need "$@"; WORK=$2; shift 2 ;;
        --cache) need "$@"; CACHE=$2; shift 2 ;;
        --timeout) need "$@"; TIMEOUT=$2; shift 2 ;;
        --script) need "$@"; SCRIPT=$2; shift 2 ;;
        --add-bin) need "$@"; ADD_BINS+=("$2"); shift 2 ;;
        --add-file) need "$@"; ADD_FILES+=("$2"); shift 2 ;;
        --stick) need "$@"; STICKS+=("$2"); shift 2 ;;
        --hotplug-stick) need "$@"; HOTPLUGS+=("$2"); shift 2 ;;
        --unplug-after) need "$@"; UNPLUG_AFTER=$2; shift 2 ;;
        --collect) need "$@"; COLLECT+=("$2"); shift 2 ;;
        --cmdline) need "$@"; CMDLINE="$CMDLINE $2"; shift 2 ;;
        --module) need "$@"; EXTRA_MODULES+=("$2"); shift 2 ;;
        --kernel) need "$@"; KERNEL=$2; shift 2 ;;
        --mem) need "$@"; MEM=$2; shift 2 ;;
        --smp) need "$@"; SMP=$2; shift 2 ;;
        --cpu) need "$@"; CPU=$2; shift 2 ;;
        --qemu-arg) need "$@"; QEMU_ARGS+=("$2"); shift 2 ;;
        --quiet) QUIET=1; shift ;;
        -h|--help) usage ;;
        *) die2 "unknown option '$1' (see --help)" ;;
    esac
done

is_num() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }
is_num "$TIMEOUT" || die2 "--timeout: not a number: $TIMEOUT"
[[ -z $UNPLUG_AFTER ]] || is_num "$UNPLUG_AFTER" || die2 "--unplug-after: not a number: $UNPLUG_AFTER"
[[ $MEM =~ ^[0-9]+$ ]] || die2 "--mem: not a number: $MEM"
[[ $SMP =~ ^[0-9]+$ ]] || die2 "--smp: not a number: $SMP"
[[ -z $SCRIPT || -f $SCRIPT ]] || die2 "--script: no such file: $SCRIPT"
[[ ${#STICKS[@]} -le 4 ]] || die2 "at most 4 --stick (the xHCI controller has 4 USB 3 ports)"
[[ -n $UNPLUG_AFTER && ${#HOTPLUGS[@]} -eq 0 && ${#STICKS[@]} -eq 0 ]] \
    && die2 "--unplug-after: no stick to unplug"

# ---------------------------------------------------------------- prerequisites
BUSYBOX="" QEMU="" KVER="" MODDIR=""
find_prereqs() {
    QEMU=${QK_E2E_QEMU:-$(command -v qemu-system-x86_64 || true)}
    [[ -x $QEMU ]] || QEMU=""
    BUSYBOX=""
    local b
    for b in /bin/busybox /usr/bin/busybox "$(command -v busybox || true)"; do
        [[ -n $b && -x $b ]] && { BUSYBOX=$b; break; }
    done
    if [[ -z $KERNEL ]]; then
        local k v
        for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
            v=${k#/boot/vmlinuz-}
            if [[ -f /lib/modules/$v/modules.dep ]]; then KERNEL_FOUND=$k; break; fi
        done
    else
        KERNEL_FOUND=$KERNEL
    fi
}
KERNEL_FOUND=""
find_prereqs
missing_tools() {
    local m=()
    [[ -n $QEMU ]] || m+=(qemu-system-x86)
    [[ -n $BUSYBOX ]] || m+=(busybox-static)
    [[ -n $KERNEL_FOUND ]] || m+=(linux-image-amd64)
    command -v cpio >/dev/null || m+=(cpio)
    command -v xz >/dev/null || m+=(xz-utils)
    echo "${m[@]}"
}
miss=$(missing_tools)
if [[ -n $miss && -z $KERNEL && -z ${QK_E2E_NO_INSTALL:-} && $(id -u) -eq 0 ]] \
        && command -v apt-get >/dev/null; then
    note "installing $miss"
    # shellcheck disable=SC2086
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $miss \
            >"${TMPDIR:-/tmp}/qkiosk-e2e-apt.log" 2>&1; then
        # shellcheck disable=SC2086
        { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $miss; } \
            >>"${TMPDIR:-/tmp}/qkiosk-e2e-apt.log" 2>&1 || true
    fi
    find_prereqs
    miss=$(missing_tools)
fi
[[ -z $miss ]] || skip "missing: $miss (Debian packages; set up with apt-get install $miss)"
for t in base64 gzip tar sha256sum flock ldd mkfifo; do
    command -v $t >/dev/null || skip "missing host tool: $t"
done
[[ -e $KERNEL_FOUND ]] || skip "kernel not found: $KERNEL_FOUND"
[[ -r $KERNEL_FOUND ]] || skip "kernel $KERNEL_FOUND is not readable (run as root?)"
KERNEL=$KERNEL_FOUND
KVER=${KERNEL##*/vmlinuz-}
if [[ ! -f /lib/modules/$KVER/modules.dep ]]; then
    # A kernel not named vmlinuz-VERSION: ask the image itself.
    KVER=$(file -bL "$KERNEL" 2>/dev/null | sed -n 's/.*version \([^ ]*\).*/\1/p')
fi
MODDIR=/lib/modules/$KVER
[[ -f $MODDIR/modules.dep ]] || skip "no modules for kernel $KERNEL ($MODDIR/modules.dep)"
if [[ $BUSYBOX != /bin/busybox ]] && ldd "$BUSYBOX" >/dev/null 2>&1; then
    note "warning: $BUSYBOX is dynamically linked; its libraries are copied too"
fi

# ---------------------------------------------------------------- work folders
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
[[ -n $CACHE ]] || CACHE=$WORK/cache
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
exec 9>"$WORK/.lock"
flock 9                      # one run per work folder at a time
rm -rf "$WORK/out" "$WORK/stage"
rm -f "$WORK"/console.log "$WORK"/xfer.log "$WORK"/xfer.tar "$WORK"/dmesg.log "$WORK"/qemu.log \
      "$WORK"/monitor.log "$WORK"/mon.in "$WORK"/mon.out "$WORK"/initrd.cpio
mkdir -p "$WORK/out"

# Guest file system layout mirrors the host's merged /usr: /bin -> usr/bin ...
MERGED=()
for d in bin sbin lib lib32 lib64 libx32; do
    [[ -L /$d && $(readlink "/$d") == usr/$d ]] && MERGED+=("$d")
done
canon() {   # guest path as stored in the initramfs (without leading /)
    local p=/${1#/} d
    for d in "${MERGED[@]}"; do
        if [[ $p == /$d/* || $p == "/$d" ]]; then p=/usr$p; break; fi
    done
    printf '%s' "${p#/}"
}

# ---------------------------------------------------------------- modules
BOOT_MODULES=(xhci_pci usb_storage uas sd_mod usbhid hid_generic evdev configfs virtio_pci virtio_console)
OPT_MODULES=(dummy_hcd libcomposite usb_f_mass_storage usb_f_hid usb_f_acm usb_f_ecm loop sg)
[[ ${#EXTRA_MODULES[@]} -eq 0 ]] || OPT_MODULES+=("${EXTRA_MODULES[@]}")

module_closure() {  # print the relative .ko paths, dependencies first
    awk -v want="$*" '
        function norm(p,  n) { n = p; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n)
                               gsub(/-/, "_", n); return n }
        function visit(x,  a, k, i) {
            if (x in seen) return
            seen[x] = 1
            k = split(deps[x], a, " ")
            for (i = k; i >= 1; i--) visit(a[i])
            print path[x]
        }
        { p = $1; sub(/:$/, "", p); n = norm(p); path[n] = p; deps[n] = ""
          for (i = 2; i <= NF; i++) deps[n] = deps[n] " " norm($i) }
        END { k = split(want, w, " ")
              for (i = 1; i <= k; i++) { x = w[i]; gsub(/-/, "_", x)
                  if (x in path) visit(x); else print "MISSING " x } }
    ' "$MODDIR/modules.dep"
}
builtin_module() {
    local n=${1//-/_}
    [[ -f $MODDIR/modules.builtin ]] &&
        sed 's#.*/##; s/\.ko$//; s/-/_/g' "$MODDIR/modules.builtin" | grep -qx "$n"
}

# ---------------------------------------------------------------- base initramfs
# busybox, kernel modules, /init, guest helpers, gadget.sh: cached by content.
base_key=$( {
    echo "v1 $KERNEL $KVER"; stat -Lc '%s %Y' "$KERNEL" "$MODDIR/modules.dep"
    sha256sum "$BUSYBOX" "$HERE/guest/init.sh" "$HERE/guest/lib.sh" "$HERE/gadget.sh" "$SELF"
    echo "${BOOT_MODULES[*]} / ${OPT_MODULES[*]} / ${MERGED[*]}"
} | sha256sum | cut -c1-16)
BASE=$CACHE/base-$base_key.cpio

mkcpio() {  # mkcpio STAGE_DIR OUT
    local extra=()
    cpio --help 2>&1 | grep -q -- --reproducible && extra=(--reproducible)
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --quiet "${extra[@]}") > "$2.tmp"
    mv "$2.tmp" "$2"
}

copy_with_libs() {  # copy_with_libs STAGE HOST_PATH GUEST_PATH
    local stage=$1 src=$2 dst=$3 lib ldd_out
    mkdir -p "$stage/$(dirname "$(canon "$dst")")"
    cp -L --preserve=mode "$src" "$stage/$(canon "$dst")"
    if ldd_out=$(LC_ALL=C ldd "$src" 2>/dev/null); then
        if grep -q 'not found' <<<"$ldd_out"; then
            die2 "$src: missing shared libraries: $(grep 'not found' <<<"$ldd_out" | tr -s '\t\n' '  ')"
        fi
        while read -r lib; do
            [[ -n $lib ]] || continue
            local g
            g=$(canon "$(realpath "$(dirname "$lib")")/$(basename "$lib")")
            [[ -e $stage/$g ]] && continue
            mkdir -p "$stage/$(dirname "$g")"
            cp -L --preserve=mode "$lib" "$stage/$g"
        done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out")
    fi
}

build_base() {
    local st=$CACHE/stage-base.$$ d m
    rm -rf "$st"; mkdir -p "$st"
    for d in usr/bin usr/sbin usr/lib usr/local/bin proc sys dev tmp run root etc \
             var/tmp mnt qk/out lib/modules; do
        mkdir -p "$st/$(canon "/$d")"
    done
    for d in "${MERGED[@]}"; do mkdir -p "$st/usr/$d"; ln -s "usr/$d" "$st/$d"; done
    chmod 1777 "$st/tmp" "$st/var/tmp"
    mknod -m 600 "$st/dev/console" c 5 1 2>/dev/null || true
    mknod -m 666 "$st/dev/null" c 1 3 2>/dev/null || true

    copy_with_libs "$st" "$BUSYBOX" /usr/bin/busybox
    local a
    while read -r a; do
        [[ -n $a && $a != */busybox ]] || continue
        a=$(canon "/$a")
        [[ -e $st/$a || -L $st/$a ]] && continue
        mkdir -p "$st/$(dirname "$a")"
        ln -s /usr/bin/busybox "$st/$a"
    done < <("$BUSYBOX" --list-full)
    [[ -e $st/$(canon /bin/sh) ]] || ln -s /usr/bin/busybox "$st/$(canon /bin/sh)"

    install -m 755 "$HERE/guest/init.sh" "$st/init"
    install -m 644 "$HERE/guest/lib.sh" "$st/qk/lib.sh"
    install -m 755 "$HERE/gadget.sh" "$st/qk/gadget.sh"
    ln -s /qk/gadget.sh "$st/usr/bin/gadget.sh"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
        'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' > "$st/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' > "$st/etc/group"
    echo '127.0.0.1 localhost qkiosk-e2e' > "$st/etc/hosts"
    : > "$st/etc/fstab"

    # Kernel modules: the closure of what we want, decompressed, with a
    # modules.dep of only those (busybox modprobe reads it).
    local mdst paths=() p
    mdst=$st/$(canon "/lib/modules/$KVER")
    mkdir -p "$mdst"
    while read -r p; do
        if [[ $p == MISSING\ * ]]; then
            m=${p#MISSING }
            builtin_module "$m" || note "warning: kernel $KVER has no module $m"
            [[ $m == dummy_hcd ]] && ! builtin_module "$m" &&
                note "warning: no dummy_hcd: gadget.sh (composite/BadUSB devices) will not work"
            continue
        fi
        paths+=("$p")
        mkdir -p "$mdst/$(dirname "$p")"
        case "$p" in
            *.ko.xz) xz -dc "$MODDIR/$p" > "$mdst/${p%.xz}" ;;
            *.ko.zst) zstd -qdc "$MODDIR/$p" > "$mdst/${p%.zst}" ;;
            *.ko.gz) gzip -dc "$MODDIR/$p" > "$mdst/${p%.gz}" ;;
            *) cp "$MODDIR/$p" "$mdst/$p" ;;
        esac
    done < <(module_closure "${BOOT_MODULES[@]}" "${OPT_MODULES[@]}")
    awk 'NR == FNR { want[$0 ":"] = 1; next } ($1 in want)' \
        <(printf '%s\n' "${paths[@]}") "$MODDIR/modules.dep" |
        sed -E 's/\.ko\.(xz|zst|gz)/.ko/g' > "$mdst/modules.dep"
    for f in modules.builtin modules.order; do
        [[ -f $MODDIR/$f ]] && cp "$MODDIR/$f" "$mdst/$f"
    done
    mkcpio "$st" "$BASE"
    rm -rf "$st"
}

# ---------------------------------------------------------------- payload
parse_stick() {  # parse_stick SPEC -> IMG SERIAL RO FORMAT in globals
    local spec=$1 part
    S_IMG=${spec%%,*} S_SERIAL="" S_RO=0 S_FMT=raw
    if [[ $spec == *,* ]]; then
        local rest=${spec#*,}
        IFS=, read -r -a parts <<<"$rest"
        for part in "${parts[@]}"; do
            case "$part" in
                serial=*) S_SERIAL=${part#serial=} ;;
                ro|readonly) S_RO=1 ;;
                format=*) S_FMT=${part#format=} ;;
                *) die2 "stick '$spec': unknown option '$part' (serial=S, ro, format=F)" ;;
            esac
        done
    fi
    [[ -f $S_IMG || -b $S_IMG ]] || die2 "stick image not found: $S_IMG"
    [[ -r $S_IMG ]] || die2 "stick image not readable: $S_IMG"
    S_IMG=$(realpath "$S_IMG")
    [[ $S_IMG != *,* ]] || die2 "stick image path must not contain ',': $S_IMG"
}
drive_opts() {  # drive_opts ID -> QEMU -drive value for the last parse_stick
    local o="if=none,id=$1,file=$S_IMG,format=$S_FMT"
    if [[ $S_RO == 1 ]]; then o+=",readonly=on"; else o+=",snapshot=on"; fi
    printf '%s' "$o"
}
dev_opts() {  # dev_opts DRIVE_ID DEV_ID
    local o="usb-storage,bus=xhci.0,drive=$1,id=$2,removable=on"
    [[ -z $S_SERIAL ]] || o+=",serial=$S_SERIAL"
    printf '%s' "$o"
}

HP_DELAY=() HP_DRIVE=() HP_DEV=()
for i in "${!HOTPLUGS[@]}"; do
    spec=${HOTPLUGS[$i]}
    [[ $spec == *@* ]] || die2 "--hotplug-stick '$spec': expected IMG@SECONDS"
    delay=${spec##*@}
    is_num "$delay" || die2 "--hotplug-stick '$spec': not a number of seconds: $delay"
    parse_stick "${spec%@*}"
    HP_DELAY+=("$delay")
    HP_DRIVE+=("$(drive_opts "hpdrive$i")")
    HP_DEV+=("$(dev_opts "hpdrive$i" "hpstick$i")")
done

collect_q=""
for c in "${COLLECT[@]+"${COLLECT[@]}"}"; do
    [[ $c == /* ]] || die2 "--collect: guest path must be absolute: $c"
    [[ $c != *[[:space:]]* ]] || die2 "--collect: no spaces in guest paths: $c"
    collect_q+=" $c"
done
ENV_TEXT="QK_BOOT_MODULES='${BOOT_MODULES[*]}'
QK_STICKS=${#STICKS[@]}
QK_HOTPLUG_STICKS=${#HOTPLUGS[@]}
QK_COLLECT='${collect_q# }'
QK_KERNEL_VERSION='$KVER'
export QK_STICKS QK_HOTPLUG_STICKS QK_KERNEL_VERSION"

split_hg() {  # split_hg SPEC DEFAULT_GUEST -> H G
    local spec=$1
    if [[ $spec == *:/* ]]; then H=${spec%:/*}; G=/${spec##*:/}; else H=$spec; G=$2; fi
}
payload_key=$( {
    echo "base $base_key"; printf '%s\n' "$ENV_TEXT"
    [[ -z $SCRIPT ]] || sha256sum "$SCRIPT"
    for b in "${ADD_BINS[@]+"${ADD_BINS[@]}"}"; do
        split_hg "$b" ""; echo "bin $b"; stat -Lc '%n %s %Y' "$H" 2>/dev/null || echo "missing $H"
        LC_ALL=C ldd "$H" 2>/dev/null | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }' |
            while read -r l; do stat -Lc '%n %s %Y' "$l" 2>/dev/null || true; done
    done
    for f in "${ADD_FILES[@]+"${ADD_FILES[@]}"}"; do
        split_hg "$f" ""; echo "file $f"
        find -L "$H" -printf '%p %s %T@\n' 2>/dev/null | LC_ALL=C sort || echo "missing $H"
    done
} | sha256sum | cut -c1-16)
INITRD=$CACHE/initrd-$payload_key.cpio

build_payload() {
    local st=$CACHE/stage-payload.$$ b f
    rm -rf "$st"; mkdir -p "$st/qk"
    printf '%s\n' "$ENV_TEXT" > "$st/qk/env"
    [[ -z $SCRIPT ]] || install -m 755 "$SCRIPT" "$st/qk/script.sh"
    for b in "${ADD_BINS[@]+"${ADD_BINS[@]}"}"; do
        split_hg "$b" ""
        [[ -f $H ]] || die2 "--add-bin: no such file: $H"
        [[ -n $G ]] || G=/usr/bin/$(basename "$H")
        copy_with_libs "$st" "$H" "$G"
    done
    for f in "${ADD_FILES[@]+"${ADD_FILES[@]}"}"; do
        [[ $f == *:/* ]] || die2 "--add-file '$f': expected HOST:/GUEST/PATH"
        split_hg "$f" ""
        [[ -e $H ]] || die2 "--add-file: no such file: $H"
        mkdir -p "$st/$(dirname "$(canon "$G")")"
        if [[ -d $H ]]; then
            mkdir -p "$st/$(canon "$G")"
            cp -rL --preserve=mode "$H/." "$st/$(canon "$G")/"
        else
            cp -L --preserve=mode "$H" "$st/$(canon "$G")"
        fi
    done
    # Directories that already exist in the base archive (and its symlinks)
    # must not be emitted again as directories over symlinks: only canonical
    # paths are used above, so this is safe.
    mkcpio "$st" "$st.cpio"
    cat "$BASE" "$st.cpio" > "$INITRD.tmp"
    mv "$INITRD.tmp" "$INITRD"
    rm -rf "$st" "$st.cpio"
}

t_build0=$EPOCHREALTIME
(
    flock 8
    [[ -f $BASE ]] || { note "building base initramfs ($KVER, $(basename "$BUSYBOX"))"; build_base; }
    [[ -f $INITRD ]] || build_payload
    touch "$INITRD" "$BASE"
    # Keep the cache small: the 8 newest initrds, the 2 newest bases.
    ls -1t "$CACHE"/initrd-*.cpio 2>/dev/null | tail -n +9 | xargs -r rm -f
    ls -1t "$CACHE"/base-*.cpio 2>/dev/null | tail -n +3 | xargs -r rm -f
) 8>"$CACHE/.lock"
t_build=$(awk -v a="$t_build0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
[[ -f $INITRD ]] || { note "initramfs build failed"; exit 2; }

# ---------------------------------------------------------------- QEMU
CON=$WORK/console.log XFER=$WORK/xfer.log XTAR=$WORK/xfer.tar MON=$WORK/mon
mkfifo "$MON.in" "$MON.out"
# shellcheck disable=SC2054  # commas are QEMU's
args=(-machine q35 -accel tcg -cpu "$CPU" -m "$MEM" -smp "$SMP" -nographic -nodefaults -no-reboot
      -no-user-config -nic none
      -kernel "$KERNEL" -initrd "$INITRD"
      -append "console=ttyS0 rdinit=/init panic=-1 quiet$CMDLINE"
      -serial "file:$CON" -serial "file:$XFER"
      -device virtio-serial-pci,id=vser
      -chardev "file,id=qkcollect,path=$XTAR" -device virtserialport,bus=vser.0,nr=1,chardev=qkcollect,name=qk.collect
      -chardev "file,id=qkdmesg,path=$WORK/dmesg.log" -device virtserialport,bus=vser.0,nr=2,chardev=qkdmesg,name=qk.dmesg
      -chardev "pipe,id=mon0,path=$MON" -mon chardev=mon0,mode=control
      -fw_cfg name=etc/sercon-port,string=0
      -device qemu-xhci,id=xhci)
for i in "${!STICKS[@]}"; do
    parse_stick "${STICKS[$i]}"
    args+=(-drive "$(drive_opts "stick$i")" -device "$(dev_opts "stick$i" "usbstick$i")")
done
[[ ${#QEMU_ARGS[@]} -eq 0 ]] || args+=("${QEMU_ARGS[@]}")
printf '%q ' qemu-system-x86_64 "${args[@]}" > "$WORK/qemu.cmd"; echo >> "$WORK/qemu.cmd"

: > "$CON"
cat "$MON.out" > "$WORK/monitor.log" 9>&- &
MON_READER=$!
exec 7<>"$MON.in"
echo '{"execute": "qmp_capabilities"}' >&7
# coreutils timeout is a second, independent limit in case vm.sh itself is
# killed with SIGKILL; QEMU must not inherit the lock and monitor fds.
hard_limit=$(awk -v t="$TIMEOUT" 'BEGIN { printf "%d", t + 30 }')
timeout -k 5 "$hard_limit" "$QEMU" "${args[@]}" </dev/null >"$WORK/qemu.log" 2>&1 7>&- 9>&- &
QPID=$!
cleanup() {
    kill "$QPID" 2>/dev/null || true
    kill "$MON_READER" 2>/dev/null || true
    rm -f "$MON.in" "$MON.out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
secs_ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }
monitor() {  # an HMP command line, sent through QMP
    local c=${*//\\/\\\\}
    c=${c//\"/\\\"}
    printf '{"execute": "human-monitor-command", "arguments": {"command-line": "%s"}}\n' "$c" >&7
    note "monitor: $*"
}

start=$(now_ms)
deadline=$((start + $(secs_ms "$TIMEOUT")))
unplug_ms=""; [[ -z $UNPLUG_AFTER ]] || unplug_ms=$(secs_ms "$UNPLUG_AFTER")
off=0 ready=-1 timed_out=0 unplug_marker=0
HP_AT=() HP_PLUGGED=() HP_GONE=()
for i in "${!HOTPLUGS[@]}"; do HP_AT+=(-1); HP_PLUGGED+=(-1); HP_GONE+=(0); done
cold_gone=0

stream() {
    local size
    size=$(stat -c %s "$CON" 2>/dev/null || echo 0)
    if (( size > off )); then
        if [[ $QUIET == 0 ]]; then
            tail -c +$((off + 1)) "$CON" | head -c $((size - off)) | tr -d '\r'
        fi
        off=$size
        return 0
    fi
    return 1
}
unplug_all() {
    local i
    if [[ ${#HOTPLUGS[@]} -gt 0 ]]; then
        for i in "${!HOTPLUGS[@]}"; do
            if (( HP_PLUGGED[i] >= 0 && HP_GONE[i] == 0 )); then
                monitor "device_del hpstick$i"; HP_GONE[i]=1
            fi
        done
    elif (( cold_gone == 0 && ${#STICKS[@]} > 0 )); then
        monitor "device_del usbstick0"; cold_gone=1
    fi
}

while kill -0 "$QPID" 2>/dev/null; do
    now=$(now_ms)
    if (( now >= deadline )); then timed_out=1; break; fi
    if stream; then
        if (( ready < 0 )) && grep -aq '^QK-READY-FOR-HOTPLUG' "$CON"; then
            ready=$now
            for i in "${!HOTPLUGS[@]}"; do HP_AT[i]=$((now + $(secs_ms "${HP_DELAY[$i]}"))); done
        fi
        if (( unplug_marker == 0 )) && grep -aq '^QK-READY-FOR-UNPLUG' "$CON"; then
            unplug_marker=1
            unplug_all
        fi
    fi
    for i in "${!HOTPLUGS[@]}"; do
        if (( HP_AT[i] >= 0 && HP_PLUGGED[i] < 0 && now >= HP_AT[i] )); then
            monitor "drive_add 0 ${HP_DRIVE[$i]}"
            monitor "device_add ${HP_DEV[$i]}"
            HP_PLUGGED[i]=$now
        fi
        if [[ -n $unplug_ms ]] && (( HP_PLUGGED[i] >= 0 && HP_GONE[i] == 0 &&
                                     now >= HP_PLUGGED[i] + unplug_ms )); then
            monitor "device_del hpstick$i"; HP_GONE[i]=1
        fi
    done
    if [[ -n $unplug_ms && ${#HOTPLUGS[@]} -eq 0 ]] && (( ready >= 0 && cold_gone == 0 &&
                                                        now >= ready + unplug_ms )); then
        unplug_all
    fi
    sleep 0.1
done
if (( timed_out )); then
    kill "$QPID" 2>/dev/null || true          # timeout(1) passes it on to QEMU
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$QPID" 2>/dev/null; then
        for c in $(cat "/proc/$QPID/task/$QPID/children" 2>/dev/null); do kill -9 "$c" 2>/dev/null || true; done
        kill -9 "$QPID" 2>/dev/null || true
    fi
fi
wait "$QPID" 2>/dev/null && qemu_rc=0 || qemu_rc=$?
stream || true
elapsed=$(( $(now_ms) - start ))
exec 7>&-
sleep 0.1
kill "$MON_READER" 2>/dev/null || true

# ---------------------------------------------------------------- results
section() {  # section NAME FILE: base64 body between QK-NAME-BEGIN/END
    sed -n "/^QK-$1-BEGIN/,/^QK-$1-END/p" "$2" | tr -d '\r' | sed '1d;$d'
}
if [[ -s $XTAR ]]; then
    tar -xf "$XTAR" -C "$WORK/out" || note "warning: collected files arrived damaged (see $XTAR)"
elif grep -aq '^QK-COLLECT-BEGIN' "$XFER" 2>/dev/null; then
    if ! section COLLECT "$XFER" | base64 -d 2>/dev/null | tar -xzf - -C "$WORK/out" 2>/dev/null; then
        note "warning: collected files arrived damaged (see $XFER)"
    fi
fi
if grep -aq '^QK-DMESG-BEGIN' "$XFER" 2>/dev/null; then
    section DMESG "$XFER" | base64 -d 2>/dev/null | gzip -dc > "$WORK/dmesg.log" 2>/dev/null || true
fi
grep -a '^QK-WARN' "$CON" | tr -d '\r' | sed "s/^/$PROG: guest: /" >&2 || true
grep -a '"error"\|"return": "[^"O]' "$WORK/monitor.log" 2>/dev/null | sed "s/^/$PROG: monitor: /" >&2 || true

exit_line=$(grep -a '^QK-EXIT [0-9]' "$CON" | tail -n 1 | tr -d '\r' || true)
boot_s=$(grep -a 'QK-BOOTED' "$CON" | tr -d '\r' | sed -n 's/.*uptime=\([0-9.]*\)s.*/\1/p' | head -n 1 || true)
if (( timed_out )); then
    rc=124
    note "timeout: guest still running after ${TIMEOUT}s; killed"
elif [[ -n $exit_line ]]; then
    rc=$(awk '{ print $2 }' <<<"$exit_line")
    (( rc <= 255 )) || rc=1
else
    rc=125
    note "the guest ended without reporting a status (QEMU status $qemu_rc)"
    grep -v 'fw_cfg item names should be prefixed' "$WORK/qemu.log" | sed "s/^/$PROG: qemu: /" >&2 || true
fi
if [[ $QUIET == 1 && $rc != 0 ]]; then
    note "last lines of the guest console ($CON):"
    tail -n 60 "$CON" | tr -d '\r' >&2
fi
note "status $rc; guest booted in ${boot_s:-?}s, run ${elapsed}ms wall (initramfs ${t_build}s); logs in $WORK"
exit "$rc"
