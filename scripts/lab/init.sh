#!/bin/sh
# PID 1 of the user-mode Linux guest started by scripts/lab/run.sh (not meant to be run by hand).
# The root file system is the host's / (hostfs); LAB_DIR (from the kernel command line) is a
# host directory holding the command (cmd.sh), its environment (env.sh) and, on the way out,
# its exit status (status). Mounts the guest's own proc, sys, dev and /run, loads the kernel
# modules the project needs with one modprobe, runs the command, and powers off.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
status=125
finish() {
  echo "$status" > "$LAB_DIR/status"
  sync
  poweroff -f > /dev/null 2>&1
}
trap finish EXIT

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# /run is the guest's own: `ip netns` keeps its state there, invisible to the host.
mount -t tmpfs tmpfs /run
# Console: no CR before LF, so the output reaches the host byte for byte.
for tty in /dev/console /dev/tty1; do stty -opost < "$tty" 2>/dev/null; done

# modprobe wants DIR/lib/modules/VERSION; UML's modules live under /usr/lib/uml/modules.
release=$(uname -r)
mkdir -p /run/lab/modules/lib/modules
ln -s "/usr/lib/uml/modules/$release" "/run/lab/modules/lib/modules/$release"
cat > /run/lab/modprobe <<MP
#!/bin/sh
exec /usr/sbin/modprobe -d /run/lab/modules "\$@"
MP
chmod 755 /run/lab/modprobe
# Templates such as rfc4106(gcm(aes)) are loaded on demand by the kernel through this helper.
echo /run/lab/modprobe > /proc/sys/kernel/modprobe
# One call for all of them: separate modprobe calls cost seconds each in the guest.
/run/lab/modprobe -a ipv6 xfrm_user xfrm_algo esp4 esp6 af_key veth authenc authencesn cbc ecb \
  hmac des_generic gcm ctr ghash-generic gf128mul echainiv seqiv cryptd \
  || echo "lab: modprobe failed" >&2

ip link set lo up
hostname imsec-lab

. "$LAB_DIR/env.sh"
cd "$LAB_WORKDIR" || exit
# stdout is the console (the host's stdout), stderr the second console (the host's stderr).
sh "$LAB_DIR/cmd.sh" < /dev/null 2> /dev/tty1
status=$?
