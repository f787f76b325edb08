package net.wanrelay.channel;

import java.nio.file.Path;
import java.time.Duration;

/**
 * De-duplication of trunk DATA (docs/DEDUP.md, docs/PROTOCOL.md section 7.1). Off unless a node
 * is built with {@code TrunkNode.builder().dedup(DedupSettings...)} and {@link #enabled()}; a
 * stream uses it only when both nodes advertise it in HELLO.
 *
 * <p>Relay-core config mapping: {@code trunk.dedup: { enabled, store, max-size }} ->
 * {@code DedupSettings.builder().enabled(enabled).store(Path.of(store)).diskBytes(maxSize).build()}.
 * Without a store directory the chunk stores are memory-only (lost on restart).
 */
public final class DedupSettings {
  public static final DedupSettings OFF = builder().enabled(false).build();

  private final boolean enabled;
  private final Path store;
  private final long memoryBytes;
  private final long diskBytes;
  private final long maxPinnedBytes;
  private final long maxQueuedBytes;
  private final Duration flushDelay;

  private DedupSettings(Builder b) {
    if (b.memoryBytes <= 0 || b.diskBytes < 0 || b.maxPinnedBytes < 0 || b.maxQueuedBytes <= 0) {
      throw new IllegalArgumentException("dedup sizes must be positive");
    }
    if (b.flushDelay.isNegative() || b.flushDelay.isZero()) {
      throw new IllegalArgumentException("dedup flush delay must be positive");
    }
    enabled = b.enabled;
    store = b.store;
    memoryBytes = b.memoryBytes;
    diskBytes = b.diskBytes;
    maxPinnedBytes = b.maxPinnedBytes;
    maxQueuedBytes = b.maxQueuedBytes;
    flushDelay = b.flushDelay;
  }

  public static Builder builder() { return new Builder(); }

  public boolean enabled() { return enabled; }
  /** Directory holding one sub-directory (chunk store) per peer node id; null = memory only. */
  public Path store() { return store; }
  public long memoryBytes() { return memoryBytes; }
  public long diskBytes() { return diskBytes; }
  public long maxPinnedBytes() { return maxPinnedBytes; }
  public long maxQueuedBytes() { return maxQueuedBytes; }
  public Duration flushDelay() { return flushDelay; }

  @Override
  public String toString() {
    return "DedupSettings(enabled=" + enabled + ", store=" + store + ", memory=" + memoryBytes
        + ", disk=" + diskBytes + ")";
  }

  public static final class Builder {
    private boolean enabled = true;
    private Path store;
    private long memoryBytes = 64L << 20;
    private long diskBytes = 4L << 30;
    private long maxPinnedBytes = 32L << 20;
    private long maxQueuedBytes = 16L << 20;
    private Duration flushDelay = Duration.ofMillis(5);

    public Builder enabled(boolean v) { enabled = v; return this; }
    /** Store root directory (config {@code trunk.dedup.store}); null keeps stores in memory. */
    public Builder store(Path v) { store = v; return this; }
    /** Memory tier per peer store (default 64 MiB). */
    public Builder memoryBytes(long v) { memoryBytes = v; return this; }
    /** Disk cap per peer store (config {@code trunk.dedup.max-size}, default 4 GiB). */
    public Builder diskBytes(long v) { diskBytes = v; return this; }
    /** Bytes of referenced chunks a sending stream keeps until the receiver acknowledges them. */
    public Builder maxPinnedBytes(long v) { maxPinnedBytes = v; return this; }
    /** Hard bound on tokens a receiving stream queues behind a missing chunk. */
    public Builder maxQueuedBytes(long v) { maxQueuedBytes = v; return this; }
    /**
     * How long a sender waits for more bytes before it sends the tail of an unfinished chunk.
     * Chunks split by such a flush cannot be references later, so bulk streams should not pause
     * longer than this; interactive streams pay at most this much extra latency.
     */
    public Builder flushDelay(Duration v) { flushDelay = v; return this; }

    public DedupSettings build() { return new DedupSettings(this); }
  }
}
