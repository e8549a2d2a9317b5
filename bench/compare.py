#!/usr/bin/env python3
"""kt side by side with librdkafka (kcat), Tansu and PySpark, on this machine, in one run.

Started by bench/compare.sh (which installs the peers and builds kt); see BENCHMARKS.md for
what is measured and how. Standard library only. Every number is the median of --runs runs,
and every ratio is kt / peer computed from numbers measured in this same run.

    python3 bench/compare.py --kt target/release/kt --peers target/peers [--runs 3] [--quick]
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

from load import Sections

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


# ---------------------------------------------------------------- processes and /proc


def cpu_seconds(pid):
    """CPU seconds a process used so far: the larger of /proc/PID/stat's utime + stime (all
    threads, exited ones included, in clock ticks) and the sum of its live threads'
    nanosecond counters in /proc/PID/task/*/schedstat (finer; brokers keep their threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    ticks = (int(fields[11]) + int(fields[12])) / CLK_TCK
    ns = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    ns += int(f.read().split()[0])
            except OSError:
                pass
    except OSError:
        pass
    return max(ticks, ns / 1e9)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_rss(pid):
    total = 0
    for p in descendants(pid):
        try:
            total += rss_bytes(p)
        except OSError:
            pass
    return total


class RssSampler:
    """Samples the RSS of a process tree every 100 ms and keeps the peak; with `track_cpu`,
    also the last CPU seconds seen of each process below the root."""

    def __init__(self, pid, track_cpu=False):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self.track_cpu, self.cpu = track_cpu, {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.1):
            try:
                self.peak = max(self.peak, tree_rss(self.pid))
            except OSError:
                pass
            if self.track_cpu:
                for p in descendants(self.pid)[1:]:
                    try:
                        self.cpu[p] = cpu_seconds(p)
                    except OSError:
                        pass

    def orphan_cpu(self):
        """CPU seconds of the processes below the root (as last sampled)."""
        return sum(self.cpu.values())

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


def kill_tree(proc):
    """Ends a process started with start_new_session=True and everything it started."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- brokers


def metadata_answered(port, timeout=0.5):
    """Sends a Metadata v0 request (all topics) and waits for the size of its answer."""
    client_id = b"kt-compare"
    body = struct.pack(">hhih", 3, 0, 1, len(client_id)) + client_id + struct.pack(">i", 0)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(struct.pack(">i", len(body)) + body)
            head = b""
            while len(head) < 8:
                chunk = s.recv(8 - len(head))
                if not chunk:
                    return False
                head += chunk
            size, correlation = struct.unpack(">ii", head)
            return size > 4 and correlation == 1
    except OSError:
        return False


class BrokerProc:
    """A kt broker or a Tansu process on a free loopback port."""

    def __init__(self, kind, args):
        self.kind, self.port = kind, free_port()
        addr = f"127.0.0.1:{self.port}"
        if kind == "kt":
            cmd = [args.kt, "broker", "--listen", addr, "--group-initial-rebalance-delay", "0s"]
        else:
            url = f"tcp://{addr}"
            cmd = [
                os.path.join(args.peers, "bin", "tansu"), "broker",
                "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
            ]
        self.log = tempfile.TemporaryFile()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.bootstrap = addr
        self.ready_after = None

    def wait_ready(self, limit=30.0):
        """Seconds from process start to the first Metadata answer."""
        while time.perf_counter() - self.started < limit:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.kind} broker exited: {self.log.read()[-2000:]!r}")
            if metadata_answered(self.port):
                self.ready_after = time.perf_counter() - self.started
                return self.ready_after
            time.sleep(0.001)
        raise RuntimeError(f"{self.kind} broker did not answer Metadata within {limit} s")

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def rss(self):
        return rss_bytes(self.proc.pid)

    def stop(self):
        kill_tree(self.proc)


# ---------------------------------------------------------------- clients


def kcat_env(args, version):
    env = dict(os.environ)
    if version == "2.16":
        env["LD_LIBRARY_PATH"] = os.path.join(args.peers, "librdkafka-2.16")
    return env


def timed(cmd, stdin_path=None, env=None, limit=600):
    """Runs cmd with stdin from a file and stdout to /dev/null: (wall s, client CPU s, ok, err)."""
    before = os.times()
    start = time.perf_counter()
    with open(stdin_path or os.devnull, "rb") as stdin:
        p = subprocess.run(
            cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
            timeout=limit,
        )
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, p.returncode == 0, p.stderr.decode(errors="replace")[-600:]


def produce_cmd(args, client, broker, topic):
    if client == "kt":
        return [
            args.kt, "-b", broker.bootstrap, "produce", "--topic", topic,
            "--linger", "5ms", "--batch-size", "1000000", "--acks", "all",
        ], None
    return [
        "kcat", "-P", "-b", broker.bootstrap, "-t", topic,
        "-X", "linger.ms=5", "-X", "batch.size=1000000", "-X", "acks=all",
    ], kcat_env(args, client.split("-")[1])


def consume_cmd(args, client, broker, topic):
    if client == "kt":
        # `-n` rather than `-e`: kt's `-e` takes the end from ListOffsets, which Tansu 0.6
        # answers one batch short (the last batch's base offset); the count is checked anyway.
        return [
            args.kt, "-b", broker.bootstrap, "consume", "--topic", topic, "--from-beginning",
            "-n", str(args.records),
        ], None
    return [
        "kcat", "-C", "-b", broker.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
    ], kcat_env(args, client.split("-")[1])


def create_topic(args, broker, topic):
    p = subprocess.run(
        [args.kt, "-b", broker.bootstrap, "topic", "create", topic, "--partitions", "1"],
        capture_output=True, timeout=60,
    )
    if p.returncode != 0:
        raise RuntimeError(f"creating {topic} on {broker.kind}: {p.stderr.decode()}")


def count_records(args, broker, topic):
    """Records in `topic`, by reading it with kcat on librdkafka 2.16 (whose end-of-partition
    comes from the Fetch responses' high watermark; Tansu 0.6's ListOffsets answers the last
    batch's base offset as the end, so offsets cannot be trusted there)."""
    p = subprocess.run(
        ["kcat", "-C", "-b", broker.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\\n"],
        capture_output=True, timeout=300, env=kcat_env(args, "2.16"),
    )
    return p.stdout.count(b"\n") if p.returncode == 0 else -1


# ---------------------------------------------------------------- data


def write_data(work, records, size, words_lines):
    """Deterministic inputs: `records` lines of `size` bytes (value bytes, plus a newline),
    and `words_lines` lines of 10 words from a 1,000-word vocabulary."""
    rng = random.Random(7)
    lines = os.path.join(work, f"lines-{records}x{size}.txt")
    if not os.path.exists(lines):
        letters = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        pool = bytes(rng.choice(letters) for _ in range(size * 1000 + size))
        with open(lines + ".tmp", "wb") as f:
            for i in range(records):
                stamp = b"%010d " % i
                j = (i * 7919) % 1000
                f.write((stamp + pool[j * size : j * size + size])[:size] + b"\n")
        os.rename(lines + ".tmp", lines)
    words = os.path.join(work, f"words-{words_lines}.txt")
    if not os.path.exists(words):
        vocab = [
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
            for _ in range(1000)
        ]
        with open(words + ".tmp", "w") as f:
            for _ in range(words_lines):
                f.write(" ".join(rng.choice(vocab) for _ in range(10)) + "\n")
        os.rename(words + ".tmp", words)
    return lines, words


# ---------------------------------------------------------------- 1 + 2: clients and brokers


CLIENTS = ["kcat-2.16", "kt", "kcat-2.0.2"]


def client_and_broker_run(args, lines, records, size, run):
    """One run, per broker: fresh broker; kcat 2.16 first (the broker measurements come from
    its workload), then kt, then kcat 2.0.2; each produces the file into its own topic and
    reads it back."""
    results = []  # dicts
    for kind in ["kt", "tansu"]:
        broker = BrokerProc(kind, args)
        try:
            ready = broker.wait_ready()
            time.sleep(0.5)
            idle_rss = broker.rss()
            for client in CLIENTS:
                topic = f"bench-{client.replace('.', '')}"
                create_topic(args, broker, topic)
                row = {"run": run, "broker": kind, "client": client, "ready_s": ready}
                for phase, make in [("produce", produce_cmd), ("consume", consume_cmd)]:
                    cmd, env = make(args, client, broker, topic)
                    cpu0 = broker.cpu()
                    wall, ccpu, ok, err = timed(cmd, lines if phase == "produce" else None, env)
                    row[f"{phase}_s"] = wall if ok else None
                    row[f"{phase}_client_cpu"] = ccpu
                    row[f"{phase}_broker_cpu"] = broker.cpu() - cpu0
                    if not ok:
                        row[f"{phase}_error"] = err.strip().splitlines()[-1:] if err else ["failed"]
                    if phase == "produce" and client == CLIENTS[0]:
                        time.sleep(0.5)
                        row["idle_rss"] = idle_rss
                        row["rss_after"] = broker.rss()
                # Not timed: every record must be there (a produce that lost records or a
                # consume of a short topic would be a fast, wrong number).
                stored = count_records(args, broker, topic)
                row["stored"] = stored
                if stored != records:
                    row["produce_s"] = row["consume_s"] = None
                    row.setdefault("produce_error", [f"{stored} of {records} records read back"])
                results.append(row)
                print(f"  run {run + 1} {kind:5} {client:10} " + fmt_row(row, records), flush=True)
        finally:
            broker.stop()
    return results


def fmt_row(row, records):
    def rate(s):
        return f"{records / s / 1e6:.2f} M/s" if s else "failed"

    return (
        f"produce {rate(row.get('produce_s'))} (broker {row['produce_broker_cpu']:.2f} CPU-s), "
        f"consume {rate(row.get('consume_s'))} (broker {row['consume_broker_cpu']:.2f} CPU-s)"
    )


def startup_runs(args):
    out = {"kt": [], "tansu": []}
    for _ in range(max(args.runs, 5)):
        for kind in out:
            b = BrokerProc(kind, args)
            try:
                out[kind].append(b.wait_ready())
            finally:
                b.stop()
    return {k: statistics.median(v) for k, v in out.items()}


# ---------------------------------------------------------------- 3: streaming


def feeder(path, port, ready):
    """Serves `path` over and over to the first connection (the Spark receiver)."""
    data = open(path, "rb").read()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    ready.set()
    conn, _ = srv.accept()
    try:
        while True:
            conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()
        srv.close()


SPARK_FLOOR = 10_000  # lines per 1 s batch; see spark_run


def spark_run(args, words, seconds, sections):
    python = os.path.join(args.peers, "pyspark", "bin", "python")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spark_wordcount.py")
    port = free_port()
    ready = threading.Event()
    threading.Thread(target=feeder, args=(words, port, ready), daemon=True).start()
    ready.wait()
    out = tempfile.mkdtemp(prefix="kt-compare-spark-")
    start = time.time()
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [python, script, "127.0.0.1", str(port), os.path.join(out, "f"), str(seconds)],
        stdout=subprocess.PIPE, stderr=err, start_new_session=True,
    )
    sampler = RssSampler(proc.pid, track_cpu=True)
    batches = []
    try:
        for line in proc.stdout:
            try:
                batches.append(json.loads(line))
            except ValueError:
                continue
        proc.wait(timeout=seconds + 120)
    finally:
        peak = sampler.stop()
        kill_tree(proc)
        subprocess.run(["rm", "-rf", out])
        # The driver exits without reaping its JVM: count the JVM's CPU as ours, not others'.
        sections.orphan_cpu += sampler.orphan_cpu()
    if not batches:
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"PySpark completed no batch: {' | '.join(tail)}")
    steady = [b["records"] for b in batches[args.warmup_batches :]] or [b["records"] for b in batches]
    # Back-pressure's PID estimator falls to its floor (spark.streaming.backpressure.minRate,
    # 100/s) when batches run late on a loaded machine and climbs back only slowly: such a run
    # measures the load, not Spark, and would flatter kt; it counts as a failed run.
    if statistics.median(steady) <= SPARK_FLOOR:
        raise RuntimeError(
            f"PySpark's back-pressure fell to its floor ({statistics.median(steady):.0f} lines per"
            f" batch; batches took up to {max(b['processing_ms'] for b in batches)} ms):"
            " the machine was too loaded to measure it"
        )
    return {
        "records_per_s": statistics.median(steady),
        "first_batch_s": batches[0]["t"] - start,
        "peak_rss": peak,
        "batches": len(batches),
        "max_processing_ms": max(b["processing_ms"] for b in batches[args.warmup_batches :] or batches),
    }


BATCH_LINE = re.compile(r"^batch (\d+) ms: (\d+) records.*processing (\d+) ms")


def kt_stream(args, broker, topic, group, extra, until_batches, timeout=300):
    """Runs `kt stream wordcount` until it completed `until_batches` batches; returns
    (batches [(records, processing_ms, seconds since start)], peak RSS)."""
    out = tempfile.mkdtemp(prefix="kt-compare-stream-")
    cmd = [
        args.kt, "-b", broker.bootstrap, "stream", "wordcount", "--topic", topic,
        "--group", group, "--batch", "1s", "--out", os.path.join(out, "f"), "--suffix", "log",
        "--batches", str(until_batches),
    ] + extra
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    sampler = RssSampler(proc.pid)
    batches = []
    try:
        deadline = time.time() + timeout
        for line in proc.stdout:
            m = BATCH_LINE.match(line.decode(errors="replace"))
            if m:
                batches.append((int(m.group(2)), int(m.group(3)), time.time() - start))
            if time.time() > deadline:
                break
        proc.wait(timeout=60)
        err = proc.stderr.read().decode(errors="replace")
        if proc.returncode != 0:
            raise RuntimeError(f"kt stream failed: {err[-800:]}")
    finally:
        peak = sampler.stop()
        kill_tree(proc)
        subprocess.run(["rm", "-rf", out])
    return batches, peak


def fill_topic(args, broker, topic, words, copies):
    create_topic(args, broker, topic)
    for _ in range(copies):
        cmd, env = produce_cmd(args, "kt", broker, topic)
        _, _, ok, err = timed(cmd, words, env)
        if not ok:
            raise RuntimeError(f"filling {topic}: {err}")


def kt_stream_runs(args, words, words_lines):
    """Sustained rate: the highest --max-rate (records per 1 s batch) at which every batch
    of a run over a preloaded backlog finishes within the interval; found by calibrating on
    an uncapped batch and confirming (stepping down 15 % on a miss). First batch: process start
    to the first completed batch with no backlog (a new group starting at the end)."""
    broker = BrokerProc("kt", args)
    try:
        broker.wait_ready()
        copies = max(1, args.stream_backlog // words_lines)
        fill_topic(args, broker, "words", words, copies)
        backlog = copies * words_lines
        # Calibrate: one uncapped batch over (part of) the backlog.
        cal, _ = kt_stream(args, broker, "words", "calibrate", ["--from-beginning", "--max-rate", str(min(backlog, 4_000_000))], 1)
        records, ms, _ = cal[0]
        rate = int(records / max(ms, 1) * 1000 * 0.9)
        sustained, peak, tried = None, 0, []
        for attempt in range(4):
            n_batches = max(2, min(args.stream_batches, backlog // max(rate, 1)))
            got, peak = kt_stream(args, broker, "words", f"sustain-{attempt}", ["--from-beginning", "--max-rate", str(rate)], n_batches)
            worst = max(b[1] for b in got)
            tried.append((rate, worst))
            if worst < 1000 and all(b[0] == rate for b in got[:-1]):
                sustained = statistics.median(b[0] for b in got)
                break
            rate = int(rate * 0.85)
        firsts = []
        for r in range(args.runs):
            got, _ = kt_stream(args, broker, "words", f"first-{r}", [], 1)
            firsts.append(got[0][2])
        return {
            "records_per_s": sustained,
            "tried": tried,
            "first_batch_s": statistics.median(firsts),
            "peak_rss": peak,
            "calibration": (records, ms),
        }
    finally:
        broker.stop()


# ---------------------------------------------------------------- report


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    return f"{os.cpu_count()} x {cpu}, {mem / 2**30:.0f} GiB RAM, Linux {platform.release()}"


def med(rows, key, **match):
    vals = [r[key] for r in rows if all(r.get(k) == v for k, v in match.items()) and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def build_table(rows, startup, stream, spark, records, size):
    """Lines of a markdown table: what, kt, peer, ratio kt/peer, target, met."""
    out = []

    def add(what, kt, peer, unit, ratio, target, met):
        def f(v):
            return "n/a" if v is None else (f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}")

        r = "n/a" if ratio is None else f"{ratio:.2f}"
        m = "n/a" if met is None else ("yes" if met else "**no**")
        out.append(f"| {what} | {f(kt)} {unit} | {f(peer)} {unit} | {r} | {target} | {m} |")

    def tput(seconds):
        return None if seconds is None else records / seconds

    # 1. client: kt produce/consume vs kcat, on each broker.
    for broker in ["kt", "tansu"] if rows else []:
        for phase, target in [("produce", 1.2), ("consume", 1.5)]:
            kt = tput(med(rows, f"{phase}_s", broker=broker, client="kt"))
            for peer in ["kcat-2.16", "kcat-2.0.2"]:
                p = tput(med(rows, f"{phase}_s", broker=broker, client=peer))
                ratio = kt / p if kt and p else None
                binding = peer == "kcat-2.16"
                add(
                    f"client {phase} on {broker} broker: kt vs {peer} (records/s)",
                    kt, p, "rec/s", ratio, f">= {target}" if binding else "(info)",
                    (ratio >= target) if (binding and ratio) else None,
                )
    # 2. broker, both driven by kcat 2.16.
    def per_million(broker, phase):
        cpu = med(rows, f"{phase}_broker_cpu", broker=broker, client="kcat-2.16")
        return None if cpu is None else cpu / (records / 1e6)

    for phase in ["produce", "consume"] if rows else []:
        kt, ta = tput(med(rows, f"{phase}_s", broker="kt", client="kcat-2.16")), tput(med(rows, f"{phase}_s", broker="tansu", client="kcat-2.16"))
        add(f"broker {phase} throughput with kcat 2.16 (records/s)", kt, ta, "rec/s", kt / ta if kt and ta else None, "(info)", None)
        kt, ta = per_million("kt", phase), per_million("tansu", phase)
        ratio = kt / ta if kt is not None and ta else None
        add(f"broker CPU per 1 M records {phase}d (CPU-s)", kt, ta, "s", ratio, "<= 0.33", None if ratio is None else ratio <= 1 / 3)
    if not rows:
        return out + stream_rows(stream, spark, add)
    kt_idle, ta_idle = med(rows, "idle_rss", broker="kt"), med(rows, "idle_rss", broker="tansu")
    add("broker RSS idle (MiB)", kt_idle and kt_idle / MIB, ta_idle and ta_idle / MIB, "MiB",
        kt_idle / ta_idle if kt_idle and ta_idle else None, "(info)", None)
    stored_bytes = records * size

    def growth(broker):
        vals = [(r["rss_after"] - r["idle_rss"]) for r in rows if r["broker"] == broker and "rss_after" in r]
        return statistics.median(vals) if vals else None

    kg, tg = growth("kt"), growth("tansu")
    ratio = kg / tg if kg and tg else None
    add(f"broker RSS growth per stored byte (after 1 M x {size} B)", kg and kg / stored_bytes, tg and tg / stored_bytes, "B/B",
        ratio, "<= 1.1", None if ratio is None else ratio <= 1.1)
    ks, ts = startup["kt"], startup["tansu"]
    add("broker start to first Metadata answer (ms)", ks * 1000, ts * 1000, "ms", ks / ts, "<= 0.5", ks / ts <= 0.5)
    return out + stream_rows(stream, spark, add)


def stream_rows(stream, spark, add):
    before = []
    # 3. streaming.
    # kt's rows stand even when every PySpark run failed (peer and ratio n/a).
    if stream is not None:
        sp = spark or {}
        k, s = stream["records_per_s"], sp.get("records_per_s")
        ratio = k / s if k and s else None
        add("stream word count, sustained lines/s at 1 s batches", k, s, "lines/s", ratio, ">= 20", None if ratio is None else ratio >= 20)
        k, s = stream["first_batch_s"], sp.get("first_batch_s")
        add("stream: process start to first completed batch (s)", k, s, "s", k / s if s else None, "kt <= 1.05 s", k <= 1.05)
        k, s = stream["peak_rss"], sp.get("peak_rss")
        add("stream: peak RSS (MiB)", k / MIB, s and s / MIB, "MiB", k / s if s else None, "(info)", None)
    return before


MARK_START = "<!-- compare.sh results: start -->"
MARK_END = "<!-- compare.sh results: end -->"


def write_benchmarks_md(path, section):
    text = open(path).read() if os.path.exists(path) else ""
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        _, tail = rest.split(MARK_END, 1)
        text = head + MARK_START + "\n" + section + MARK_END + tail
    else:
        text += f"\n{MARK_START}\n{section}{MARK_END}\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kt", required=True, help="the kt binary (release build)")
    ap.add_argument("--peers", required=True, help="the peers folder (.ci/install-peers)")
    ap.add_argument("--work", default=None, help="where input files are kept")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--record-size", type=int, default=100)
    ap.add_argument("--stream-backlog", type=int, default=8_000_000, help="lines preloaded for kt stream")
    ap.add_argument("--stream-batches", type=int, default=8)
    ap.add_argument("--spark-seconds", type=float, default=40)
    ap.add_argument("--warmup-batches", type=int, default=10, help="Spark batches ignored for the steady rate")
    ap.add_argument("--skip", action="append", default=[], choices=["clients", "stream", "spark"])
    ap.add_argument("--benchmarks-md", default=None, help="file to write the table into")
    ap.add_argument("--max-foreign-load", type=float, default=0.3,
                    help="cores other processes may use during a section before it is re-run")
    ap.add_argument("--load-retries", type=int, default=1, help="re-runs of a section under load")
    ap.add_argument("--max-wait", type=float, default=20, help="seconds to wait for a quiet machine")
    args = ap.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="kt-compare-")
    os.makedirs(work, exist_ok=True)
    words_lines = 1_000_000
    print(f"inputs in {work}", flush=True)
    lines, words = write_data(work, args.records, args.record_size, words_lines)

    sections = Sections(args.max_foreign_load, args.load_retries, args.max_wait)
    rows, startup, stream, spark = [], {"kt": float("nan"), "tansu": float("nan")}, None, None
    if "clients" not in args.skip:
        print("== 1+2: clients and brokers", flush=True)
        for run in range(args.runs):
            rows += sections.run(
                f"clients and brokers, run {run + 1}",
                lambda: client_and_broker_run(args, lines, args.records, args.record_size, run),
            )
        print("== broker start-up", flush=True)
        startup = sections.run("broker start-up", lambda: startup_runs(args))
        print(f"  start to first Metadata: kt {startup['kt'] * 1000:.1f} ms, tansu {startup['tansu'] * 1000:.1f} ms")
    if "stream" not in args.skip:
        print("== 3: kt stream wordcount", flush=True)
        stream = sections.run("kt stream wordcount", lambda: kt_stream_runs(args, words, words_lines))
        print(f"  {stream}", flush=True)
    spark_note = ""
    if "spark" not in args.skip:
        print("== 3: PySpark DStream word count", flush=True)
        runs = []

        def one_spark_run():
            try:
                r = spark_run(args, words, args.spark_seconds, sections)
                print(f"  {r}", flush=True)
                return r
            except RuntimeError as e:
                print(f"  PySpark run failed: {e}", flush=True)
                return e

        for run in range(args.runs):
            r = sections.run(
                f"PySpark, run {run + 1}", one_spark_run,
                ok=lambda r: not isinstance(r, RuntimeError),
            )
            if isinstance(r, RuntimeError):
                spark_note += f"\nA PySpark run failed: {r}\n"
            else:
                runs.append(r)
        if runs:
            spark = {k: statistics.median(r[k] for r in runs) for k in ["records_per_s", "first_batch_s", "peak_rss"]}

    table = build_table(rows, startup, stream, spark, args.records, args.record_size)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"Measured {now} on {machine()}; median of {args.runs} runs; "
        f"{args.records:,} records of {args.record_size} B, 1 partition.\n\n"
        "| measurement | kt | peer | kt / peer | target | met |\n|---|---|---|---|---|---|\n"
        + "\n".join(table) + "\n"
    )
    section += spark_note
    section += "\n" + sections.markdown()
    if stream:
        section += f"\nkt stream sustained-rate search (rate, worst processing ms): {stream['tried']}\n"
    failures = [r for r in rows if "produce_error" in r or "consume_error" in r]
    for r in failures:
        section += f"\nrun {r['run'] + 1}: {r['client']} on {r['broker']}: {r.get('produce_error') or r.get('consume_error')}\n"
    print("\n" + section)
    if args.benchmarks_md:
        write_benchmarks_md(args.benchmarks_md, section)
        print(f"written to {args.benchmarks_md}")


if __name__ == "__main__":
    main()
