package sluice.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * JSON values as Jackson trees; a null (a tombstone) stays null both ways. The scenarios' default
 * value serde, as {@code Serdes.json()} is their Sluice topologies'.
 */
public final class JsonSerde extends Serdes.WrapperSerde<JsonNode> {
  private static final ObjectMapper JSON = new ObjectMapper();

  public JsonSerde() {
    super((topic, value) -> value == null ? null : write(value), (topic, bytes) -> bytes == null ? null : read(bytes));
  }

  /** Longs (counts, sums) as JSON numbers, as Sluice's JSON serde writes a number; null stays null. */
  public static Serde<Long> numbers() {
    return Serdes.<Long>serdeFrom(
        (topic, value) -> value == null ? null : write(JSON.valueToTree(value)),
        (topic, bytes) -> bytes == null ? null : read(bytes).asLong());
  }

  private static byte[] write(JsonNode value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode read(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
