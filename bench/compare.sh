#!/usr/bin/env bash
# kt side by side with librdkafka (kcat), Tansu and PySpark, in one command (see BENCHMARKS.md).
#
#   bench/compare.sh [--runs N] [--quick] [--skip clients|stream|spark] [--no-write]
#
# 1. installs or finds the peers: .ci/install-peers (kcat, librdkafka 2.16, Tansu, ...) and
#    PySpark 4.3.0 in its own venv under $PEERS/pyspark (Java 17 must be on the machine);
# 2. builds kt in release mode;
# 3. runs bench/compare.py, which prints the table and writes it into BENCHMARKS.md.
# Takes about 15 minutes on a 2-core machine (--quick: one run, smaller inputs, ~4 minutes).
# Not part of CI. Everything listens on 127.0.0.1 only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
PEERS="${KT_PEERS_DIR:-$root/target/peers}"
export KT_PEERS_DIR="$PEERS"

args=() write=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) args+=(--runs 1 --records 300000 --stream-backlog 3000000 --spark-seconds 25 --warmup-batches 6); shift ;;
    --no-write) write=0; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

echo "==> peers in $PEERS"
./.ci/install-peers >/dev/null
if [ ! -x "$PEERS/pyspark/bin/python" ] || ! "$PEERS/pyspark/bin/python" -c 'import pyspark' 2>/dev/null; then
  echo "==> installing pyspark 4.3.0 into $PEERS/pyspark"
  rm -rf "$PEERS/pyspark"
  python3 -m venv "$PEERS/pyspark"
  "$PEERS/pyspark/bin/pip" install -q --disable-pip-version-check pyspark==4.3.0
fi
if ! java -version 2>&1 | grep -q 'version "17'; then
  echo "==> installing Java 17 (openjdk-17-jre-headless) for PySpark"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    openjdk-17-jre-headless >/dev/null
  export JAVA_HOME="$(dirname "$(dirname "$(readlink -f /usr/lib/jvm/java-17-openjdk-*/bin/java)")")"
  export PATH="$JAVA_HOME/bin:$PATH"
fi

echo "==> cargo build --release -p kt"
cargo build --release -q -p kt
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="$target_dir/bench"
mkdir -p "$work"

out=()
[ "$write" = 1 ] && out=(--benchmarks-md "$root/BENCHMARKS.md")
exec /usr/bin/env python3 "$root/bench/compare.py" --kt "$target_dir/release/kt" --peers "$PEERS" \
  --work "$work" "${out[@]}" "${args[@]}"
