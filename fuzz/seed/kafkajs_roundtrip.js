// kafkajs against a broker: create a topic, produce plain and gzip batches (keyed and unkeyed),
// consume them in a group, commit, then fetch the committed offsets. For seeding fuzz corpora.
// usage: node kafkajs_roundtrip.js BOOTSTRAP TOPIC GROUP COUNT
const { Kafka, CompressionTypes, logLevel } = require("kafkajs");
const [bootstrap, topic, group, countArg] = process.argv.slice(2);
const count = parseInt(countArg, 10);

async function main() {
  const kafka = new Kafka({ clientId: "seed", brokers: [bootstrap], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.connect();
  for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
    const messages = [];
    for (let i = 0; i < count / 2; i++) {
      messages.push(i % 2 ? { key: `k${i % 3}`, value: `v-${compression}-${i}`, headers: { h: "x" } } : { value: `plain-${i}` });
    }
    await producer.send({ topic, compression, messages });
  }
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`saw ${seen} of ${count}`)), 30000);
    consumer.run({
      eachMessage: async () => {
        seen += 1;
        if (seen >= count) { clearTimeout(timer); resolve(); }
      },
    });
  });
  await consumer.disconnect();
  console.log(JSON.stringify(await admin.fetchOffsets({ groupId: group, topics: [topic] })));
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  console.log("DONE");
}
main().catch((e) => { console.error(`ERROR ${e}`); process.exit(1); });
