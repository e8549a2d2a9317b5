"""confluent-kafka (librdkafka) against kt-broker: produce unkeyed and keyed messages with
delivery reports, consume them in a group, commit synchronously, read the commits back.

usage: confluent_roundtrip.py BOOTSTRAP TOPIC GROUP COUNT PARTITIONS
Prints `RECORD key|value|partition|offset` per message, `COMMITTED partition offset` per
partition, then `DONE`. Any delivery or consume error is printed as `ERROR ...`.
"""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
count, partitions = int(sys.argv[4]), int(sys.argv[5])
half = count // 2


def report(err, _msg):
    if err is not None:
        print(f"ERROR delivery {err}", flush=True)


producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "compression.type": "lz4"})
for i in range(half):
    producer.produce(topic, value=f"plain-{i}", on_delivery=report)
for i in range(count - half):
    producer.produce(topic, key=f"k{i % 5}", value=f"keyed-{i}", on_delivery=report)
left = producer.flush(30)
if left:
    print(f"ERROR {left} messages not delivered", flush=True)

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "session.timeout.ms": 6000,
})
consumer.subscribe([topic])
seen = 0
deadline = time.time() + 30
while seen < count and time.time() < deadline:
    msg = consumer.poll(0.5)
    if msg is None:
        continue
    if msg.error():
        print(f"ERROR consume {msg.error()}", flush=True)
        continue
    key = msg.key().decode() if msg.key() is not None else ""
    print(f"RECORD {key}|{msg.value().decode()}|{msg.partition()}|{msg.offset()}", flush=True)
    seen += 1
consumer.commit(asynchronous=False)
for tp in consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10):
    print(f"COMMITTED {tp.partition} {tp.offset}", flush=True)
consumer.close()
print("DONE", flush=True)
