package sluice.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.Suppressed.BufferConfig;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The Kafka Streams peer: runs one benchmark workload (BENCH_WORKLOAD) the way the Node systems
 * do and speaks the harness's protocol (bench/systems/protocol.ts) on stdout.
 *
 * <ul>
 *   <li>{@code stateless}: parse the JSON event, drop kind "ignored", add
 *       {@code amountCents = Math.round(amount * 100)} as the last field, write JSON.
 *   <li>{@code stateful-count}: {@code groupByKey().count()} into the store "counts", each
 *       changed key's latest count written as its decimal text once per commit (the record cache
 *       de-duplicates, as Sluice's write-back cache does).
 *   <li>{@code windowed-count}, {@code windowed-count-final}: {@code groupByKey().windowedBy(
 *       TimeWindows.ofSizeAndGrace(size, grace)).count()} on the records' timestamps
 *       (BENCH_WINDOW_SIZE_MS, BENCH_WINDOW_GRACE_MS), each changed window's count written once
 *       per commit (the record cache), or with BENCH_WINDOW_EMIT=final suppressed until its
 *       window closes; keys in the time-windowed format (key bytes, 8-byte window start), counts
 *       as decimal text.
 *   <li>{@code join-stream-table}: orders (BENCH_INPUT) joined with the table "customers" read
 *       from BENCH_INPUT2 ({@code stream.join(table, joiner)}), each order written as JSON with
 *       its customer's name and tier added.
 *   <li>{@code join-stream-stream}: orders (BENCH_INPUT) joined with payments (BENCH_INPUT2) of
 *       the same key at most BENCH_JOIN_WINDOW_MS apart ({@code JoinWindows
 *       .ofTimeDifferenceWithNoGrace}), each pair written as one JSON record.
 * </ul>
 *
 * <p>Keys are strings and values bytes (Kafka Streams' own serdes); the joiners parse the JSON
 * with Jackson and write the joined record's JSON.
 */
public final class BenchApp {
  private static final ObjectMapper JSON = new ObjectMapper();

  private BenchApp() {}

  public static void main(String[] args) throws Exception {
    String workload = env("BENCH_WORKLOAD", "stateless");
    String input = need("BENCH_INPUT");
    String output = need("BENCH_OUTPUT");
    String group = need("BENCH_GROUP");
    boolean stateful = !workload.equals("stateless");

    Path stateDir = Files.createTempDirectory("kafka-streams-bench-");
    Properties props = new Properties();
    // The application id is the consumer group, whose committed offsets the harness watches.
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, group);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, need("KAFKA_BOOTSTRAP_SERVERS"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.parseInt(env("BENCH_COMMIT_INTERVAL_MS", "1000")));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(env("BENCH_THREADS", "1")));
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    // Large enough to hold every key changed within a commit interval, so the count's output is
    // one update per changed key per commit, like Sluice's unbounded write-back cache; the
    // 10 MB default would evict and emit early with 100,000 keys.
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 256L * 1024 * 1024);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    Topology topology;
    if (workload.startsWith("windowed-count")) {
      Duration size = Duration.ofMillis(Long.parseLong(env("BENCH_WINDOW_SIZE_MS", "60000")));
      Duration grace = Duration.ofMillis(Long.parseLong(env("BENCH_WINDOW_GRACE_MS", "10000")));
      topology = windowedCountTopology(input, output, size, grace, env("BENCH_WINDOW_EMIT", "updates").equals("final"));
    } else if (workload.equals("join-stream-table")) {
      topology = streamTableJoinTopology(input, need("BENCH_INPUT2"), output);
    } else if (workload.equals("join-stream-stream")) {
      Duration window = Duration.ofMillis(Long.parseLong(env("BENCH_JOIN_WINDOW_MS", "10000")));
      topology = streamStreamJoinTopology(input, need("BENCH_INPUT2"), output, window);
    } else {
      topology = stateful ? countTopology(input, output) : statelessTopology(input, output);
    }
    KafkaStreams streams = new KafkaStreams(topology, props);

    AtomicBoolean announced = new AtomicBoolean();
    streams.setStateListener((now, before) -> {
      // RUNNING follows each rebalance; the first one with active tasks means it owns partitions.
      if (now == KafkaStreams.State.RUNNING && ownsPartitions(streams) && announced.compareAndSet(false, true)) {
        emit("{\"event\":\"ready\"}");
      }
    });
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setUncaughtExceptionHandler(error -> {
      error.printStackTrace();
      stopped.countDown();
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });

    // SIGTERM runs the shutdown hooks: close (which commits), then report the peak RSS.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(30));
      emit("{\"event\":\"done\",\"peakRssMb\":" + peakRssMb() + "}");
      deleteRecursively(stateDir);
      stopped.countDown();
    }));
    streams.start();
    stopped.await();
  }

  private static Topology statelessTopology(String input, String output) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .mapValues(BenchApp::parse)
        .filter((key, event) -> !"ignored".equals(event.path("kind").asText()))
        .mapValues(BenchApp::enrich)
        .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
    return builder.build();
  }

  private static Topology countTopology(String input, String output) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
        .count(Materialized.as("counts"))
        .toStream()
        .mapValues(count -> String.valueOf(count))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
    return builder.build();
  }

  /**
   * The windowed count into the window store "counts" (retention: the window and its grace, the
   * default). Every update: the record cache (256 MB above) holds each window's count until the
   * commit. Final only: an unbounded suppression buffer holds each window's count until stream
   * time passes its end plus the grace period.
   */
  private static Topology windowedCountTopology(String input, String output, Duration size, Duration grace, boolean finalOnly) {
    StreamsBuilder builder = new StreamsBuilder();
    KTable<Windowed<String>, Long> counts = builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
        .windowedBy(TimeWindows.ofSizeAndGrace(size, grace))
        .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("counts").withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()));
    KTable<Windowed<String>, Long> emitted = finalOnly ? counts.suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded())) : counts;
    emitted.toStream()
        .mapValues(count -> String.valueOf(count))
        .to(output, Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size.toMillis()), Serdes.String()));
    return builder.build();
  }

  /**
   * Each order joined with its customer's row as the table holds it when the order is processed.
   * The table is materialized as the store "customers" (with its changelog, the default); the
   * customers' timestamps are all earlier than the orders', so the task reads the whole table
   * first (it processes its partitions' records in timestamp order).
   */
  private static Topology streamTableJoinTopology(String orders, String customers, String output) {
    StreamsBuilder builder = new StreamsBuilder();
    KTable<String, byte[]> table = builder.table(
        customers,
        Consumed.with(Serdes.String(), Serdes.ByteArray()),
        Materialized.<String, byte[], KeyValueStore<Bytes, byte[]>>as("customers").withKeySerde(Serdes.String()).withValueSerde(Serdes.ByteArray()));
    builder.stream(orders, Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .join(table, BenchApp::enrichOrder, Joined.with(Serdes.String(), Serdes.ByteArray(), Serdes.ByteArray()))
        .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
    return builder.build();
  }

  /** The order's fields, then the customer's name and tier. */
  private static byte[] enrichOrder(byte[] order, byte[] customer) {
    ObjectNode joined = parse(order);
    ObjectNode row = parse(customer);
    joined.set("customer", row.get("name"));
    joined.set("tier", row.get("tier"));
    return write(joined);
  }

  /**
   * Each order joined with every payment of its key at most {@code window} before or after it
   * (bounds included), no grace: both sides kept in window stores (with changelogs) for the
   * window's span.
   */
  private static Topology streamStreamJoinTopology(String orders, String payments, String output, Duration window) {
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, byte[]> paymentStream = builder.stream(payments, Consumed.with(Serdes.String(), Serdes.ByteArray()));
    builder.stream(orders, Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .join(
            paymentStream,
            BenchApp::pairOrder,
            JoinWindows.ofTimeDifferenceWithNoGrace(window),
            StreamJoined.with(Serdes.String(), Serdes.ByteArray(), Serdes.ByteArray()).withStoreName("pay"))
        .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
    return builder.build();
  }

  /** {@code {"orderId","paymentId","amount","paid"}}: the pair's ids and both amounts. */
  private static byte[] pairOrder(byte[] order, byte[] payment) {
    ObjectNode left = parse(order);
    ObjectNode right = parse(payment);
    ObjectNode joined = JSON.createObjectNode();
    joined.set("orderId", left.get("orderId"));
    joined.set("paymentId", right.get("paymentId"));
    joined.set("amount", left.get("amount"));
    joined.set("paid", right.get("amount"));
    return write(joined);
  }

  private static byte[] write(ObjectNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode parse(byte[] value) {
    try {
      return (ObjectNode) JSON.readTree(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The map step of bench/workloads/stateless.ts: amountCents appended, the other fields kept in order. */
  private static byte[] enrich(ObjectNode event) {
    // Math.round here and in JavaScript both round halves up (floor(x + 0.5)).
    event.put("amountCents", Math.round(event.path("amount").asDouble() * 100));
    try {
      return JSON.writeValueAsBytes(event);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean ownsPartitions(KafkaStreams streams) {
    return streams.metadataForLocalThreads().stream().anyMatch(thread -> !thread.activeTasks().isEmpty());
  }

  /** VmHWM: the kernel's record of the peak resident set, the same measure as the Node systems' sampled peak. */
  private static long peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Math.round(Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0);
      }
    } catch (IOException e) {
      // no /proc: report 0 below
    }
    return 0;
  }

  private static synchronized void emit(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }

  private static String need(String name) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) throw new IllegalStateException(name + " is not set");
    return value;
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
