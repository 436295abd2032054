package sluice.compat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Materialized;

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
}
