#!/usr/bin/env bash
# KVShare-Web GPU check (docs/GPU-CHECK.md), built by `npm run gpu-check`. From the repository root:
#   bash gpu-kit/run.sh             on the GPU machine (device tool: carry ["gpu-kit"]); ~8 min
#   bash gpu-kit/run.sh --dry-run   the rehearsal on a software adapter: small shapes, short budgets
# Other arguments go to the check (--only adapter,kernels,golden,bench,ttft). Results: report.json,
# report.txt, env.txt and run.log in $OUT (default ./gpu-out). Node, Dawn and the Vulkan loader are
# unpacked into a scratch folder, removed at the end; nothing is installed system-wide.
set -uo pipefail
KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
SCRATCH="${KVSHARE_KIT_SCRATCH:-${TMPDIR:-/tmp}/kvshare-gpu-kit.$$}"
DRY=0
for a in "$@"; do [ "$a" = "--dry-run" ] && DRY=1; done
exec > >(tee "$OUT/run.log") 2>&1
say() { echo "[run.sh] $*"; }
fail() { say "FAILED: $*"; exit 3; }

gunzip_to() { # file.gz -> file
  if command -v gzip >/dev/null 2>&1; then gzip -dc "$1" >"$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import gzip,shutil,sys; shutil.copyfileobj(gzip.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  else return 1; fi
}

unpack_deb() { # file.deb -> dir (dpkg-deb, else Python reading the ar archive and its data.tar)
  if command -v dpkg-deb >/dev/null 2>&1; then dpkg-deb -x "$1" "$2"; return; fi
  python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'!<arch>\n', 'not a .deb'
i = 8
while i < len(data):
    name, size = data[i:i + 16].decode().strip(), int(data[i + 48:i + 58])
    body = data[i + 60:i + 60 + size]
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
        break
    i += 60 + size + (size & 1)
PY
}

START=$(date +%s)
mkdir -p "$SCRATCH/bin" "$SCRATCH/js/dist/linux-x64" "$SCRATCH/sysroot" "$SCRATCH/work"
trap 'rm -rf "$SCRATCH"' EXIT
say "kit $KIT, scratch $SCRATCH, out $OUT"
gunzip_to "$KIT/bin/node.gz" "$SCRATCH/bin/node" || fail "cannot unpack Node (no gzip, no python3)"
chmod +x "$SCRATCH/bin/node"
gunzip_to "$KIT/js/dawn.node.gz" "$SCRATCH/js/dist/linux-x64/dawn.node" || fail "cannot unpack dawn.node"
cp "$KIT/js/kit.mjs" "$SCRATCH/js/kit.mjs"
for deb in "$KIT"/debs/*.deb; do unpack_deb "$deb" "$SCRATCH/sysroot" || fail "cannot unpack $deb"; done
# The synth command copies stories260K's tokenizer from $KVSHARE_ASSETS/stories260K-hf.
export KVSHARE_ASSETS="$KIT/assets"
export LD_LIBRARY_PATH="$SCRATCH/sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$SCRATCH/bin/node" --version >/dev/null || fail "the unpacked Node does not start (glibc / libstdc++ too old?)"

# The NVIDIA Vulkan driver: its ICD JSON where the loader does not look by itself (containers mount it
# under /usr/local/nvidia), else a JSON written here for libGLX_nvidia.so.0.
if [ "$DRY" = 0 ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  ICD=""
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json \
    /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$f" ]; then ICD="$f"; break; fi
  done
  [ -n "$ICD" ] || ICD="$(find /usr /etc /opt -maxdepth 7 -name 'nvidia_icd*.json' 2>/dev/null | head -n 1)"
  if [ -z "$ICD" ]; then
    LIB="$( (ldconfig -p 2>/dev/null | grep -o '/[^ ]*libGLX_nvidia\.so\.0$'; find /usr /lib -maxdepth 5 -name 'libGLX_nvidia.so.0' 2>/dev/null) | head -n 1)"
    if [ -n "$LIB" ]; then
      ICD="$SCRATCH/nvidia_icd.json"
      printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$LIB" >"$ICD"
    fi
  fi
  if [ -n "$ICD" ]; then
    export VK_DRIVER_FILES="$ICD" VK_ICD_FILENAMES="$ICD"
    say "Vulkan driver: $ICD"
  else
    say "no NVIDIA Vulkan ICD found: the check will report the adapter Dawn finds (if any)"
  fi
fi

{
  echo "date: $(date -u +%FT%TZ)"
  echo "uname: $(uname -a)"
  grep -h PRETTY_NAME /etc/os-release 2>/dev/null
  echo "glibc: $(ldd --version 2>/dev/null | head -n 1)"
  echo "cpus: $(nproc 2>/dev/null); memory: $(grep MemTotal /proc/meminfo 2>/dev/null)"
  echo "node: $("$SCRATCH/bin/node" --version)"
  echo "vulkan loader: $(ls "$SCRATCH"/sysroot/usr/lib/x86_64-linux-gnu/libvulkan.so.1* 2>/dev/null | tr '\n' ' ')(on LD_LIBRARY_PATH)"
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
  [ -n "${VK_DRIVER_FILES:-}" ] && [ -f "$VK_DRIVER_FILES" ] && cat "$VK_DRIVER_FILES"
  echo "devices: $(ls /dev/nvidia* /dev/dri 2>/dev/null | tr '\n' ' ')"
  command -v nvidia-smi >/dev/null 2>&1 &&
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.memory,pcie.link.gen.max --format=csv
  echo "ldd dawn.node:"
  ldd "$SCRATCH/js/dist/linux-x64/dawn.node" 2>&1
} >"$OUT/env.txt" 2>&1
say "unpacked in $(($(date +%s) - START)) s; running the check"

"$SCRATCH/bin/node" "$SCRATCH/js/kit.mjs" check --assets "$KIT/assets" --manifest "$KIT/manifest.json" \
  --out "$OUT" --work "$SCRATCH/work" "$@"
RC=$?
say "done in $(($(date +%s) - START)) s, exit $RC; results in $OUT"
exit $RC
