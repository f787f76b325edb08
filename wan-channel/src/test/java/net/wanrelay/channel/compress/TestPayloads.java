package net.wanrelay.channel.compress;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import net.wanrelay.testsupport.Hashes;

/** Deterministic payloads: log-like text that compresses well, and random bytes that do not. */
final class TestPayloads {
  private static final String[] WORDS = {
    "GET", "POST", "/api/v1/orders", "/static/app.js", "200", "404", "user", "session", "relay",
    "trunk", "stream", "window", "latency", "ms", "INFO", "WARN", "connection", "accepted", "closed",
    "bytes", "from", "to", "10.1.2.3", "192.168.7.42", "the", "a", "of", "and", "status=ok"
  };

  private TestPayloads() {}

  static byte[] text(int size, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    StringBuilder sb = new StringBuilder(size + 64);
    long line = 0;
    while (sb.length() < size) {
      sb.append("2026-11-22T00:00:").append(line++ % 60).append(' ');
      int words = 4 + random.nextInt(10);
      for (int i = 0; i < words; i++) {
        sb.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
      }
      sb.append(random.nextInt(100000)).append('\n');
    }
    byte[] all = sb.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[size];
    System.arraycopy(all, 0, out, 0, size);
    return out;
  }

  static byte[] random(int size, long seed) {
    byte[] out = new byte[size];
    Hashes.fill(new SplittableRandom(seed), out);
    return out;
  }
}
