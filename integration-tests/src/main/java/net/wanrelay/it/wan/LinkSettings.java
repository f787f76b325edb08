package net.wanrelay.it.wan;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one direction of the emulated WAN does to packets: one-way delay with jitter, random loss,
 * a rate limit (0 = unlimited) and a drop-tail queue in front of the rate limiter, bounded in
 * packets and in bytes (0 = no bound of that kind).
 */
public record LinkSettings(long delayNanos, long jitterNanos, double loss, long rateBitsPerSecond,
    int queuePackets, long queueBytes) {

  public static final LinkSettings PASS_THROUGH = new LinkSettings(0, 0, 0, 0, 1000, 0);

  private static final Pattern NUMBER_UNIT = Pattern.compile("^([0-9]+(?:\\.[0-9]+)?)([a-z%]*)$");

  public LinkSettings {
    if (delayNanos < 0 || jitterNanos < 0 || rateBitsPerSecond < 0 || queuePackets < 0 || queueBytes < 0) {
      throw new IllegalArgumentException("negative link setting");
    }
    if (!(loss >= 0 && loss <= 1)) {
      throw new IllegalArgumentException("loss must be within 0..1 (or 0%..100%), got " + loss);
    }
  }

  /**
   * Returns these settings with the given {@code key=value} words applied, e.g.
   * {@code delay=25ms jitter=1ms loss=1% rate=100mbit queue=500} ({@code queue} in packets, or
   * bytes with a b/kb/kib/mb/mib suffix). Unknown keys and bad values are errors.
   */
  public LinkSettings with(String words) {
    LinkSettings s = this;
    for (String word : words.trim().split("\\s+")) {
      if (word.isEmpty()) {
        continue;
      }
      int eq = word.indexOf('=');
      if (eq <= 0 || eq == word.length() - 1) {
        throw new IllegalArgumentException("expected key=value, got '" + word + "'");
      }
      String key = word.substring(0, eq).toLowerCase(Locale.ROOT);
      String value = word.substring(eq + 1).toLowerCase(Locale.ROOT);
      s = switch (key) {
        case "delay" -> new LinkSettings(parseNanos(value), s.jitterNanos, s.loss, s.rateBitsPerSecond, s.queuePackets, s.queueBytes);
        case "jitter" -> new LinkSettings(s.delayNanos, parseNanos(value), s.loss, s.rateBitsPerSecond, s.queuePackets, s.queueBytes);
        case "loss" -> new LinkSettings(s.delayNanos, s.jitterNanos, parseLoss(value), s.rateBitsPerSecond, s.queuePackets, s.queueBytes);
        case "rate" -> new LinkSettings(s.delayNanos, s.jitterNanos, s.loss, parseRate(value), s.queuePackets, s.queueBytes);
        case "queue" -> parseQueue(s, value);
        default -> throw new IllegalArgumentException("unknown setting '" + key + "' (delay, jitter, loss, rate, queue)");
      };
    }
    return s;
  }

  static long parseNanos(String v) {
    Matcher m = match(v, "duration");
    double n = Double.parseDouble(m.group(1));
    double unit = switch (m.group(2)) {
      case "ns" -> 1;
      case "us" -> 1e3;
      case "ms" -> 1e6;
      case "s" -> 1e9;
      case "" -> n == 0 ? 0 : fail("duration '" + v + "' needs a unit (ns, us, ms, s)");
      default -> fail("unknown duration unit in '" + v + "'");
    };
    return Math.round(n * unit);
  }

  static double parseLoss(String v) {
    Matcher m = match(v, "loss");
    double n = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "%" -> n / 100;
      case "" -> n;
      default -> fail("loss '" + v + "' must be a fraction (0.01) or a percentage (1%)");
    };
  }

  static long parseRate(String v) {
    if (v.equals("unlimited") || v.equals("off")) {
      return 0;
    }
    Matcher m = match(v, "rate");
    double n = Double.parseDouble(m.group(1));
    double unit = switch (m.group(2)) {
      case "", "bit", "bps" -> 1;
      case "kbit" -> 1e3;
      case "mbit" -> 1e6;
      case "gbit" -> 1e9;
      default -> fail("unknown rate unit in '" + v + "' (bit, kbit, mbit, gbit)");
    };
    return Math.round(n * unit);
  }

  private static LinkSettings parseQueue(LinkSettings s, String v) {
    Matcher m = match(v, "queue");
    double n = Double.parseDouble(m.group(1));
    double bytes = switch (m.group(2)) {
      case "", "p" -> -1;
      case "b" -> n;
      case "kb" -> n * 1e3;
      case "kib" -> n * 1024;
      case "mb" -> n * 1e6;
      case "mib" -> n * 1024 * 1024;
      default -> fail("unknown queue unit in '" + v + "' (packets, or b/kb/kib/mb/mib)");
    };
    if (bytes < 0) {
      return new LinkSettings(s.delayNanos, s.jitterNanos, s.loss, s.rateBitsPerSecond, (int) n, 0);
    }
    return new LinkSettings(s.delayNanos, s.jitterNanos, s.loss, s.rateBitsPerSecond, 0, Math.round(bytes));
  }

  private static Matcher match(String v, String what) {
    Matcher m = NUMBER_UNIT.matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException("bad " + what + " '" + v + "'");
    }
    return m;
  }

  private static double fail(String message) {
    throw new IllegalArgumentException(message);
  }

  /** The settings in the same words {@link #with(String)} accepts. */
  @Override
  public String toString() {
    return "delay=" + (delayNanos / 1000) + "us jitter=" + (jitterNanos / 1000) + "us loss=" + loss
        + " rate=" + (rateBitsPerSecond == 0 ? "unlimited" : rateBitsPerSecond + "bit")
        + " queue=" + (queueBytes > 0 ? queueBytes + "b" : String.valueOf(queuePackets));
  }
}
