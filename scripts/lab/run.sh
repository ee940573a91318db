#!/usr/bin/env bash
# Runs one command as root inside a user-mode Linux kernel (Debian user-mode-linux, Linux 6.1)
# that uses this host's / as its root file system: a real kernel with ESP, XFRM, veth and
# network namespaces, without root or kernel IPsec on the host.
#
#   scripts/lab/run.sh [--timeout SECONDS] [--mem SIZE] [--workdir DIR] -- COMMAND [ARG...]
#
# The command runs in DIR (default: the current directory) with PATH, HOME, CI, TERM, LANG,
# NODE_OPTIONS and every IMSEC_* variable of the caller. Its stdout and stderr come out here;
# this script exits with its exit status, 124 when the time limit (default 600 s) ran out, 125
# when the guest did not report one. Files the command writes anywhere but /run, /dev, /proc
# and /sys land on the host. Exit 127 when linux.uml is missing (install user-mode-linux).
set -euo pipefail

timeout=600
mem=1G
workdir=$PWD
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "lab: unknown option $1 (usage: run.sh [--timeout S] [--mem SIZE] [--workdir DIR] -- COMMAND...)" >&2; exit 2 ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "lab: no command (usage: run.sh [--timeout S] [--mem SIZE] [--workdir DIR] -- COMMAND...)" >&2
  exit 2
fi
uml=${IMSEC_LAB_UML:-linux.uml}
if ! command -v "$uml" >/dev/null 2>&1; then
  echo "lab: $uml not found: install user-mode-linux (scripts/setup-peers.sh)" >&2
  exit 127
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
workdir=$(cd "$workdir" && pwd)

lab=$(mktemp -d "${TMPDIR:-/tmp}/imsec-lab.XXXXXX")
uml_pid=
# Every host process of this kernel carries LAB_DIR=$lab as its last argument: the kernel's own
# and one per guest address space, which linux.uml forks and traces. A SIGTERM that ends the
# kernel process can leave one of those behind, stopped (state T) with no tracer and holding our
# stdout and stderr, so that whoever reads them never sees them close (seen once, in a full test
# run on a loaded machine). After the kernel process is gone, SIGKILL whatever of this lab is left.
stop_kernel() {
  if [ -n "$uml_pid" ] && kill -0 "$uml_pid" 2>/dev/null; then
    kill -TERM "$uml_pid" 2>/dev/null || true
    wait "$uml_pid" 2>/dev/null || true
  fi
  uml_pid=
  local left=50
  while pkill -KILL -f -- "LAB_DIR=$lab\$" && [ $left -gt 0 ]; do sleep 0.02; left=$((left - 1)); done
}
cleanup() {
  stop_kernel
  rm -rf "$lab"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The command and its environment, quoted for the guest's sh.
{
  printf 'export LAB_WORKDIR=%q\n' "$workdir"
  for v in PATH HOME CI TERM LANG NODE_OPTIONS $(compgen -e | grep '^IMSEC_' || true); do
    [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
  done
} > "$lab/env.sh"
printf '%q ' exec "$@" > "$lab/cmd.sh"
echo >> "$lab/cmd.sh"

# The guest's UML "umid" directory and its hostfs paths must not contain spaces.
case "$lab$here" in *' '*) echo "lab: paths with spaces are not supported: $lab $here" >&2; exit 2 ;; esac

# con0 (the console: stdout, kernel messages are quiet) and con1 (the command's stderr).
"$uml" mem="$mem" quiet loglevel=0 rootfstype=hostfs rootflags=/ rw init="$here/init.sh" \
  con=null con0=fd:0,fd:1 con1=null,fd:2 ssl=null uml_dir="$lab" umid=lab \
  LAB_DIR="$lab" < /dev/null &
uml_pid=$!

# Wait for the guest, at most $timeout seconds; then stop the kernel (stop_kernel).
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
deadline=$(($(now_ms) + timeout * 1000))
while kill -0 "$uml_pid" 2>/dev/null; do
  if [ "$(now_ms)" -ge "$deadline" ]; then
    echo "lab: time limit of ${timeout}s reached, stopping the kernel" >&2
    stop_kernel
    exit 124
  fi
  sleep 0.2
done
wait "$uml_pid" 2>/dev/null || true
uml_pid=
if [ -s "$lab/status" ]; then exit "$(cat "$lab/status")"; fi
echo "lab: the guest reported no exit status" >&2
exit 125
