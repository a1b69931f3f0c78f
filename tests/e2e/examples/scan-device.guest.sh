# Guest side of examples/scan-device.sh: admit the cold-plugged stick by
# hand (authorized_default=0 on the kernel command line), then scan its
# block device with the real qkiosk binaries; the JSON report comes back to
# the host through --collect /var/spool/qkiosk.
. /qk/lib.sh

dev=$(qk_usb_find 46f4 0001 | head -n 1)
qk_check "stick enumerated" test -n "$dev"
qkiosk devices --json > /qk/out/devices.json
qk_check "qkiosk devices --json exits 0" test $? -eq 0
cat /qk/out/devices.json

qk_admit_storage "$dev"
qk_wait 15 'test -n "$(qk_block_of "$dev")"'
blk=$(qk_block_of "$dev")
qk_check "admitted: /dev/$blk" test -b "/dev/$blk"

mkdir -p /var/spool/qkiosk
qkiosk scan --device "/dev/$blk" --db /qk/db --json /var/spool/qkiosk/report.json
rc=$?
echo "qkiosk scan exit status: $rc"
qk_check "scan verdict FAIL (exit 1) for the EICAR file" test $rc -eq 1
qk_check "report written" test -s /var/spool/qkiosk/report.json
qk_done
