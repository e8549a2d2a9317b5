"""kafka-python (2.0.2 or 3.0.x) against kt broker: admin, producer (idempotent by default in
3.0), a consumer group, SASL.

Usage: kafka_python_admin.py BOOTSTRAP TOPIC GROUP [MECHANISM USER PASSWORD]
Prints one line per checked fact and DONE; a failed check prints ERROR and exits 1.
"""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

bootstrap, topic, group = sys.argv[1:4]
conf = {"bootstrap_servers": bootstrap}
if len(sys.argv) > 4:
    mech, user, password = sys.argv[4:7]
    conf.update(security_protocol="SASL_PLAINTEXT", sasl_mechanism=mech,
                sasl_plain_username=user, sasl_plain_password=password)


def check(cond, msg):
    if not cond:
        print("ERROR " + msg, flush=True)
        sys.exit(1)


admin = KafkaAdminClient(**conf)
admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"cleanup.policy": "compact"})])
print("CREATED " + topic, flush=True)
res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
res = res[0] if isinstance(res, list) else res
entries = {}
for r in getattr(res, "resources", []):
    for c in r[4]:
        entries[c[0]] = c[1]
if not entries and isinstance(res, dict):
    # kafka-python 3.x: {'topic': {name: {config: {'value': ...}}}}
    for k, v in res.get("topic", {}).get(topic, {}).items():
        entries[k] = v["value"] if isinstance(v, dict) else v
check(entries.get("cleanup.policy") == "compact", "describe_configs: %r" % (res,))
print("CONFIG cleanup.policy compact", flush=True)

producer = KafkaProducer(acks="all", linger_ms=5, **conf)
futures = [producer.send(topic, key=b"k%d" % (i % 4), value=b"v%d" % i) for i in range(20)]
offsets = sorted((f.get(timeout=30).partition, f.get(timeout=30).offset) for f in futures)
check(len(offsets) == 20 and len(set(offsets)) == 20, "acks: %r" % offsets)
producer.close()
print("PRODUCED 20", flush=True)

consumer = KafkaConsumer(topic, group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False, consumer_timeout_ms=20000, **conf)
got = set()
deadline = time.time() + 60
while len(got) < 20 and time.time() < deadline:
    for tp, msgs in consumer.poll(timeout_ms=1000).items():
        for m in msgs:
            got.add(m.value)
check(len(got) == 20, "consumed %d" % len(got))
consumer.commit()
print("CONSUMED 20", flush=True)
# kafka-python 3.0 renamed the group calls (list_groups, describe_groups, list_group_offsets)
new_api = hasattr(admin, "list_groups")
listed = admin.list_groups() if new_api else admin.list_consumer_groups()
names = [g["group_id"] if isinstance(g, dict) else g[0] for g in listed]
check(group in names, "groups %r" % (listed,))
print("LISTED " + group, flush=True)
desc = (admin.describe_groups([group]) if new_api else admin.describe_consumer_groups([group]))
desc = desc[group] if isinstance(desc, dict) else desc[0]
state = desc.get("group_state") or desc.get("state") if isinstance(desc, dict) else (
    getattr(desc, "state", None) or desc[1])
print("DESCRIBED " + str(state), flush=True)
consumer.close()
committed = (admin.list_group_offsets(group) if new_api else admin.list_consumer_group_offsets(group))
if isinstance(committed, dict) and group in committed:
    committed = committed[group]
total = sum(getattr(v, "offset", v) for v in committed.values())
check(total == 20, "committed %r" % committed)
print("COMMITTED 20", flush=True)
admin.delete_topics([topic])
print("DELETED " + topic, flush=True)
admin.close()
print("DONE", flush=True)
