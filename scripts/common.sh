# Shared by scripts/run and scripts/test. Source it; do not run it.
set -euo pipefail

MB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MB_STAGE_START=$(date +%s)

# Build and runtime packages from Debian 12. Keep in step with docker/Dockerfile.
MB_BUILD_PACKAGES=(
  g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libssl-dev libsimdjson-dev libsoxr-dev libspdlog-dev libsqlite3-dev
  catch2 ca-certificates curl
)

stage() {
  local now; now=$(date +%s)
  echo "==> [$(date +%H:%M:%S)] $* (previous stage took $((now - MB_STAGE_START)) s)"
  MB_STAGE_START=$now
}

# Installs whatever of the given Debian packages is missing; silent when all are present.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# configure_and_build DIR BUILD_TYPE [extra cmake args...]
configure_and_build() {
  local dir=$1 type=$2; shift 2
  export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
  # Relative paths in the cache keys: a clone in another folder (CI's fresh checkout) hits the same cache.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$MB_ROOT")}
  if [ ! -f "$MB_ROOT/$dir/build.ninja" ]; then
    cmake -S "$MB_ROOT" -B "$MB_ROOT/$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  else
    cmake "$MB_ROOT/$dir" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  fi
  # Beast translation units need ~2 GB each; two jobs fit the 2-core machines.
  cmake --build "$MB_ROOT/$dir" -j "${MB_JOBS:-$(nproc)}"
}
