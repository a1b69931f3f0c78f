# Scenario (d2): --unplug-after: the harness removes the hot-plugged stick by
# itself some seconds after plugging it.
# Host side: vm.sh --hotplug-stick IMG@0 --unplug-after 3
. /qk/lib.sh
qk_ready_for_hotplug
qk_wait 30 'test -n "$(qk_usb_find 46f4 0001)"'
qk_check "hot-plugged stick appears" test -n "$(qk_usb_find 46f4 0001)"
qk_log "plugged"
qk_wait 30 'test -z "$(qk_usb_find 46f4 0001)"'
qk_check "and goes away without the guest asking" test -z "$(qk_usb_find 46f4 0001)"
qk_log "unplugged"
qk_done
