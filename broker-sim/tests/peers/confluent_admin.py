"""confluent-kafka (librdkafka) against kt broker: admin, idempotent producer, SASL.

Usage: confluent_admin.py BOOTSTRAP TOPIC GROUP [MECHANISM USER PASSWORD]
Prints one line per checked fact (the Rust test compares them) and DONE at the end;
a failed check prints ERROR ... and exits 1.
"""
import sys
import time
import warnings

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap, topic, group = sys.argv[1:4]
conf = {"bootstrap.servers": bootstrap}
if len(sys.argv) > 4:
    mech, user, password = sys.argv[4:7]
    conf.update({
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": mech,
        "sasl.username": user,
        "sasl.password": password,
    })


def fail(msg):
    print("ERROR " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


admin = AdminClient(conf)
fs = admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1,
                                   config={"retention.ms": "3600000"})])
for t, f in fs.items():
    f.result(timeout=30)
print("CREATED " + topic, flush=True)

# describe configs: the value set at creation and a default
res = ConfigResource(ConfigResource.Type.TOPIC, topic)
configs = admin.describe_configs([res])[res].result(timeout=30)
print("CONFIG retention.ms " + configs["retention.ms"].value, flush=True)
print("CONFIG cleanup.policy " + configs["cleanup.policy"].value, flush=True)

# alter configs (legacy AlterConfigs: replaces the set) and read back
res.set_config("max.message.bytes", "200000")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # 2.x deprecates AlterConfigs; 1.x has nothing else
    admin.alter_configs([res])[res].result(timeout=30)
configs = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
configs = list(configs.values())[0].result(timeout=30)
print("ALTERED max.message.bytes " + configs["max.message.bytes"].value, flush=True)

# grow the topic
admin.create_partitions([NewPartitions(topic, 3)])[topic].result(timeout=30)
md = admin.list_topics(topic=topic, timeout=30)
print("PARTITIONS %d" % len(md.topics[topic].partitions), flush=True)

# idempotent producer, acks=all
p = Producer(dict(conf, **{"enable.idempotence": True, "acks": "all", "linger.ms": 5}))
delivered = []


def on_delivery(err, msg):
    if err is not None:
        fail("delivery failed: %s" % err)
    delivered.append((msg.partition(), msg.offset(), msg.value().decode()))


for i in range(30):
    p.produce(topic, value=("idem-%d" % i).encode(), key=("k%d" % (i % 3)).encode(),
              on_delivery=on_delivery)
p.flush(30)
check(len(delivered) == 30, "delivered %d of 30" % len(delivered))
print("PRODUCED %d" % len(delivered), flush=True)

# a record over the topic's max.message.bytes is refused
big = Producer(dict(conf, **{"message.max.bytes": 1000000, "compression.type": "none"}))
errors = []
big.produce(topic, value=b"x" * 300000, partition=0,
            on_delivery=lambda err, msg: errors.append(err))
big.flush(30)
check(len(errors) == 1 and errors[0] is not None, "oversized record accepted: %r" % errors)
print("TOO_LARGE " + errors[0].name(), flush=True)

# consume in a group, commit, then list and describe the group while a member is in it
c = Consumer(dict(conf, **{"group.id": group, "auto.offset.reset": "earliest",
                          "enable.auto.commit": False}))
c.subscribe([topic])
got = []
deadline = time.time() + 60
while len(got) < 30 and time.time() < deadline:
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    got.append(m.value().decode())
check(len(got) == 30, "consumed %d of 30" % len(got))
c.commit(asynchronous=False)
print("CONSUMED %d" % len(set(got)), flush=True)
if not hasattr(admin, "list_consumer_groups"):
    # confluent-kafka 1.x has no group admin calls
    c.close()
    admin.delete_topics([topic])[topic].result(timeout=30)
    print("DELETED " + topic, flush=True)
    print("DONE", flush=True)
    sys.exit(0)
groups = admin.list_consumer_groups().result(timeout=30)
ids = [g.group_id for g in groups.valid]
check(group in ids, "group %s not listed: %r" % (group, ids))
print("LISTED " + group, flush=True)
desc = admin.describe_consumer_groups([group])[group].result(timeout=30)
assigned = sorted(tp.partition for m in desc.members for tp in m.assignment.topic_partitions)
print("DESCRIBED %s members=%d partitions=%s" % (
    str(desc.state).split(".")[-1], len(desc.members), assigned), flush=True)
c.close()

# the group is empty now: delete it
admin.delete_consumer_groups([group])[group].result(timeout=30)
check(group not in [g.group_id for g in admin.list_consumer_groups().result(timeout=30).valid],
      "group still listed after delete")
print("GROUP_DELETED", flush=True)

admin.delete_topics([topic])[topic].result(timeout=30)
# a fresh client: this one's metadata cache still knows the topic (and asking for it by name
# would auto-create it again, as on Kafka with auto.create.topics.enable=true)
check(topic not in AdminClient(conf).list_topics(timeout=10).topics, "topic still there")
print("DELETED " + topic, flush=True)
print("DONE", flush=True)
