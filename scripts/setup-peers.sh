#!/usr/bin/env bash
# Installs the third-party interop peers the tests use (../shared/INTEROP.md), from Debian.
# The one place the project installs system packages; .ci/run calls it. Idempotent.
set -euo pipefail

PACKAGES=(
  libosmocore-utils   # osmo-auc-gen: independent Milenage / AUTS
  libosmocore-dev     # headers for the C baseline in bench/milenage.bench.ts
  sip-tester          # sipp: a real SIP UA with Digest AKAv1-MD5
  tshark              # decodes SIP, Diameter Cx, ESP; checks ICVs
  freediameter        # freeDiameterd: a real Diameter peer
  iproute2            # ip netns for test namespaces
  kamailio            # a real S-CSCF (test/interop/kamailio-hss.test.ts)
  kamailio-ims-modules  # ims_auth, ims_registrar_scscf, ims_usrloc_scscf, cdp, cdp_avp, ims_dialog
  kamailio-presence-modules  # presence, loaded by the Kamailio S-CSCF
  user-mode-linux     # linux.uml: a Linux 6.1 kernel with ESP/XFRM as a process (scripts/lab, test/kernel)
  kmod                # modprobe for the lab's kernel modules
  tcpdump             # captures inside the lab's network namespaces
  postgresql          # throwaway PostgreSQL servers for the HSS store tests (test/support/postgres.ts)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-peers: all present (${PACKAGES[*]})"
  exit 0
fi
echo "setup-peers: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-peers: done"
