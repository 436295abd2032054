package sluice.compat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;

/**
 * Runs one scenario of {@link Scenarios} until SIGTERM, for the compatibility tests
 * (test/helpers/kafka-streams.ts), which watch its consumer group's committed offsets and compare
 * its output topic with Sluice's.
 *
 * <pre>
 * java -cp 'target/classes:target/lib/*' sluice.compat.SemanticsApp \
 *     SCENARIO BOOTSTRAP_SERVERS APPLICATION_ID INPUT[,INPUT...] OUTPUT on|off COMMIT_INTERVAL_MS [GUARANTEE]
 * </pre>
 *
 * {@code on|off} is the record cache ({@code statestore.cache.max.bytes} 0 when off);
 * {@code GUARANTEE} is {@code processing.guarantee}, {@code at_least_once} (the default) or
 * {@code exactly_once_v2}. State lives
 * in a temporary directory deleted at exit, so each start restores its stores from Kafka. Exits 1
 * when the application fails, 2 on bad arguments.
 */
public final class SemanticsApp {
  private static final Duration CLOSE_BOUND = Duration.ofSeconds(10);

  private SemanticsApp() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    String guarantee = args.length == 8 ? args[7] : StreamsConfig.AT_LEAST_ONCE;
    if ((args.length != 7 && args.length != 8)
        || !Scenarios.ALL.containsKey(args[0])
        || !List.of("on", "off").contains(args[5])
        || !List.of(StreamsConfig.AT_LEAST_ONCE, StreamsConfig.EXACTLY_ONCE_V2).contains(guarantee)) {
      System.err.println("usage: SemanticsApp SCENARIO BOOTSTRAP_SERVERS APPLICATION_ID INPUT[,INPUT...] OUTPUT on|off COMMIT_INTERVAL_MS [at_least_once|exactly_once_v2]");
      System.err.println("scenarios: " + String.join(", ", Scenarios.ALL.keySet()));
      System.exit(2);
    }
    Path stateDir = Files.createTempDirectory("sluice-semantics-");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[2]);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.parseInt(args[6]));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, JsonSerde.class);
    if (args[5].equals("off")) props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
    // As in Sluice, a table's source topic is its store's changelog: a restart restores the
    // store from it up to the committed offset.
    props.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS);
    // A left or outer stream-stream join sends its unmatched records out when stream time closes
    // their windows, but Kafka Streams looks at most once a second of the machine's clock, so which
    // records a later match still reaches depends on timing. Sluice looks on every record that
    // moves stream time; the scenarios compare with Kafka Streams looking every time too.
    props.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_OUTER_JOIN_SPURIOUS_RESULTS_FIX, 0L);
    // A static member, so that closing with leaveGroup removes it from the group at once: a
    // restart with the same application id is then assigned its partitions without waiting for
    // the old member's session to time out (Kafka Streams does not leave otherwise).
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), args[2]);

    StreamsBuilder builder = new StreamsBuilder();
    Scenarios.ALL.get(args[0]).build(builder, List.of(args[3].split(",")), args[4]);
    KafkaStreams streams = new KafkaStreams(builder.build(props), props);

    CountDownLatch failed = new CountDownLatch(1);
    streams.setUncaughtExceptionHandler(error -> {
      error.printStackTrace();
      failed.countDown();
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    // SIGTERM runs this: close within a bound, leaving the group.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(new KafkaStreams.CloseOptions().timeout(CLOSE_BOUND).leaveGroup(true));
      deleteRecursively(stateDir);
    }));
    streams.start();
    failed.await();
    System.exit(1);
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }
}
