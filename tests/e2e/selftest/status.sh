# Harness check: the guest script's exit status becomes vm.sh's.
. /qk/lib.sh
qk_log "exiting with 3"
exit 3
