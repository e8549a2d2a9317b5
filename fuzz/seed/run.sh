#!/usr/bin/env bash
# Regenerates fuzz/seeds/ from real traffic. Starts `kt broker`, puts the recording proxy
# (fuzz/examples/capture.rs) in front of it, and drives through it: kcat on librdkafka 2.0.2
# and 2.16 (metadata, produce with every codec, consume, a consumer group; SASL PLAIN and
# SCRAM-SHA-256/512 against `kt broker --users`, with a wrong password too), kafka-python 2.0.2
# and confluent-kafka 1.7 (Debian), kafka-python 3.0.12 and confluent-kafka 2.16 (venv),
# kafkajs 2.2.4, and kt's own CLI; then kt's CLI against Tansu through a second proxy, for
# responses written by an independent broker. The raw captures are minimized per target with
# libFuzzer's merge (only inputs adding coverage are kept) into fuzz/seeds/<target>/.
#
# usage: fuzz/seed/run.sh            (needs `.ci/install-peers` done and cargo-fuzz installed)
# Loopback only. Takes a few minutes, most of it building.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PEERS="${KT_PEERS_DIR:-$root/target/peers}"
TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

log() { printf 'seed: %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "port $1 never opened"; return 1
}

log "building kt and the capture proxy"
cargo build -q --release -p kt --manifest-path "$root/Cargo.toml"
cargo build -q --release --manifest-path "$root/fuzz/Cargo.toml" --example capture
KT="$TARGET_DIR/release/kt"
CAPTURE="$TARGET_DIR/release/examples/capture"
raw="$work/raw"

BROKER=$(free_port); PROXY=$(free_port)
"$KT" broker --listen "127.0.0.1:$BROKER" --group-initial-rebalance-delay 0s 2>"$work/broker.log" &
pids+=($!)
wait_port "$BROKER"
"$CAPTURE" --listen "127.0.0.1:$PROXY" --upstream "127.0.0.1:$BROKER" --out "$raw" 2>"$work/capture.log" &
pids+=($!)
wait_port "$PROXY"
BS="127.0.0.1:$PROXY"

kcat_run() { # LIBDIR NAME
  local lib="$1" name="$2"
  local env=()
  if [ -n "$lib" ]; then env=(env "LD_LIBRARY_PATH=$lib"); fi
  log "kcat ($name)"
  "${env[@]}" kcat -b "$BS" -L >/dev/null
  for codec in none gzip snappy lz4 zstd; do
    printf 'k1:one\nk2:two\nthree-%s\n' "$codec" | "${env[@]}" kcat -b "$BS" -P -t "kcat-$name" -K: -z "$codec"
  done
  "${env[@]}" kcat -b "$BS" -C -t "kcat-$name" -o beginning -e -q >/dev/null
  timeout 20 "${env[@]}" kcat -b "$BS" -G "g-$name" "kcat-$name" -o beginning -e -q \
    -X session.timeout.ms=6000 -X enable.auto.commit=true -X auto.commit.interval.ms=100 >/dev/null || true
}
kcat_run "" "rdkafka-2.0.2"
kcat_run "$PEERS/librdkafka-2.16" "rdkafka-2.16"

py_scripts="$root/broker-sim/tests/python"
log "kafka-python 2.0.2, confluent-kafka 1.7"
/usr/bin/python3 "$py_scripts/kafka_python_roundtrip.py" "$BS" py-kp2 g-kp2 20 >/dev/null
/usr/bin/python3 "$py_scripts/confluent_roundtrip.py" "$BS" py-ck17 g-ck17 20 2 >/dev/null
log "kafka-python 3.0.12, confluent-kafka 2.16"
"$PEERS/venv/bin/python" "$py_scripts/kafka_python_roundtrip.py" "$BS" py-kp3 g-kp3 20 >/dev/null || log "kafka-python 3 run failed (see above); continuing"
"$PEERS/venv/bin/python" "$py_scripts/confluent_roundtrip.py" "$BS" py-ck216 g-ck216 20 2 >/dev/null
log "kafkajs"
NODE_PATH="$PEERS/node/node_modules" node "$root/fuzz/seed/kafkajs_roundtrip.js" "$BS" js-topic g-js 20 >/dev/null

kt_cli() { # BOOTSTRAP TOPIC
  local bs="$1" t="$2"
  "$KT" -b "$bs" topic create "$t" -p 3 --if-not-exists
  "$KT" -b "$bs" topic list >/dev/null
  "$KT" -b "$bs" topic describe "$t" >/dev/null
  for codec in none gzip snappy lz4 zstd; do
    printf 'key1:message1\nkey2:message2\nk3:%s\n' "$codec" | "$KT" -b "$bs" produce -t "$t" -k -z "$codec"
  done
  "$KT" -b "$bs" consume -t "$t" --from-beginning -e >/dev/null
  "$KT" -b "$bs" consume -t "$t" -g "g-$t" --from-beginning -e >/dev/null
  "$KT" -b "$bs" topic delete "$t" --if-exists || true
}
log "kt CLI against kt broker"
kt_cli "$BS" kt-topic

