# Harness check: a guest that dies without reporting (kernel panic) gives 125.
echo "crashing the kernel"
echo c > /proc/sysrq-trigger
sleep 100
