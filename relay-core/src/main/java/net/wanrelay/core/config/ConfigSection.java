package net.wanrelay.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A YAML mapping read key by key with its position in the file, so every error names the file,
 * line, column and dotted key path. Keys that were never read are reported by {@link #finish()} as
 * unknown: the whole config is checked before anything starts.
 */
final class ConfigSection {
  private final String file;
  private final String path;
  private final Node node;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  private final java.util.Set<String> read = new java.util.HashSet<>();

  ConfigSection(String file, String path, Node node) throws ConfigException {
    this.file = file;
    this.path = path;
    this.node = node;
    if (!(node instanceof MappingNode mapping)) {
      throw error(node, path, "expected a mapping (key: value)");
    }
    for (NodeTuple tuple : mapping.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
        throw error(tuple.getKeyNode(), path, "keys must be plain names");
      }
      if (entries.put(key.getValue(), tuple) != null) {
        throw error(key, child(key.getValue()), "duplicate key");
      }
    }
  }

  String path() {
    return path;
  }

  String child(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  ConfigException error(Node at, String keyPath, String message) {
    int line = at.getStartMark().getLine() + 1;
    int column = at.getStartMark().getColumn() + 1;
    return new ConfigException(file + ":" + line + ":" + column + ": " + keyPath + ": " + message);
  }

  /** An error about this section as a whole (for cross-key checks). */
  ConfigException error(String key, String message) {
    NodeTuple tuple = entries.get(key);
    return error(tuple != null ? tuple.getKeyNode() : node, key == null ? path : child(key), message);
  }

  /** The keys of this mapping, in file order (for sections keyed by user-chosen names). */
  java.util.List<String> keys() {
    read.addAll(entries.keySet());
    return new ArrayList<>(entries.keySet());
  }

  private Node value(String key) {
    read.add(key);
    NodeTuple tuple = entries.get(key);
    return tuple == null ? null : tuple.getValueNode();
  }

  private ScalarNode scalar(String key, Node value) throws ConfigException {
    if (!(value instanceof ScalarNode scalar)) {
      throw error(value, child(key), "expected a single value");
    }
    return scalar;
  }

  Optional<String> optionalString(String key) throws ConfigException {
    Node value = value(key);
    if (value == null) {
      return Optional.empty();
    }
    String text = scalar(key, value).getValue();
    if (text.isBlank()) {
      throw error(value, child(key), "must not be empty");
    }
    return Optional.of(text);
  }

  String string(String key) throws ConfigException {
    Optional<String> value = optionalString(key);
    if (value.isEmpty()) {
      throw error((String) null, "missing required key '" + key + "'");
    }
    return value.get();
  }

  String string(String key, String defaultValue) throws ConfigException {
    return optionalString(key).orElse(defaultValue);
  }

  /** Reads a value and converts it; the converter's IllegalArgumentException becomes a located error. */
  <T> Optional<T> optional(String key, Function<String, T> converter) throws ConfigException {
    Node value = value(key);
    if (value == null) {
      return Optional.empty();
    }
    String text = scalar(key, value).getValue();
    try {
      return Optional.of(converter.apply(text.trim()));
    } catch (IllegalArgumentException e) {
      throw error(value, child(key), e.getMessage());
    }
  }

  <T> T required(String key, Function<String, T> converter) throws ConfigException {
    Optional<T> value = optional(key, converter);
    if (value.isEmpty()) {
      throw error((String) null, "missing required key '" + key + "'");
    }
    return value.get();
  }

  int integer(String key, int defaultValue, int min, int max) throws ConfigException {
    return optional(key, text -> {
      long v;
      try {
        v = Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + text + "' is not a whole number");
      }
      if (v < min || v > max) {
        throw new IllegalArgumentException(v + " out of range (" + min + "-" + max + ")");
      }
      return (int) v;
    }).orElse(defaultValue);
  }

  Duration duration(String key, Duration defaultValue) throws ConfigException {
    return optional(key, ConfigSection::parseDuration).orElse(defaultValue);
  }

  boolean bool(String key, boolean defaultValue) throws ConfigException {
    return optional(key, text -> switch (text.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw new IllegalArgumentException("'" + text + "' is not true or false");
    }).orElse(defaultValue);
  }

  Optional<ConfigSection> optionalSection(String key) throws ConfigException {
    Node value = value(key);
    return value == null ? Optional.empty() : Optional.of(new ConfigSection(file, child(key), value));
  }

  /** The items of a list value; empty when the key is absent. */
  private List<Node> items(String key) throws ConfigException {
    Node value = value(key);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof SequenceNode sequence)) {
      throw error(value, child(key), "expected a list");
    }
    return sequence.getValue();
  }

  List<ConfigSection> sections(String key) throws ConfigException {
    List<ConfigSection> result = new ArrayList<>();
    int i = 0;
    for (Node item : items(key)) {
      result.add(new ConfigSection(file, child(key) + "[" + i++ + "]", item));
    }
    return result;
  }

  /** A list of scalars, each converted; errors name the element. */
  <T> List<T> list(String key, Function<String, T> converter) throws ConfigException {
    List<T> result = new ArrayList<>();
    int i = 0;
    for (Node item : items(key)) {
      String itemPath = child(key) + "[" + i++ + "]";
      if (!(item instanceof ScalarNode scalar)) {
        throw error(item, itemPath, "expected a single value");
      }
      try {
        result.add(converter.apply(scalar.getValue().trim()));
      } catch (IllegalArgumentException e) {
        throw error(item, itemPath, e.getMessage());
      }
    }
    return result;
  }

  /** Fails on the first key that no reader asked for. */
  void finish() throws ConfigException {
    for (Map.Entry<String, NodeTuple> entry : entries.entrySet()) {
      if (!read.contains(entry.getKey())) {
        throw error(entry.getValue().getKeyNode(), child(entry.getKey()), "unknown key");
      }
    }
  }

  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    int split = 0;
    while (split < t.length() && (Character.isDigit(t.charAt(split)) || t.charAt(split) == '.')) {
      split++;
    }
    if (split == 0) {
      throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 500ms, 10s, 5m, 1h)");
    }
    double amount;
    try {
      amount = Double.parseDouble(t.substring(0, split));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 500ms, 10s, 5m, 1h)");
    }
    double millis = switch (t.substring(split)) {
      case "ms" -> amount;
      case "s", "" -> amount * 1000;
      case "m" -> amount * 60_000;
      case "h" -> amount * 3_600_000;
      default -> throw new IllegalArgumentException("'" + text + "' has an unknown unit (use ms, s, m or h)");
    };
    return Duration.ofMillis(Math.round(millis));
  }
}
