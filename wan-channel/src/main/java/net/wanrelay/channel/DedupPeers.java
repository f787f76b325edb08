package net.wanrelay.channel;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import net.wanrelay.channel.dedup.ChunkStore;
import net.wanrelay.channel.dedup.DedupMetrics;
import net.wanrelay.channel.dedup.Fingerprinter;

/**
 * The chunk stores of one node, one per peer node id (used by both directions and by every
 * connection to that peer), opened on first use and closed with the node.
 */
final class DedupPeers implements AutoCloseable {
  private final DedupSettings settings;
  private final MeterRegistry registry;
  private final DedupMetrics metrics;
  private final ConcurrentHashMap<String, ChunkStore> stores = new ConcurrentHashMap<>();
  private volatile boolean closed;

  DedupPeers(DedupSettings settings, MeterRegistry registry) {
    this.settings = settings;
    this.registry = registry;
    this.metrics = new DedupMetrics();
    if (registry != null) {
      metrics.bindTo(registry);
    }
  }

  DedupSettings settings() { return settings; }
  DedupMetrics metrics() { return metrics; }

  /** The store for a peer; null once the node closed. */
  ChunkStore store(String peerNodeId) {
    if (closed) {
      return null;
    }
    return stores.computeIfAbsent(peerNodeId, this::open);
  }

  private ChunkStore open(String peer) {
    ChunkStore.Config config = ChunkStore.Config.of(settings.memoryBytes(), settings.diskBytes());
    ChunkStore s = settings.store() == null || settings.diskBytes() == 0
        ? ChunkStore.inMemory(settings.memoryBytes())
        : ChunkStore.open(settings.store().resolve(directoryName(peer)), config);
    if (registry != null) {
      DedupMetrics.bindStore(registry, s, Tags.of("peer", peer));
    }
    return s;
  }

  /** A file-system-safe directory name for a node id (ids are 1..64 UTF-8 bytes, any content). */
  static String directoryName(String peer) {
    if (peer.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      return peer;
    }
    byte[] h = new Fingerprinter().of(peer.getBytes(StandardCharsets.UTF_8)).toBytes();
    return peer.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + HexFormat.of().formatHex(h, 0, 8);
  }

  @Override
  public void close() {
    closed = true;
    for (ChunkStore s : stores.values()) {
      s.close();
    }
    stores.clear();
  }
}
