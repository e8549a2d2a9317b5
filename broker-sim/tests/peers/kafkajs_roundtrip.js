// kafkajs 2.2.4 against kt broker: admin (create topic, partitions, configs, groups, delete),
// an idempotent producer with acks=all, a consumer group with commits; optional SASL.
// Usage: node kafkajs_roundtrip.js NODE_MODULES BOOTSTRAP TOPIC GROUP [MECHANISM USER PASSWORD]
// Prints one line per checked fact and DONE; a failed check prints ERROR and exits 1.
const [modules, bootstrap, topic, group, mech, user, password] = process.argv.slice(2);
const { Kafka, logLevel, ConfigResourceTypes } = require(modules + "/kafkajs");

const conf = { clientId: "kt-interop", brokers: [bootstrap], logLevel: logLevel.NOTHING };
if (mech) conf.sasl = { mechanism: mech.toLowerCase(), username: user, password };
const kafka = new Kafka(conf);
const fail = (m) => { console.log("ERROR " + m); process.exit(1); };
const check = (c, m) => { if (!c) fail(m); };

(async () => {
  const admin = kafka.admin();
  await admin.connect();
  check(await admin.createTopics({
    topics: [{ topic, numPartitions: 2, configEntries: [{ name: "retention.ms", value: "60000" }] }],
  }), "createTopics returned false");
  console.log("CREATED " + topic);
  await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  console.log("PARTITIONS " + meta.topics[0].partitions.length);
  const cfg = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["retention.ms"] }],
  });
  console.log("CONFIG retention.ms " + cfg.resources[0].configEntries[0].configValue);

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = [...Array(30).keys()].map((i) => ({ key: "k" + (i % 5), value: "js-" + i }));
  const sent = await producer.send({ topic, acks: -1, messages });
  check(sent.every((r) => r.errorCode === 0), "produce errors " + JSON.stringify(sent));
  await producer.disconnect();
  console.log("PRODUCED 30");

  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Set();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout, got " + seen.size)), 60000);
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.add(message.value.toString());
        if (seen.size === 30) { clearTimeout(timer); resolve(); }
      },
    });
  });
  console.log("CONSUMED " + seen.size);
  const groups = await admin.listGroups();
  check(groups.groups.some((g) => g.groupId === group), "listGroups " + JSON.stringify(groups));
  console.log("LISTED " + group);
  const desc = await admin.describeGroups([group]);
  console.log("DESCRIBED " + desc.groups[0].state + " members=" + desc.groups[0].members.length);
  await consumer.disconnect();
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const total = offsets[0].partitions.reduce((s, p) => s + Number(p.offset), 0);
  console.log("COMMITTED " + total);
  await admin.deleteGroups([group]);
  console.log("GROUP_DELETED");
  await admin.deleteTopics({ topics: [topic] });
  console.log("DELETED " + topic);
  await admin.disconnect();
  console.log("DONE");
})().catch((e) => fail(e.stack || String(e)));
