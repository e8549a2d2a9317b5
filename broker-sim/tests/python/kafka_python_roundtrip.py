"""kafka-python against kt-broker: produce unkeyed and keyed messages, consume them in a
group, commit, read the commits back.

usage: kafka_python_roundtrip.py BOOTSTRAP TOPIC GROUP COUNT
Prints one `RECORD key|value|partition|offset` line per message consumed, one
`COMMITTED partition offset` line per partition, then `DONE`.
"""
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
half = count // 2

producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
futures = [producer.send(topic, value=f"plain-{i}".encode()) for i in range(half)]
futures += [producer.send(topic, key=f"k{i % 5}".encode(), value=f"keyed-{i}".encode()) for i in range(count - half)]
producer.flush(timeout=30)
for f in futures:
    f.get(timeout=30)  # raises if the broker answered with an error
producer.close()

consumer = KafkaConsumer(
    topic,
    bootstrap_servers=bootstrap,
    group_id=group,
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    consumer_timeout_ms=30000,
    session_timeout_ms=10000,
)
seen = 0
for msg in consumer:
    key = msg.key.decode() if msg.key is not None else ""
    print(f"RECORD {key}|{msg.value.decode()}|{msg.partition}|{msg.offset}", flush=True)
    seen += 1
    if seen >= count:
        break
consumer.commit()
for tp in sorted(consumer.assignment(), key=lambda tp: tp.partition):
    print(f"COMMITTED {tp.partition} {consumer.committed(tp)}", flush=True)
consumer.close()
print("DONE", flush=True)
