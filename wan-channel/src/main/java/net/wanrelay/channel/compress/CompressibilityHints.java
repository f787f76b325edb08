package net.wanrelay.channel.compress;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What recent streams taught about each destination's data. Every new stream normally runs its
 * first block through the codec to see whether it shrinks; for a destination whose streams keep
 * carrying incompressible data (TLS, media, archives) that sample is wasted work on every short
 * session (~5 % of the relays' CPU in a 1 KiB session). After {@value #REJECTS_TO_SKIP} failed
 * first samples in a row, new streams to that destination start in a skip window instead, and
 * every {@value #SAMPLE_EVERY}th one still samples, so a destination whose data changes is
 * noticed; one good sample clears the hint.
 *
 * <p>Bounded (least recently used destinations are forgotten beyond {@value #MAX_DESTINATIONS}).
 * Not thread-safe: one instance per trunk connection, used on its event loop.
 */
public final class CompressibilityHints {
  static final int REJECTS_TO_SKIP = 3;
  static final int SAMPLE_EVERY = 16;
  static final int MAX_DESTINATIONS = 4096;

  private static final class Hint {
    int rejectsInARow;
    int skippedStarts;
  }

  private final Map<InetSocketAddress, Hint> hints = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<InetSocketAddress, Hint> eldest) {
      return size() > MAX_DESTINATIONS;
    }
  };

  /**
   * Prepares a new stream's compressor for {@code destination}: starts it skipping when the
   * destination's recent streams did not compress, and learns from its first sample. Returns
   * whether the stream starts skipping.
   */
  public boolean prime(InetSocketAddress destination, AdaptiveCompressor compressor) {
    if (destination == null || !compressor.settings().adaptive()) {
      return false;
    }
    Hint hint = hints.get(destination);
    boolean skip = hint != null && hint.rejectsInARow >= REJECTS_TO_SKIP && ++hint.skippedStarts % SAMPLE_EVERY != 0;
    if (skip) {
      compressor.startSkipping();
    }
    compressor.onFirstSample(shrank -> learn(destination, shrank));
    return skip;
  }

  private void learn(InetSocketAddress destination, boolean shrank) {
    if (shrank) {
      hints.remove(destination);
      return;
    }
    hints.computeIfAbsent(destination, d -> new Hint()).rejectsInARow++;
  }

  /** Destinations with a hint. */
  public int size() {
    return hints.size();
  }
}