log "SASL: kcat (both librdkafka versions) and kafka-python 2.0.2 against kt broker --users"
printf 'alice:alice-secret\nbob:p4ss:word\n' >"$work/users"
SB=$(free_port); SP=$(free_port)
"$KT" broker --listen "127.0.0.1:$SB" --users "$work/users" --group-initial-rebalance-delay 0s 2>"$work/broker-sasl.log" &
pids+=($!)
wait_port "$SB"
"$CAPTURE" --listen "127.0.0.1:$SP" --upstream "127.0.0.1:$SB" --out "$work/raw-sasl" 2>>"$work/capture.log" &
pids+=($!)
wait_port "$SP"
for lib in "" "$PEERS/librdkafka-2.16"; do
  env=(); if [ -n "$lib" ]; then env=(env "LD_LIBRARY_PATH=$lib"); fi
  for mech in PLAIN SCRAM-SHA-256 SCRAM-SHA-512; do
    sasl=(-X security.protocol=SASL_PLAINTEXT -X "sasl.mechanisms=$mech" -X sasl.username=alice)
    printf 'k:v-%s\n' "$mech" | "${env[@]}" kcat -b "127.0.0.1:$SP" "${sasl[@]}" -X sasl.password=alice-secret -P -t sasl-topic -K: || true
    "${env[@]}" kcat -b "127.0.0.1:$SP" "${sasl[@]}" -X sasl.password=alice-secret -C -t sasl-topic -o beginning -e -q >/dev/null || true
    timeout 10 "${env[@]}" kcat -b "127.0.0.1:$SP" "${sasl[@]}" -X sasl.password=wrong -L >/dev/null 2>&1 || true
  done
done
/usr/bin/python3 - "127.0.0.1:$SP" <<'PYEOF' || log "kafka-python SASL run failed; continuing"
import sys
from kafka import KafkaProducer
for mech in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
    p = KafkaProducer(bootstrap_servers=sys.argv[1], security_protocol="SASL_PLAINTEXT",
                      sasl_mechanism=mech, sasl_plain_username="bob", sasl_plain_password="p4ss:word")
    p.send("sasl-topic", b"from kafka-python").get(timeout=30)
    p.close()
PYEOF
mkdir -p "$raw"
if [ -d "$work/raw-sasl/broker_requests" ]; then mv "$work/raw-sasl/broker_requests" "$raw/broker_sasl"; fi
if [ -d "$work/raw-sasl/client_responses" ]; then
  mkdir -p "$raw/client_responses"; cp "$work/raw-sasl/client_responses/"* "$raw/client_responses/"
fi

TANSU="$PEERS/bin/tansu"
if [ -x "$TANSU" ]; then
  log "kt CLI against Tansu"
  T=$(free_port); TP=$(free_port)
  "$TANSU" broker --listener-url "tcp://127.0.0.1:$T" --advertised-listener-url "tcp://127.0.0.1:$TP" \
    --storage-engine memory://tansu/ >"$work/tansu.log" 2>&1 &
  pids+=($!)
  wait_port "$T"
  "$CAPTURE" --listen "127.0.0.1:$TP" --upstream "127.0.0.1:$T" --out "$raw" 2>>"$work/capture.log" &
  pids+=($!)
  wait_port "$TP"
  kt_cli "127.0.0.1:$TP" tansu-topic || log "some kt CLI steps failed against Tansu (it lacks some APIs)"
fi

log "deriving decompress seeds (compressed record sections), adding text seeds"
python3 - "$raw" <<'PYEOF'
import hashlib, os, sys
raw = sys.argv[1]
def save(target, data):
    d = os.path.join(raw, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
# decompress: [codec byte][compressed records section] from every captured compressed batch
src = os.path.join(raw, "client_records")
for name in os.listdir(src) if os.path.isdir(src) else []:
    data = open(os.path.join(src, name), "rb").read()
    pos = 0
    while pos + 61 <= len(data):
        length = int.from_bytes(data[pos + 8:pos + 12], "big", signed=True)
        end = pos + 12 + length
        if length < 49 or end > len(data):
            break
        codec = int.from_bytes(data[pos + 21:pos + 23], "big") & 7
        if codec:
            save("decompress", bytes([codec]) + data[pos + 61:end])
        pos = end
# weblog: the tutorial's and Apache's documented forms
for line in [
    '10.0.0.1 - - [24/Nov/2026:10:15:01 +0000] "GET /index.html HTTP/1.1" 200 5120',
    '10.0.0.1 - - [24/Nov/2026:10:15:03 +0000] "POST /login HTTP/1.1" 302 -',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
    '199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] "GET /history/apollo/ HTTP/1.0" 200 6245\r',
    'h - - [01/Jul/1995:00:00:12 -0400] "GET /a\\"b HTTP/1.1" 404 0',
    '10.0.0.3 - - [24/Nov/2026:10:15:03 +0000] "GET /index.html" 200 10',
]:
    save("weblog", line.encode())
# cli_lines: [separator length][separator][line]
for sep, line in [(b":", b"key1:message1\n"), (b":", b"message2\r\n"), (b"::", b"k::v::w"), (b"\t", b"a\tb\n")]:
    save("cli_lines", bytes([len(sep)]) + sep + line)
PYEOF

log "minimizing into fuzz/seeds/"
FUZZ_TARGET_DIR="${KT_FUZZ_TARGET_DIR:-$TARGET_DIR/fuzz}"
FUZZ_BIN="$FUZZ_TARGET_DIR/x86_64-unknown-linux-gnu/release"
(cd "$root" && RUSTC_BOOTSTRAP=1 cargo fuzz build -O --target-dir "$FUZZ_TARGET_DIR" >/dev/null 2>&1)
for dir in "$raw"/*/; do
  target="$(basename "$dir")"
  seeds="$root/fuzz/seeds/$target"
  mkdir -p "$seeds"
  before=$(ls "$seeds" | wc -l)
  "$FUZZ_BIN/$target" -merge=1 -rss_limit_mb=2048 -malloc_limit_mb=512 "$seeds" "$dir" >"$work/merge-$target.log" 2>&1 \
    || { log "merge for $target failed:"; tail -5 "$work/merge-$target.log" >&2; }
  log "$target: $(ls "$dir" | wc -l) captured, seeds $before -> $(ls "$seeds" | wc -l)"
done
