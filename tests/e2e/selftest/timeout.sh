# Harness check: a guest that never finishes is killed at --timeout (124).
echo "sleeping forever"
sleep 1000
