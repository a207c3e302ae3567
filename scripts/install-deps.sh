#!/usr/bin/env bash
# Installs the Debian packages finetune.cpp needs to build, test and benchmark.
# Idempotent and non-interactive: installs only what is missing. Works as root (or via sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang
  nlohmann-json3-dev libcli11-dev libzip-dev libomp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libdnnl-dev
  libutf8proc-dev libsnappy-dev libzstd-dev zlib1g-dev libcurl4-openssl-dev
  libssl-dev libyaml-cpp-dev
  python3 python3-torch python3-numpy
  libopenblas0-pthread  # the BLAS of the PyTorch peer in bench/, as in the reference environment
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
