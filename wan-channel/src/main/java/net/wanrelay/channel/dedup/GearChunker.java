package net.wanrelay.channel.dedup;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.util.SplittableRandom;

/**
 * Content-defined chunking in the FastCDC style: a gear rolling hash ({@code h = (h << 1) + G[b]},
 * so bit k of h depends on the last k+1 bytes), a cut where the top bits of h are all zero, no cut
 * before {@code min} (those bytes are not even hashed), a harder mask before {@code avg} and an
 * easier one after it ("normalized chunking", which narrows the size distribution around avg), and
 * a forced cut at {@code max}. Boundaries depend only on the bytes since the previous boundary, so
 * an insertion shifts the boundaries near it and the chunking falls back into step after it.
 *
 * <p>Streaming: feed any slices (byte arrays or ByteBufs) with {@code nextCut}; the state carries
 * across calls. Not thread-safe.
 */
public final class GearChunker {
  /** The gear table is fixed forever: stored chunks from earlier runs stay reachable. */
  private static final long[] GEAR = gearTable(0x5741_4e52_454c_4159L);

  private final ChunkingParams params;
  private final long maskSmall;
  private final long maskLarge;
  private long hash;
  private int length;

  public GearChunker(ChunkingParams params) {
    this.params = params;
    int bits = Integer.numberOfTrailingZeros(params.avgSize());
    // Top-bit masks: each bit looks at a different window of up to 64 bytes.
    this.maskSmall = -1L << (64 - (bits + 2));
    this.maskLarge = -1L << (64 - (bits - 2));
  }

  public ChunkingParams params() {
    return params;
  }

  /** Bytes of the current (unfinished) chunk seen so far. */
  public int pendingLength() {
    return length;
  }

  /**
   * Scans {@code data[offset..offset+len)} as the continuation of the current chunk.
   *
   * @return how many bytes of this range end the current chunk (a boundary right after them; the
   *     chunker then starts a new chunk), or -1 if the whole range belongs to the current chunk
   */
  public int nextCut(byte[] data, int offset, int len) {
    int n = length;
    int p = offset;
    int end = offset + len;
    if (n < params.minSize()) {
      int skip = Math.min(params.minSize() - n, len);
      p += skip;
      n += skip;
    }
    long h = hash;
    long[] gear = GEAR;
    int avgEnd = Math.min(end, p + Math.max(0, params.avgSize() - n));
    while (p < avgEnd) {
      h = (h << 1) + gear[data[p++] & 0xff];
      if ((h & maskSmall) == 0) {
        return cut(p - offset);
      }
    }
    int maxEnd = Math.min(end, offset + (params.maxSize() - length));
    while (p < maxEnd) {
      h = (h << 1) + gear[data[p++] & 0xff];
      if ((h & maskLarge) == 0) {
        return cut(p - offset);
      }
    }
    if (length + (p - offset) >= params.maxSize()) {
      return cut(p - offset);
    }
    hash = h;
    length += len;
    return -1;
  }

  /**
   * Same as {@link #nextCut(byte[], int, int)} over {@code buf[index..index+len)} (reader and writer
   * indexes untouched). Heap buffers are scanned in place; direct and composite buffers through
   * {@link ByteBuf#forEachByte}, without copying.
   */
  public int nextCut(ByteBuf buf, int index, int len) {
    if (buf.hasArray()) {
      return nextCut(buf.array(), buf.arrayOffset() + index, len);
    }
    int skip = length < params.minSize() ? Math.min(params.minSize() - length, len) : 0;
    scanner.hash = hash;
    scanner.length = length + skip;
    int stop = len == skip ? -1 : buf.forEachByte(index + skip, len - skip, scanner);
    if (stop >= 0) {
      return cut(stop - index + 1);
    }
    hash = scanner.hash;
    length += len;
    return -1;
  }

  /** The per-byte step of {@link #nextCut(ByteBuf, int, int)}; stops on the byte that ends a chunk. */
  private final class Scanner implements ByteProcessor {
    long hash;
    int length;

    @Override
    public boolean process(byte value) {
      hash = (hash << 1) + GEAR[value & 0xff];
      length++;
      long mask = length <= params.avgSize() ? maskSmall : maskLarge;
      return (hash & mask) != 0 && length < params.maxSize();
    }
  }

  private final Scanner scanner = new Scanner();

  /** Forgets the current chunk (e.g. at the end of a stream). */
  public void reset() {
    hash = 0;
    length = 0;
  }

  private int cut(int consumed) {
    hash = 0;
    length = 0;
    return consumed;
  }

  private static long[] gearTable(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    long[] table = new long[256];
    for (int i = 0; i < table.length; i++) {
      table[i] = random.nextLong();
    }
    return table;
  }
}
