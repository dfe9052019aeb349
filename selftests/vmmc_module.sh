#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: module load and unload. rmmod works with no endpoint open,
# is refused (EBUSY) while an endpoint is open or still mapped, and the
# module binds the NIC again after a reload. TAP output.
# Usage: vmmc_module.sh PATH/TO/vmmc.ko
set -u
. "$(dirname "$0")/tap.sh"
ko=$1
loaded() { grep -q '^vmmc ' /proc/modules; }
echo "TAP version 13"
tap_plan 8

lsmod_ok() { loaded && [ -c /dev/vmmc0 ]; }
[ -c /dev/vmmc0 ] || insmod "$ko"
check "module_loaded_and_bound" lsmod_ok

exec 3<>/dev/vmmc0
check "rmmod_refused_while_endpoint_open" bash -c '! rmmod vmmc 2>/dev/null'
check "still_loaded" loaded
exec 3>&-

# a mapping keeps the endpoint (and the module) alive after close
python3 - <<'PY' &
import mmap, os, time
fd = os.open("/dev/vmmc0", os.O_RDWR)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ, offset=0x200000)
os.close(fd)
open("/tmp/vmmc_mapped", "w").close()
time.sleep(3)
m.close()
PY
pyp=$!
for _ in $(seq 50); do [ -e /tmp/vmmc_mapped ] && break; sleep 0.1; done
check "rmmod_refused_while_mapped" bash -c '! rmmod vmmc 2>/dev/null'
wait $pyp
rm -f /tmp/vmmc_mapped

check "rmmod_with_no_endpoint" rmmod vmmc
check "unloaded_device_gone" bash -c '! [ -e /dev/vmmc0 ] && ! grep -q "^vmmc " /proc/modules'
insmod "$ko"
check "reload_binds_again" lsmod_ok
check "reload_endpoint_opens" bash -c 'exec 3<>/dev/vmmc0'

tap_end
