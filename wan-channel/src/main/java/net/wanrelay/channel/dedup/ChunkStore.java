package net.wanrelay.channel.dedup;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chunks one relay holds for one peer: an LRU memory tier over an optional disk tier that
 * survives restarts ({@link SegmentChunkTier}). Use one store per peer (a directory per peer node
 * id): the encoder takes "my store holds it" as "the peer holds it", which is right when both ends
 * store the same chunks in the same order, and costs only an ASK round trip when it is not.
 *
 * <p>Guarantees: {@link #get} returns bytes whose fingerprint matches, or null; a damaged or missing
 * chunk on disk is a miss. A disk error (full, read-only, gone) disables the disk tier, counts it
 * and logs once; the store keeps working from memory.
 *
 * <p>Thread-safe (one lock; chunk-sized disk reads and appends happen under it, which hits the page
 * cache in the common case; callers on an event loop who care should move {@link #get} of disk
 * chunks to a blocking executor). Arrays returned by {@link #get} and passed to {@link #put} are
 * shared, never mutate them.
 */
public final class ChunkStore implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ChunkStore.class);

  /** Sizes of a store. {@code diskBytes} 0 means memory only. */
  public record Config(long memoryBytes, long diskBytes, long segmentBytes, int maxChunk) {
    public Config {
      if (memoryBytes < 0 || diskBytes < 0) {
        throw new IllegalArgumentException("store sizes must not be negative");
      }
      if (diskBytes > 0 && (segmentBytes < maxChunk + SegmentChunkTier.HEADER || segmentBytes > diskBytes)) {
        throw new IllegalArgumentException("segment size must fit a chunk and be at most the disk size, got "
            + segmentBytes + " for disk " + diskBytes);
      }
      if (maxChunk < 1 || maxChunk > ChunkingParams.MAX_CHUNK_LIMIT) {
        throw new IllegalArgumentException("maxChunk must be in 1.." + ChunkingParams.MAX_CHUNK_LIMIT);
      }
    }

    /**
     * Memory and disk budgets for chunks up to the default maximum, with segments of 1/16 of the
     * disk budget (1..64 MiB).
     */
    public static Config of(long memoryBytes, long diskBytes) {
      long segment = Math.max(1L << 20, Math.min(64L << 20, diskBytes / 16));
      return new Config(memoryBytes, diskBytes, diskBytes == 0 ? 0 : Math.min(segment, diskBytes),
          ChunkingParams.DEFAULT.maxSize());
    }
  }

  private final MemoryChunkTier memory;
  private final Fingerprinter fingerprinter = new Fingerprinter();
  private SegmentChunkTier disk;
  private final Path dir;

  private long memoryHits;
  private long diskHits;
  private long misses;
  private long corruptChunks;
  private long diskErrors;
  private boolean diskDisabled;

  private ChunkStore(long memoryBytes, SegmentChunkTier disk, Path dir) {
    this.memory = new MemoryChunkTier(memoryBytes);
    this.disk = disk;
    this.dir = dir;
  }

  /** A store that forgets everything on restart. */
  public static ChunkStore inMemory(long memoryBytes) {
    return new ChunkStore(memoryBytes, null, null);
  }

  /**
   * Opens (or creates) a store in {@code dir}, indexing what earlier runs left there. An error while
   * opening the disk tier is logged and counted, and the store starts memory-only.
   */
  public static ChunkStore open(Path dir, Config config) {
    if (config.diskBytes() == 0) {
      return new ChunkStore(config.memoryBytes(), null, dir);
    }
    return open(dir, config, SegmentChunkTier.FILES);
  }

  static ChunkStore open(Path dir, Config config, SegmentChunkTier.ChannelOpener opener) {
    try {
      SegmentChunkTier disk = new SegmentChunkTier(
          dir, config.diskBytes(), config.segmentBytes(), config.maxChunk(), opener);
      return new ChunkStore(config.memoryBytes(), disk, dir);
    } catch (IOException | RuntimeException e) {
      log.warn("chunk store {} unusable, continuing memory-only: {}", dir, e.toString());
      ChunkStore store = new ChunkStore(config.memoryBytes(), null, dir);
      store.diskErrors++;
      store.diskDisabled = true;
      return store;
    }
  }

  /** True if the chunk is (probably) here; does not read or verify it. */
  public synchronized boolean contains(Fingerprint fp) {
    return memory.get(fp) != null || (disk != null && disk.contains(fp));
  }

  /** The chunk's bytes, verified against {@code fp}, or null when absent or damaged. */
  public synchronized byte[] get(Fingerprint fp) {
    byte[] data = memory.get(fp);
    if (data != null) {
      memoryHits++;
      return data;
    }
    if (disk != null) {
      try {
        data = disk.read(fp);
      } catch (IOException | RuntimeException e) {
        // One unreadable chunk is a miss; the tier stays on (other segments may be fine).
        diskErrors++;
        log.debug("chunk {} unreadable: {}", fp, e.toString());
        disk.forget(fp);
        data = null;
      }
      if (data != null) {
        if (fingerprinter.matches(fp, data)) {
          diskHits++;
          memory.put(fp, data);
          return data;
        }
        corruptChunks++;
        disk.forget(fp);
      }
    }
    misses++;
    return null;
  }

  /**
   * Keeps a chunk. The caller vouches that {@code data} hashes to {@code fp} (the decoder checks
   * every literal; the encoder computed it).
   */
  public synchronized void put(Fingerprint fp, byte[] data) {
    memory.put(fp, data);
    if (disk != null) {
      try {
        disk.append(fp, data);
      } catch (IOException | RuntimeException e) {
        diskErrors++;
        diskDisabled = true;
        log.warn("chunk store {} disk tier disabled after a write error: {}", dir, e.toString());
        disk.close();
        disk = null;
      }
    }
  }

  /** Drops a chunk from memory and disk index (e.g. after a fingerprint mismatch upstream). */
  public synchronized void remove(Fingerprint fp) {
    memory.remove(fp);
    if (disk != null) {
      disk.forget(fp);
    }
  }

  @Override
  public synchronized void close() {
    if (disk != null) {
      disk.close();
      disk = null;
    }
  }

  public synchronized long memoryHits() {
    return memoryHits;
  }

  public synchronized long diskHits() {
    return diskHits;
  }

  public synchronized long misses() {
    return misses;
  }

  /** Chunks read back from disk whose bytes did not match their fingerprint. */
  public synchronized long corruptChunks() {
    return corruptChunks;
  }

  /** Disk I/O errors (reads, writes, open). */
  public synchronized long diskErrors() {
    return diskErrors;
  }

  /** True after a write error turned the disk tier off. */
  public synchronized boolean diskDisabled() {
    return diskDisabled;
  }

  public synchronized int diskChunks() {
    return disk == null ? 0 : disk.chunkCount();
  }

  public synchronized long diskBytes() {
    return disk == null ? 0 : disk.bytesOnDisk();
  }

  public synchronized int diskSegments() {
    return disk == null ? 0 : disk.segmentCount();
  }

  public synchronized long memoryBytes() {
    return memory.bytes();
  }

  public synchronized int memoryChunks() {
    return memory.size();
  }

  /** Damaged segment tails skipped while opening. */
  public synchronized long damagedSegmentsOnOpen() {
    return disk == null ? 0 : disk.damagedSegmentsOnOpen;
  }
}
