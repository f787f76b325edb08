package net.wanrelay.channel.dedup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk tier: append-only segment files, an in-memory index rebuilt by scanning them on open,
 * whole oldest segments dropped when over the size cap. Record layout (big-endian):
 *
 * <pre>
 *   magic:u32 'WRC1' | length:u32 | fingerprint[16] | crc32c(previous 24 bytes):u32 | data[length]
 * </pre>
 *
 * The header checksum lets the open-time scan stop at a torn or garbled record; the data itself is
 * checked against its fingerprint on every read, so a damaged chunk is a miss, never wrong bytes.
 * A new segment is started on every open, so the scan never has to repair a tail it will append
 * to. Not thread-safe (the store locks).
 */
final class SegmentChunkTier {
  static final int MAGIC = 0x57524331; // "WRC1"
  static final int HEADER = 28;
  static final String SUFFIX = ".seg";
  private static final Logger log = LoggerFactory.getLogger(SegmentChunkTier.class);

  /** Opens segment files; a seam so tests can simulate a full disk. */
  interface ChannelOpener {
    FileChannel open(Path path, boolean write) throws IOException;
  }

  static final ChannelOpener FILES = (path, write) -> write
      ? FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)
      : FileChannel.open(path, StandardOpenOption.READ);

  record Location(long segment, long offset, int length) {}

  private static final class Segment {
    final long id;
    final Path path;
    final FileChannel channel;
    long size;

    Segment(long id, Path path, FileChannel channel, long size) {
      this.id = id;
      this.path = path;
      this.channel = channel;
      this.size = size;
    }
  }

  private final Path dir;
  private final long capacityBytes;
  private final long segmentBytes;
  private final int maxChunk;
  private final ChannelOpener opener;
  private final TreeMap<Long, Segment> segments = new TreeMap<>();
  private final Map<Fingerprint, Location> index = new HashMap<>();
  private final ByteBuffer header = ByteBuffer.allocate(HEADER);
  private final CRC32C crc = new CRC32C();
  private final FileChannel lockChannel;
  private final FileLock lock;
  private Segment active;
  private long totalBytes;
  long damagedSegmentsOnOpen;

  SegmentChunkTier(Path dir, long capacityBytes, long segmentBytes, int maxChunk, ChannelOpener opener)
      throws IOException {
    this.dir = dir;
    this.capacityBytes = capacityBytes;
    this.segmentBytes = segmentBytes;
    this.maxChunk = maxChunk;
    this.opener = opener;
    Files.createDirectories(dir);
    lockChannel = FileChannel.open(dir.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock acquired;
    try {
      acquired = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      acquired = null; // held by another store in this JVM
    }
    if (acquired == null) {
      lockChannel.close();
      throw new IOException("chunk store " + dir + " is already open (LOCK held)");
    }
    lock = acquired;
    try {
      openSegments();
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private void openSegments() throws IOException {
    List<Long> ids = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        try {
          ids.add(Long.parseUnsignedLong(name.substring(0, name.length() - SUFFIX.length()), 16));
        } catch (NumberFormatException e) {
          log.warn("ignoring unexpected file {} in chunk store {}", name, dir);
        }
      }
    }
    ids.sort(null);
    for (long id : ids) {
      Path path = segmentPath(id);
      FileChannel channel = opener.open(path, false);
      Segment segment = new Segment(id, path, channel, channel.size());
      segments.put(id, segment);
      totalBytes += segment.size;
      scan(segment);
    }
    evictIfOverCapacity();
  }

  private Path segmentPath(long id) {
    return dir.resolve(String.format("%016x%s", id, SUFFIX));
  }

  /** Indexes the valid records of a segment, stopping at the first damaged header. */
  private void scan(Segment segment) throws IOException {
    long offset = 0;
    while (offset + HEADER <= segment.size) {
      Record record = readHeader(segment, offset);
      if (record == null) {
        break;
      }
      index.put(record.fp(), record.location());
      offset = record.location().offset() + record.location().length();
    }
    if (offset < segment.size) {
      damagedSegmentsOnOpen++;
      log.warn("chunk store segment {} is damaged after offset {} of {}; ignoring the rest",
          segment.path, offset, segment.size);
    }
  }

  private record Record(Fingerprint fp, Location location) {}

  /** The record whose header starts at {@code offset}, or null if that header is not valid. */
  private Record readHeader(Segment segment, long offset) throws IOException {
    header.clear();
    while (header.hasRemaining()) {
      if (segment.channel.read(header, offset + header.position()) < 0) {
        return null;
      }
    }
    header.flip();
    int magic = header.getInt(0);
    int length = header.getInt(4);
    crc.reset();
    crc.update(header.array(), 0, 24);
    if (magic != MAGIC || (int) crc.getValue() != header.getInt(24) || length < 1 || length > maxChunk
        || offset + HEADER + length > segment.size) {
      return null;
    }
    return new Record(new Fingerprint(header.getLong(8), header.getLong(16)),
        new Location(segment.id, offset + HEADER, length));
  }

  boolean contains(Fingerprint fp) {
    return index.containsKey(fp);
  }

  /** The stored bytes, unverified (the store checks them), or null if absent or unreadable. */
  byte[] read(Fingerprint fp) throws IOException {
    Location loc = index.get(fp);
    if (loc == null) {
      return null;
    }
    Segment segment = segments.get(loc.segment());
    if (segment == null) {
      index.remove(fp);
      return null;
    }
    ByteBuffer data = ByteBuffer.allocate(loc.length());
    while (data.hasRemaining()) {
      if (segment.channel.read(data, loc.offset() + data.position()) < 0) {
        throw new IOException("chunk store segment " + segment.path + " is shorter than its index says");
      }
    }
    return data.array();
  }

  void forget(Fingerprint fp) {
    index.remove(fp);
  }

  /**
   * Appends a chunk unless present in the newer half of the segments; a chunk that is still in use
   * but sits in an old segment is written again, so whole-segment eviction does not drop it.
   * Throws on I/O errors (the store then disables the tier).
   */
  void append(Fingerprint fp, byte[] data) throws IOException {
    if (data.length > maxChunk) {
      return;
    }
    Location existing = index.get(fp);
    if (existing != null && !inOlderHalf(existing.segment())) {
      return;
    }
    if (active == null || active.size + HEADER + data.length > segmentBytes) {
      roll();
    }
    ByteBuffer head = ByteBuffer.allocate(HEADER);
    head.putInt(MAGIC).putInt(data.length).putLong(fp.high()).putLong(fp.low());
    crc.reset();
    crc.update(head.array(), 0, 24);
    head.putInt((int) crc.getValue());
    head.flip();
    ByteBuffer body = ByteBuffer.wrap(data);
    long offset = active.size;
    long position = offset;
    while (head.hasRemaining()) {
      position += active.channel.write(head, position);
    }
    while (body.hasRemaining()) {
      position += active.channel.write(body, position);
    }
    active.size = position;
    totalBytes += position - offset;
    index.put(fp, new Location(active.id, offset + HEADER, data.length));
    evictIfOverCapacity();
  }

  private boolean inOlderHalf(long segment) {
    long first = segments.firstKey();
    long last = segments.lastKey();
    return last > first && segment < first + (last - first + 1) / 2;
  }

  private void roll() throws IOException {
    long id = segments.isEmpty() ? 1 : segments.lastKey() + 1;
    Path path = segmentPath(id);
    FileChannel channel = opener.open(path, true);
    active = new Segment(id, path, channel, 0);
    segments.put(id, active);
  }

  private void evictIfOverCapacity() throws IOException {
    while (totalBytes > capacityBytes && segments.size() > 1) {
      Segment oldest = segments.pollFirstEntry().getValue();
      totalBytes -= oldest.size;
      index.values().removeIf(loc -> loc.segment() == oldest.id);
      oldest.channel.close();
      Files.deleteIfExists(oldest.path);
      if (oldest == active) {
        active = null;
      }
    }
  }

  int chunkCount() {
    return index.size();
  }

  long bytesOnDisk() {
    return totalBytes;
  }

  int segmentCount() {
    return segments.size();
  }

  void close() {
    for (Segment segment : segments.values()) {
      try {
        if (segment == active) {
          segment.channel.force(false);
        }
        segment.channel.close();
      } catch (IOException e) {
        log.warn("closing chunk store segment {}: {}", segment.path, e.toString());
      }
    }
    segments.clear();
    index.clear();
    active = null;
    try {
      if (lock.isValid()) {
        lock.release();
      }
      lockChannel.close();
    } catch (IOException e) {
      log.warn("releasing chunk store lock in {}: {}", dir, e.toString());
    }
  }
}
