"""The Quix Streams peer: runs one benchmark workload (BENCH_WORKLOAD) the way the Node systems do
and speaks the harness's protocol (bench/systems/protocol.ts) on stdout.

- stateless: parse the JSON event, drop kind "ignored", add amountCents = round-half-up(amount * 100)
  as the last field, write JSON.
- stateful-count: a count per key in the state store, each record's new count written as its
  decimal text. Quix Streams has no write-back cache in front of its outputs, so unlike Kafka
  Streams and Sluice it writes one update per record, not one per changed key per commit.

At-least-once with the harness's commit interval (1 s); state in a fresh temporary directory.
"""

import json
import math
import os
import resource
import shutil
import sys
import tempfile

from quixstreams import Application


def need(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


class BenchApplication(Application):
    """An Application that says when it first owns partitions.

    The public API has no assignment callback, so this wraps the one the consumer calls.
    """

    announced = False

    def _on_assign(self, consumer, topic_partitions):
        super()._on_assign(consumer, topic_partitions)
        if topic_partitions and not self.announced:
            self.announced = True
            emit({"event": "ready"})


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def keep(event):
    return event["kind"] != "ignored"


def enrich(event):
    # JavaScript's Math.round rounds halves up; Python's round() rounds them to even.
    return {**event, "amountCents": math.floor(event["amount"] * 100 + 0.5)}


def count(_value, state):
    n = state.get("count", 0) + 1
    state.set("count", n)
    return n


def main():
    workload = os.environ.get("BENCH_WORKLOAD", "stateless")
    state_dir = tempfile.mkdtemp(prefix="quix-bench-")
    app = BenchApplication(
        broker_address=need("KAFKA_BOOTSTRAP_SERVERS"),
        consumer_group=need("BENCH_GROUP"),
        auto_offset_reset="earliest",
        commit_interval=int(os.environ.get("BENCH_COMMIT_INTERVAL_MS", "1000")) / 1000,
        processing_guarantee="at-least-once",
        state_dir=state_dir,
        loglevel="WARNING",
    )
    try:
        if workload == "stateless":
            source = app.topic(need("BENCH_INPUT"), key_deserializer="bytes", value_deserializer="json")
            sink = app.topic(need("BENCH_OUTPUT"), key_serializer="bytes", value_serializer="json")
            sdf = app.dataframe(source).filter(keep).apply(enrich)
        else:
            source = app.topic(need("BENCH_INPUT"), key_deserializer="str", value_deserializer="bytes")
            sink = app.topic(need("BENCH_OUTPUT"), key_serializer="str", value_serializer="json")
            sdf = app.dataframe(source).apply(count, stateful=True)
        sdf.to_topic(sink)
        # Quix Streams stops on SIGTERM by itself, committing what it processed.
        app.run()
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    # ru_maxrss is the peak resident set in KiB on Linux.
    emit({"event": "done", "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})


if __name__ == "__main__":
    main()
