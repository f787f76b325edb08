package net.wanrelay.channel.dedup;

/**
 * Chunk size limits for content-defined chunking. The average must be a power of two (it sets the
 * hash mask); the sender alone picks boundaries, so the two relays need not agree on these, but
 * changing them changes every boundary and so throws away what the stores hold.
 */
public record ChunkingParams(int minSize, int avgSize, int maxSize) {
  /** Hard upper bound for any chunk, also the bound the token reader enforces. */
  public static final int MAX_CHUNK_LIMIT = 1 << 20;
  public static final ChunkingParams DEFAULT = new ChunkingParams(2 * 1024, 8 * 1024, 64 * 1024);

  public ChunkingParams {
    if (Integer.bitCount(avgSize) != 1) {
      throw new IllegalArgumentException("average chunk size must be a power of two, got " + avgSize);
    }
    if (minSize < 64 || minSize >= avgSize || avgSize >= maxSize || maxSize > MAX_CHUNK_LIMIT) {
      throw new IllegalArgumentException("need 64 <= min < avg < max <= " + MAX_CHUNK_LIMIT
          + ", got min=" + minSize + " avg=" + avgSize + " max=" + maxSize);
    }
    if (avgSize < 256) {
      throw new IllegalArgumentException("average chunk size must be at least 256, got " + avgSize);
    }
  }

  /** The default limits around a different average: min = avg/4, max = avg*8. */
  public static ChunkingParams ofAverage(int avgSize) {
    return new ChunkingParams(avgSize / 4, avgSize, Math.min(avgSize * 8, MAX_CHUNK_LIMIT));
  }
}
