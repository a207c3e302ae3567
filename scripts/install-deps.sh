#!/usr/bin/env bash
# Installs the Debian packages finetune.cpp needs, in two groups:
#   build   what configuring and building the library and the `finetune` CLI read, and so all
#           that `make demo` needs;
#   test    what the tests, the sanitizer and fuzzing build, the tools/ oracles and the
#           benchmarks add (`make test` installs both groups).
# Usage: scripts/install-deps.sh [build|all]      (default: all)
#        scripts/install-deps.sh --list [build|all]  prints the group's packages, installs nothing
# Idempotent and non-interactive: installs only what is missing, never Recommends (a fresh machine
# gets exactly this list and its Depends; scripts/check-build-deps.sh checks that this is enough).
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  nlohmann-json3-dev libcli11-dev libzip-dev
  libdnnl-dev
  ocl-icd-opencl-dev # dnnl-config.cmake calls find_package(OpenCL); libdnnl-dev only Recommends it
  libutf8proc-dev libsnappy-dev libzstd-dev zlib1g-dev
  libcurl4-openssl-dev libssl-dev libyaml-cpp-dev
  libsentencepiece-dev # XLM-R's tokenizer: SentencePiece's normaliser and Unigram model
)
TEST_PACKAGES=(
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libomp-dev libclang-rt-dev # the sanitizer + libFuzzer build: clang, its OpenMP, ASan/UBSan/libFuzzer runtimes
  python3 python3-torch python3-numpy # tools/: the PyTorch oracles the tests compare against
  sentencepiece # tools/make_xlmr_spm.sh: spm_train, for the XLM-R tokenizer goldens' model
  libopenblas0-pthread # the BLAS of the PyTorch peer in bench/, as in the reference environment
)

list_only=0
if [ "${1:-}" = "--list" ]; then
  list_only=1
  shift
fi
group=${1:-all}
case "$group" in
  build) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  all) PACKAGES=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *)
    echo "usage: $0 [--list] [build|all]" >&2
    exit 2
    ;;
esac
if [ $list_only -eq 1 ]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps ($group): installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
