package sluice.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KGroupedTable;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.KeyValueMapper;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The topologies the compatibility tests (test/compat/) run through Kafka Streams and, written
 * with Sluice's DSL, through Sluice. Keys are strings and values JSON (the application's default
 * serdes), so a scenario names only its operators. To add one: a method building the topology and
 * a line in {@link #ALL}; the test holds the Sluice topology, the input and the comparison.
 */
final class Scenarios {
  /** Builds a scenario's topology from its input topics, in the order the test names them, and its output topic. */
  interface Scenario {
    void build(StreamsBuilder builder, List<String> inputs, String output);
  }

  static final Map<String, Scenario> ALL = new TreeMap<>();

  static {
    ALL.put("table-filter", Scenarios::tableFilter);
    ALL.put("tumbling-count", Scenarios::tumblingCount);
    ALL.put("hopping-count", Scenarios::hoppingCount);
    ALL.put("sliding-sum", Scenarios::slidingSum);
    ALL.put("session-sum", Scenarios::sessionSum);
    ALL.put("tumbling-count-final", Scenarios::tumblingCountFinal);
    ALL.put("session-count-final", Scenarios::sessionCountFinal);
    ALL.put("stream-table-join", (builder, inputs, output) -> streamTableJoin(builder, inputs, output, false));
    ALL.put("stream-table-left-join", (builder, inputs, output) -> streamTableJoin(builder, inputs, output, true));
    ALL.put("stream-global-join", (builder, inputs, output) -> streamGlobalJoin(builder, inputs, output, false));
    ALL.put("stream-global-left-join", (builder, inputs, output) -> streamGlobalJoin(builder, inputs, output, true));
    ALL.put("table-regroup-count", (builder, inputs, output) -> tableRegroup(builder, inputs, output, true));
    ALL.put("table-regroup-sum", (builder, inputs, output) -> tableRegroup(builder, inputs, output, false));
    ALL.put("table-table-join", (builder, inputs, output) -> tableTableJoin(builder, inputs, output, "join"));
    ALL.put("table-table-left-join", (builder, inputs, output) -> tableTableJoin(builder, inputs, output, "leftJoin"));
    ALL.put("table-table-outer-join", (builder, inputs, output) -> tableTableJoin(builder, inputs, output, "outerJoin"));
    ALL.put("fk-join", (builder, inputs, output) -> foreignKeyJoin(builder, inputs, output, false));
    ALL.put("fk-left-join", (builder, inputs, output) -> foreignKeyJoin(builder, inputs, output, true));
    ALL.put("stream-stream-join", (builder, inputs, output) -> streamStreamJoin(builder, inputs, output, "join", pairs()));
    ALL.put("stream-stream-left-join", (builder, inputs, output) -> streamStreamJoin(builder, inputs, output, "leftJoin", pairs()));
    ALL.put("stream-stream-outer-join", (builder, inputs, output) -> streamStreamJoin(builder, inputs, output, "outerJoin", pairs()));
    ALL.put("stream-stream-after-join", (builder, inputs, output) -> streamStreamJoin(builder, inputs, output, "outerJoin", pairs().before(Duration.ZERO)));
  }

  private Scenarios() {}

  /**
   * A table over a compacted topic, materialized as every Sluice table is, filtered. Its filter
   * then gets old values: an update it drops goes on as a deletion only when the key was in the
   * filtered table. (Not materialized, it would forward a deletion for every update it drops.)
   */
  private static void tableFilter(StreamsBuilder builder, List<String> inputs, String output) {
    builder.<String, JsonNode>table(inputs.get(0), Materialized.as("prices"))
        .filter((key, value) -> value.path("price").asDouble() >= 50)
        .toStream()
        .to(output);
  }

  /**
   * Orders (inputs[0]) joined with customers (inputs[1], a table): the order's item and the
   * customer's name as a JSON string, "nobody" where a left join finds no customer.
   */
  private static void streamTableJoin(StreamsBuilder builder, List<String> inputs, String output, boolean left) {
    KTable<String, JsonNode> customers = builder.table(inputs.get(1), Materialized.as("customers"));
    KStream<String, JsonNode> orders = builder.stream(inputs.get(0));
    ValueJoiner<JsonNode, JsonNode, JsonNode> joiner = (order, customer) ->
        TextNode.valueOf(order.path("item").asText() + " for " + (customer == null ? "nobody" : customer.path("name").asText()));
    (left ? orders.leftJoin(customers, joiner) : orders.join(customers, joiner)).to(output);
  }

  /**
   * Orders (inputs[0], keyed by their own id) joined with customers (inputs[1], a global table) by
   * the customer each order names: the order's item and the customer's name as a JSON string,
   * "nobody" where a left join finds no customer. An order without a customer, or without a value
   * (the mapper is called before the null value is dropped), names none.
   */
  private static void streamGlobalJoin(StreamsBuilder builder, List<String> inputs, String output, boolean left) {
    GlobalKTable<String, JsonNode> customers = builder.globalTable(inputs.get(1), Materialized.as("customers"));
    KStream<String, JsonNode> orders = builder.stream(inputs.get(0));
    KeyValueMapper<String, JsonNode, String> customerOf = (key, order) -> order != null && order.path("customer").isTextual() ? order.path("customer").asText() : null;
    ValueJoiner<JsonNode, JsonNode, JsonNode> joiner = (order, customer) ->
        TextNode.valueOf(order.path("item").asText() + " for " + (customer == null ? "nobody" : customer.path("name").asText()));
    (left ? orders.leftJoin(customers, customerOf, joiner) : orders.join(customers, customerOf, joiner)).to(output);
  }

  /**
   * Users (inputs[0], a table of {country, age}) re-grouped by country: the count, or the sum of
   * ages (an aggregate with a subtractor), per country, as JSON numbers. One aggregation per
   * scenario: two would read two repartition topics, whose records Kafka Streams interleaves as
   * its fetches come.
   */
  private static void tableRegroup(StreamsBuilder builder, List<String> inputs, String output, boolean count) {
    KGroupedTable<String, JsonNode> byCountry = builder.<String, JsonNode>table(inputs.get(0), Materialized.as("users"))
        .groupBy((key, user) -> KeyValue.pair(user.path("country").asText(), user), Grouped.with(Serdes.String(), new JsonSerde()));
    KTable<String, Long> result = count
        ? byCountry.count(Materialized.as("per-country"))
        : byCountry.aggregate(() -> 0L, (country, user, sum) -> sum + user.path("age").asLong(), (country, user, sum) -> sum - user.path("age").asLong(),
            Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("age-sums").withValueSerde(Serdes.Long()));
    result.toStream().mapValues(n -> (JsonNode) JsonNodeFactory.instance.numberNode(n)).to(output);
  }

  /**
   * Two tables (inputs[0] and inputs[1], JSON strings) joined by key, each change of the joined
   * table written as the JSON string "left+right" ("-" for a missing side), or a tombstone.
   */
  private static void tableTableJoin(StreamsBuilder builder, List<String> inputs, String output, String kind) {
    KTable<String, JsonNode> left = builder.table(inputs.get(0), Materialized.as("left"));
    KTable<String, JsonNode> right = builder.table(inputs.get(1), Materialized.as("right"));
    ValueJoiner<JsonNode, JsonNode, JsonNode> joiner = (l, r) ->
        TextNode.valueOf((l == null ? "-" : l.asText()) + "+" + (r == null ? "-" : r.asText()));
    KTable<String, JsonNode> joined = switch (kind) {
      case "join" -> left.join(right, joiner);
      case "leftJoin" -> left.leftJoin(right, joiner);
      default -> left.outerJoin(right, joiner);
    };
    joined.toStream().to(output);
  }

  /**
   * Order lines (inputs[0], a table of {item, product}) joined on their product with the products
   * (inputs[1], a table of JSON strings): each change of the joined table as the JSON string
   * "item+product" ("-" where a left join found no product), or a tombstone.
   */
  private static void foreignKeyJoin(StreamsBuilder builder, List<String> inputs, String output, boolean left) {
    KTable<String, JsonNode> lines = builder.table(inputs.get(0), Materialized.as("lines"));
    KTable<String, JsonNode> products = builder.table(inputs.get(1), Materialized.as("products"));
    Function<JsonNode, String> product = line -> line.path("product").isTextual() ? line.path("product").asText() : null;
    ValueJoiner<JsonNode, JsonNode, JsonNode> joiner = (line, p) ->
        TextNode.valueOf(line.path("item").asText() + "+" + (p == null ? "-" : p.asText()));
    (left ? lines.leftJoin(products, product, joiner) : lines.join(products, product, joiner)).toStream().to(output);
  }

  /** Stream-stream joins: a record joins the other stream's within 10 s either way, 2 s of grace. */
  private static JoinWindows pairs() {
    return JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(2));
  }

  /**
   * Left records (inputs[0]) joined with right records (inputs[1]), JSON strings both, as the
   * JSON string "left+right" ("-" for a side an outer join found nothing for).
   */
  private static void streamStreamJoin(StreamsBuilder builder, List<String> inputs, String output, String kind, JoinWindows windows) {
    KStream<String, JsonNode> left = builder.stream(inputs.get(0));
    KStream<String, JsonNode> right = builder.stream(inputs.get(1));
    ValueJoiner<JsonNode, JsonNode, JsonNode> joiner = (l, r) ->
        TextNode.valueOf((l == null ? "-" : l.asText()) + "+" + (r == null ? "-" : r.asText()));
    StreamJoined<String, JsonNode, JsonNode> named = StreamJoined.<String, JsonNode, JsonNode>as("pairs").withName("pairs");
    KStream<String, JsonNode> joined = switch (kind) {
      case "join" -> left.join(right, joiner, windows, named);
      case "leftJoin" -> left.leftJoin(right, joiner, windows, named);
      default -> left.outerJoin(right, joiner, windows, named);
    };
    joined.to(output);
  }

  // Windowed aggregations. Each writes its windowed table as Kafka Streams' standard windowed keys
  // (time and sliding windows: key + 8-byte start; sessions: key + 8-byte end + 8-byte start) and
  // its counts and sums as JSON numbers. The stores name their key serde: the windowed table (and
  // a suppression's buffer) then has the windowed serde rather than the default string serde.

  private static final Duration SIZE = Duration.ofSeconds(10);
  private static final Duration GRACE = Duration.ofSeconds(5);
  private static final Duration GAP = Duration.ofSeconds(5);
  private static final Duration SESSION_GRACE = Duration.ofSeconds(2);

  /** Tumbling windows of 10 s with a grace of 5 s, counted. */
  private static void tumblingCount(StreamsBuilder builder, List<String> inputs, String output) {
    countTumbling(grouped(builder, inputs)).toStream().to(output, Produced.with(timeWindowed(SIZE), JsonSerde.numbers()));
  }

  /** Hopping windows of 10 s advancing by 5 s, grace 5 s, counted. */
  private static void hoppingCount(StreamsBuilder builder, List<String> inputs, String output) {
    grouped(builder, inputs)
        .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE).advanceBy(Duration.ofSeconds(5)))
        .count(windowStore("counts"))
        .toStream()
        .to(output, Produced.with(timeWindowed(SIZE), JsonSerde.numbers()));
  }

  /** Sliding windows of 10 s with a grace of 5 s, summing {@code amount}. */
  private static void slidingSum(StreamsBuilder builder, List<String> inputs, String output) {
    grouped(builder, inputs)
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(10), GRACE))
        .aggregate(() -> 0L, (key, value, sum) -> sum + amount(value), Scenarios.<Long>windowStore("sums").withValueSerde(Serdes.Long()))
        .toStream()
        .to(output, Produced.with(timeWindowed(Duration.ofSeconds(10)), JsonSerde.numbers()));
  }

  /** Sessions with an inactivity gap of 5 s and a grace of 2 s, summing {@code amount}; merged sessions add up. */
  private static void sessionSum(StreamsBuilder builder, List<String> inputs, String output) {
    grouped(builder, inputs)
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, SESSION_GRACE))
        .aggregate(() -> 0L, (key, value, sum) -> sum + amount(value), (key, left, right) -> left + right,
            Scenarios.<Long>sessionStore("sums").withValueSerde(Serdes.Long()))
        .toStream()
        .to(output, Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), JsonSerde.numbers()));
  }

  /** tumbling-count's final results only: each window once, when stream time passes its end and grace. */
  private static void tumblingCountFinal(StreamsBuilder builder, List<String> inputs, String output) {
    countTumbling(grouped(builder, inputs))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .to(output, Produced.with(timeWindowed(SIZE), JsonSerde.numbers()));
  }

  /** Sessions (gap 5 s, grace 2 s) counted, final results only. */
  private static void sessionCountFinal(StreamsBuilder builder, List<String> inputs, String output) {
    grouped(builder, inputs)
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, SESSION_GRACE))
        .count(Scenarios.<Long>sessionStore("counts"))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .to(output, Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), JsonSerde.numbers()));
  }

  private static KGroupedStream<String, JsonNode> grouped(StreamsBuilder builder, List<String> inputs) {
    return builder.<String, JsonNode>stream(inputs.get(0)).groupByKey();
  }

  private static KTable<Windowed<String>, Long> countTumbling(KGroupedStream<String, JsonNode> grouped) {
    return grouped.windowedBy(TimeWindows.ofSizeAndGrace(SIZE, GRACE)).count(windowStore("counts"));
  }

  /** The value's {@code amount}; 0 for a null value, which time and session windows pass to the aggregator. */
  private static long amount(JsonNode value) {
    return value == null ? 0L : value.path("amount").asLong();
  }

  private static Serde<Windowed<String>> timeWindowed(Duration size) {
    return WindowedSerdes.timeWindowedSerdeFrom(String.class, size.toMillis());
  }

  private static <V> Materialized<String, V, WindowStore<Bytes, byte[]>> windowStore(String name) {
    return Materialized.<String, V, WindowStore<Bytes, byte[]>>as(name).withKeySerde(Serdes.String());
  }

  private static <V> Materialized<String, V, SessionStore<Bytes, byte[]>> sessionStore(String name) {
    return Materialized.<String, V, SessionStore<Bytes, byte[]>>as(name).withKeySerde(Serdes.String());
  }
}
