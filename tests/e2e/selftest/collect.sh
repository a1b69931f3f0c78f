# Scenario (e): files written in the guest come back to the host intact
# (--collect of a directory and of a glob, plus /qk/out). Also runs host
# binaries added with --add-bin (shared libraries resolved by vm.sh) and
# data added with --add-file.
# Host side: vm.sh --collect /var/spool/qkiosk --collect '/var/log/qk-*.txt'
#            [--add-bin /usr/bin/file --add-file /usr/share/misc/magic.mgc:...]
. /qk/lib.sh

mkdir -p /var/spool/qkiosk /var/log
id=T$(date +%s)
cat > /var/spool/qkiosk/$id.json <<EOJ
{"verdict": "pass", "reasons": [], "ticket_id": "$id", "note": "ünïcødé ✓"}
EOJ
# Binary data: every byte value, CR/LF, NUL, then pseudo-random bytes.
i=0; while [ $i -lt 256 ]; do printf "\\$(printf %03o $i)"; i=$((i + 1)); done \
    > /var/spool/qkiosk/$id.bin
head -c 262144 /dev/urandom >> /var/spool/qkiosk/$id.bin
echo "log line" > /var/log/qk-a.txt
echo "another" > /var/log/qk-b.txt
echo "from /qk/out" > /qk/out/extra.txt
( cd / && sha256sum var/spool/qkiosk/* var/log/qk-*.txt qk/out/extra.txt ) > /qk/out/SHA256SUMS
qk_check "report written" test -s /var/spool/qkiosk/$id.json

if command -v file >/dev/null 2>&1 && [ -x /usr/bin/file ] && [ ! -L /usr/bin/file ]; then
    out=$(file -b /var/spool/qkiosk/$id.json)
    qk_log "added binary 'file' says: $out"
    qk_check "--add-bin binary runs with its libraries (file: JSON)" \
        sh -c "echo '$out' | grep -q JSON"
fi
if [ -d /opt/qk-data ]; then
    qk_check "--add-file directory arrived" test -f /opt/qk-data/coldplug.sh
fi
qk_done
