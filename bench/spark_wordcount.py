"""PySpark DStream word count, the peer of `kt stream wordcount` in bench/compare.py.

Usage: spark_wordcount.py HOST PORT OUT_PREFIX SECONDS

Reads lines from a socket (socketTextStream; Spark cannot reach Kafka here, see PEERS.md),
counts words per 1 s batch exactly as the tutorial does
(flatMap(split(" ")) -> map((w, 1)) -> reduceByKey(add) -> saveAsTextFiles), on local[2]
with back-pressure on, and prints one JSON line per completed batch on stdout:
{"t": wall-clock seconds, "records": N, "processing_ms": ..., "scheduling_ms": ...}.
Stops after SECONDS.
"""

import json
import sys
import time

from pyspark import SparkConf, SparkContext
from pyspark.streaming import StreamingContext
from pyspark.streaming.listener import StreamingListener


class Report(StreamingListener):
    def onBatchCompleted(self, batchCompleted):
        info = batchCompleted.batchInfo()
        print(
            json.dumps(
                {
                    "t": time.time(),
                    "batch_ms": info.batchTime().milliseconds(),
                    "records": info.numRecords(),
                    "processing_ms": info.processingDelay(),
                    "scheduling_ms": info.schedulingDelay(),
                }
            ),
            flush=True,
        )


def main():
    host, port, out, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    conf = (
        SparkConf()
        .setMaster("local[2]")
        .setAppName("kt-compare-wordcount")
        .set("spark.streaming.backpressure.enabled", "true")
        # Until the rate estimator has a first batch to learn from, the receiver is unbounded
        # and an unpaced socket fills the heap; start below the rate it sustains here.
        .set("spark.streaming.backpressure.initialRate", "100000")
        .set("spark.driver.memory", "2g")
        .set("spark.ui.enabled", "false")
    )
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    ssc = StreamingContext(sc, 1)
    ssc.addStreamingListener(Report())
    lines = ssc.socketTextStream(host, port)
    counts = (
        lines.flatMap(lambda line: line.split(" "))
        .map(lambda word: (word, 1))
        .reduceByKey(lambda a, b: a + b)
    )
    counts.saveAsTextFiles(out, "log")
    ssc.start()
    ssc.awaitTerminationOrTimeout(seconds)
    ssc.stop(stopSparkContext=True, stopGraceFully=False)


if __name__ == "__main__":
    main()
