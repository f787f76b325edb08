package net.wanrelay.channel.dedup;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * The identity of a chunk: the first 128 bits of its SHA-256. See docs/DEDUP.md for the collision
 * risk. Immutable; equal fingerprints mean (with overwhelming probability) equal bytes.
 */
public final class Fingerprint {
  /** Bytes of a fingerprint on the wire and on disk. */
  public static final int BYTES = 16;

  private final long high;
  private final long low;

  public Fingerprint(long high, long low) {
    this.high = high;
    this.low = low;
  }

  /** The fingerprint stored in {@code bytes[offset..offset+16)} (e.g. a truncated digest). */
  public static Fingerprint fromBytes(byte[] bytes, int offset) {
    ByteBuffer b = ByteBuffer.wrap(bytes, offset, BYTES);
    return new Fingerprint(b.getLong(), b.getLong());
  }

  public long high() {
    return high;
  }

  public long low() {
    return low;
  }

  public byte[] toBytes() {
    return ByteBuffer.allocate(BYTES).putLong(high).putLong(low).array();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Fingerprint f && f.high == high && f.low == low;
  }

  @Override
  public int hashCode() {
    // SHA-256 bits are uniform already.
    return (int) low;
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(toBytes());
  }
}
