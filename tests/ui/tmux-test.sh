#!/usr/bin/env bash
# The real curses kiosk terminal in a real terminal: `qkiosk ui --image` runs
# in a private tmux server at 80×24 on images made by tests/fixtures, the test
# reads the screen with `tmux capture-pane` and types with `send-keys`.
#   tmux-test.sh BIN_DIR clean|infected ja|en     a whole session to the result screen
#   tmux-test.sh BIN_DIR missing ja|en            an image that cannot be opened: the error screen
# Exit 0 pass, 1 fail, 77 skip (tmux or a fixture tool missing).
set -euo pipefail

bin=$(cd "$1" && pwd)
case_=$2
lang=$3
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../fixtures

command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }

# tmux's server detaches with daemon(3), which refuses a /dev/null that is not
# the character device (some containers have a plain file there). As root, the
# test then runs in a mount namespace of its own with a real one bound over it.
if [ ! -c /dev/null ]; then
  if [ "$(id -u)" = 0 ] && [ -z "${QKIOSK_TMUX_NULL:-}" ] && unshare -m true 2>/dev/null; then
    null=$(mktemp -d)/null
    mknod -m 666 "$null" c 1 3
    exec env QKIOSK_TMUX_NULL="$null" unshare -m sh -c 'mount --bind "$QKIOSK_TMUX_NULL" /dev/null && exec "$@"' sh "$0" "$@"
  fi
  echo "SKIP: /dev/null is not a character device, tmux cannot start its server"; exit 77
fi

work=$(mktemp -d)
sock="$work/tmux.sock"   # a private server, gone with the work folder
cleanup() {
  tmux -S "$sock" kill-server 2>/dev/null || true
  rm -rf "$work"
  if [ -n "${QKIOSK_TMUX_NULL:-}" ]; then rm -rf "$(dirname "$QKIOSK_TMUX_NULL")"; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; echo "--- screen:"; screen || true; exit 1; }
screen() { tmux -S "$sock" capture-pane -p -t ui; }
# Waits until the screen shows the pattern (grep -E), at most $2 seconds.
wait_for() {
  local deadline=$((SECONDS + ${2:-60}))
  while [ $SECONDS -lt $deadline ]; do
    if screen 2>/dev/null | grep -qE -- "$1"; then return 0; fi
    [ -f "$work/status" ] && fail "qkiosk ended (status $(cat "$work/status")) before showing \"$1\""
    sleep 0.2
  done
  fail "the screen did not show \"$1\" within ${2:-60} s"
}
keys() { tmux -S "$sock" send-keys -t ui "$@"; }

# The test signatures (as tests/integration/Harness.cpp: EICAR by MD5) and the images.
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
mkdir -p "$work/db" "$work/clean/書類" "$work/spool"
printf '%s' "$eicar" > "$work/eicar"
echo "$(md5sum < "$work/eicar" | cut -c1-32):$(stat -c %s "$work/eicar"):Qkiosk.Test.EICAR" > "$work/db/test.hdb"
printf '引き継ぎメモ\n' > "$work/clean/handover.txt"
printf '診療予定\n' > "$work/clean/書類/診療予定.txt"
cp -r "$work/clean" "$work/infected"
mkdir -p "$work/infected/書類/attachments"
cp "$work/eicar" "$work/infected/書類/attachments/invoice.com"
rm "$work/eicar"
image=$work/$case_.img
if [ "$case_" != missing ]; then
  set +e
  "$fixtures/make-image.sh" "$image" --fs fat32 --table mbr "$work/$case_" >"$work/make.log" 2>&1
  rc=$?
  set -e
  [ $rc = 77 ] && { echo "SKIP: $(cat "$work/make.log")"; exit 77; }
  [ $rc = 0 ] || { cat "$work/make.log"; exit 1; }
fi
cat > "$work/qkiosk.toml" <<TOML
kiosk_id = "kiosk-tmux"
spool_dir = "$work/spool"
kiosk_key = "$work/kiosk.key"
TOML

