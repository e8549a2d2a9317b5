"""One confluent-kafka consumer group member for kt-tests' group churn test.

usage: group_member.py BOOTSTRAP TOPIC GROUP QUOTA
Consumes with the range assignor and manual commits: every message is committed
synchronously right after it is printed. Leaves the group (close) after QUOTA messages or
when stdin closes. Prints `STARTED`, then per message `GOT partition offset value` followed by
`COMMITTED partition offset` or `COMMITFAIL partition offset reason`, then `CLOSED`.
Works with confluent-kafka 1.7 (Debian) and 2.16 (PyPI).
"""
import sys
import threading

from confluent_kafka import Consumer, KafkaException

bootstrap, topic, group, quota = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
stop = threading.Event()


def watch_stdin():
    sys.stdin.read()
    stop.set()


threading.Thread(target=watch_stdin, daemon=True).start()
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "partition.assignment.strategy": "range",
    "session.timeout.ms": 10000,
    "heartbeat.interval.ms": 500,
})
consumer.subscribe([topic])
print("STARTED", flush=True)
n = 0
while not stop.is_set() and n < quota:
    m = consumer.poll(0.2)
    if m is None:
        continue
    if m.error():
        print(f"ERROR {m.error()}", flush=True)
        continue
    n += 1
    print(f"GOT {m.partition()} {m.offset()} {m.value().decode()}", flush=True)
    try:
        consumer.commit(message=m, asynchronous=False)
        print(f"COMMITTED {m.partition()} {m.offset()}", flush=True)
    except KafkaException as e:
        print(f"COMMITFAIL {m.partition()} {m.offset()} {e}", flush=True)
consumer.close()
print("CLOSED", flush=True)
