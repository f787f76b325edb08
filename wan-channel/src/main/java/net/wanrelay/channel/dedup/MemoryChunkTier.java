package net.wanrelay.channel.dedup;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/** Least-recently-used chunks, bounded by their total bytes. Not thread-safe (the store locks). */
final class MemoryChunkTier {
  private final long capacityBytes;
  private final LinkedHashMap<Fingerprint, byte[]> chunks = new LinkedHashMap<>(1024, 0.75f, true);
  private long bytes;

  MemoryChunkTier(long capacityBytes) {
    this.capacityBytes = capacityBytes;
  }

  byte[] get(Fingerprint fp) {
    return chunks.get(fp);
  }

  void put(Fingerprint fp, byte[] data) {
    if (data.length > capacityBytes) {
      return;
    }
    byte[] old = chunks.put(fp, data);
    if (old != null) {
      bytes -= old.length;
    }
    bytes += data.length;
    Iterator<Map.Entry<Fingerprint, byte[]>> eldest = chunks.entrySet().iterator();
    while (bytes > capacityBytes && eldest.hasNext()) {
      bytes -= eldest.next().getValue().length;
      eldest.remove();
    }
  }

  void remove(Fingerprint fp) {
    byte[] old = chunks.remove(fp);
    if (old != null) {
      bytes -= old.length;
    }
  }

  long bytes() {
    return bytes;
  }

  int size() {
    return chunks.size();
  }
}