locale=ja_JP.UTF-8
[ "$lang" = en ] && locale=en_US.UTF-8
# LANG names a locale that need not be installed: the UI must still come up in
# that language and draw UTF-8 (falling back to C.UTF-8 itself).
tmux -S "$sock" -f /dev/null new-session -d -s ui -x 80 -y 24 \
  "env -u LC_ALL -u LANGUAGE LANG=$locale '$bin/qkiosk' ui --image '$image' --db '$work/db' --config '$work/qkiosk.toml'; echo \$? > '$work/status'; sleep 600"

if [ "$lang" = ja ]; then
  pass_word='合格' fail_word='不合格' next='次へ' other='English' remove='媒体を抜いて'
else
  pass_word='PASS' fail_word='FAIL' next='Next' other='日本語' remove='Remove the media'
fi

case $case_ in
  clean)    wait_for "$pass_word" 60; want_status=0
            screen | grep -q "$fail_word" && fail "a clean image shows $fail_word" ;;
  infected) wait_for "$fail_word" 60; want_status=1
            screen | grep -q 'invoice.com' || fail "the infected file's name is not on the result screen" ;;
  missing)  wait_for "$next" 60; want_status=2
            screen | grep -q 'missing.img' || fail "the error screen does not name the image" ;;
esac
screen | grep -q "$remove" || fail "the result screen does not say to remove the media"
screen | grep -q "\[L\] $other" || fail "the language key is not shown"
if [ "$case_" != missing ]; then
  ls "$work/spool/"*.ticket >/dev/null 2>&1 || fail "no ticket in the spool"
  screen | grep -qE 'saved|保存しました' || fail "the screen does not say the ticket was saved"
fi

# Ctrl-C, Ctrl-Z, Ctrl-\ and unknown keys do nothing: same screen, still running.
before=$(screen)
keys C-c; keys C-z; keys 'C-\'; keys x; keys Escape; keys F5; keys C-d
sleep 1
[ -f "$work/status" ] && fail "qkiosk ended after control keys (status $(cat "$work/status"))"
tmux -S "$sock" has-session -t ui 2>/dev/null || fail "the tmux session is gone"
[ "$(screen)" = "$before" ] || fail "the screen changed after control keys"

# The language key switches the whole screen.
if [ "$lang" = ja ]; then keys l; else keys F2; fi
if [ "$lang" = ja ]; then
  case $case_ in clean) wait_for 'PASS' 10;; infected) wait_for 'FAIL' 10;; missing) wait_for 'could not be checked' 10;; esac
  wait_for 'Remove the media' 10
else
  case $case_ in clean) wait_for '合格' 10;; infected) wait_for '不合格' 10;; missing) wait_for '検査できませんでした' 10;; esac
  wait_for '媒体を抜いて' 10
fi

# A resize redraws at the new size (the footer moves to the new last line), and back.
footer_at() {
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    if [ "$(screen | sed -n "${1}p" | grep -c '\[L\]')" = 1 ]; then return 0; fi
    sleep 0.2
  done
  fail "after resizing, the footer is not on line $1"
}
tmux -S "$sock" resize-window -t ui -x 120 -y 40
footer_at 40
tmux -S "$sock" resize-window -t ui -x 80 -y 24
footer_at 24
[ -f "$work/status" ] && fail "qkiosk ended after a resize"

# Enter goes back to "insert media"; Q (the demo's quit key) ends it with the verdict's status.
keys Enter
if [ "$lang" = ja ]; then wait_for 'Insert the USB stick' 10; else wait_for '差し込んでください' 10; fi
keys q
deadline=$((SECONDS + 10))
while [ ! -f "$work/status" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
[ -f "$work/status" ] || fail "Q did not end the demo"
status=$(cat "$work/status")
[ "$status" = "$want_status" ] || fail "exit status $status, expected $want_status"
echo "OK: $case_ $lang"
