package net.wanrelay.channel.dedup;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Binary form of {@link DedupToken}s (docs/DEDUP.md). Every length is checked against the chunk
 * limit before anything is allocated; a malformed token is a {@link DedupException}.
 *
 * <pre>
 *   LITERAL 0x01  fingerprint[16] prefixLength:varint length:varint data[length]
 *   REF     0x02  fingerprint[16] length:varint
 *   RAW     0x03  length:varint data[length]
 *   SUPPLY  0x04  fingerprint[16] length:varint data[length]
 *   ASK     0x05  fingerprint[16]
 *   ACK     0x06  resolvedRefs:varlong
 * </pre>
 *
 * varint = unsigned LEB128, minimal length only (at most 5 bytes, 10 for varlong).
 */
public final class DedupTokenCodec {
  static final int LITERAL = 1;
  static final int REF = 2;
  static final int RAW = 3;
  static final int SUPPLY = 4;
  static final int ASK = 5;
  static final int ACK = 6;

  private final int maxChunk;

  /** @param maxChunk the largest chunk (and so the largest data field) accepted */
  public DedupTokenCodec(int maxChunk) {
    if (maxChunk <= 0 || maxChunk > ChunkingParams.MAX_CHUNK_LIMIT) {
      throw new IllegalArgumentException("maxChunk must be in 1.." + ChunkingParams.MAX_CHUNK_LIMIT);
    }
    this.maxChunk = maxChunk;
  }

  public DedupTokenCodec() {
    this(ChunkingParams.MAX_CHUNK_LIMIT);
  }

  /** Appends the binary form of {@code token} to {@code out}. */
  public static void write(DedupToken token, ByteBuf out) {
    if (token instanceof DedupToken.Literal t) {
      out.writeByte(LITERAL);
      writeFingerprint(t.fingerprint(), out);
      writeVarInt(t.prefixLength(), out);
      writeVarInt(t.data().length, out);
      out.writeBytes(t.data());
    } else if (token instanceof DedupToken.Ref t) {
      out.writeByte(REF);
      writeFingerprint(t.fingerprint(), out);
      writeVarInt(t.length(), out);
    } else if (token instanceof DedupToken.Raw t) {
      out.writeByte(RAW);
      writeVarInt(t.data().length, out);
      out.writeBytes(t.data());
    } else if (token instanceof DedupToken.Supply t) {
      out.writeByte(SUPPLY);
      writeFingerprint(t.fingerprint(), out);
      writeVarInt(t.data().length, out);
      out.writeBytes(t.data());
    } else if (token instanceof DedupToken.Ask t) {
      out.writeByte(ASK);
      writeFingerprint(t.fingerprint(), out);
    } else if (token instanceof DedupToken.Ack t) {
      out.writeByte(ACK);
      writeVarLong(t.resolvedRefs(), out);
    } else {
      throw new IllegalArgumentException("unknown token " + token);
    }
  }

  /** Upper bound of {@link #write}'s output for {@code token}. */
  public static int maxEncodedLength(DedupToken token) {
    int data = 0;
    if (token instanceof DedupToken.Literal t) {
      data = t.data().length;
    } else if (token instanceof DedupToken.Raw t) {
      data = t.data().length;
    } else if (token instanceof DedupToken.Supply t) {
      data = t.data().length;
    }
    return 1 + Fingerprint.BYTES + 5 + 10 + data;
  }

  /**
   * Reads one token. Returns null, with the reader index unchanged, when {@code in} holds only part
   * of a token; the fields read so far are already checked, so a bad length fails at once instead
   * of waiting for data that never comes.
   *
   * @throws DedupException on a malformed token (the reader index is then unspecified)
   */
  public DedupToken read(ByteBuf in) {
    int start = in.readerIndex();
    DedupToken token = readToken(in);
    if (token == null) {
      in.readerIndex(start);
    }
    return token;
  }

  /** Reads a buffer that must hold whole tokens only (e.g. one frame's payload). */
  public List<DedupToken> readAll(ByteBuf in) {
    List<DedupToken> tokens = new ArrayList<>();
    while (in.isReadable()) {
      DedupToken token = read(in);
      if (token == null) {
        throw new DedupException("truncated dedup token at the end of the buffer ("
            + in.readableBytes() + " bytes left)");
      }
      tokens.add(token);
    }
    return tokens;
  }

  private DedupToken readToken(ByteBuf in) {
    if (!in.isReadable()) {
      return null;
    }
    int type = in.readUnsignedByte();
    switch (type) {
      case LITERAL: {
        Fingerprint fp = readFingerprint(in);
        if (fp == null) {
          return null;
        }
        long prefix = readVarInt(in);
        if (prefix < 0) {
          return null;
        }
        long length = readVarInt(in);
        if (length < 0) {
          return null;
        }
        if (prefix + length > maxChunk || prefix + length == 0) {
          throw new DedupException("literal chunk of " + (prefix + length) + " bytes outside 1.." + maxChunk);
        }
        byte[] data = readData(in, (int) length);
        return data == null ? null : new DedupToken.Literal(fp, (int) prefix, data);
      }
      case REF: {
        Fingerprint fp = readFingerprint(in);
        if (fp == null) {
          return null;
        }
        long length = readVarInt(in);
        if (length < 0) {
          return null;
        }
        checkChunkLength("ref", length);
        return new DedupToken.Ref(fp, (int) length);
      }
      case RAW: {
        long length = readVarInt(in);
        if (length < 0) {
          return null;
        }
        checkChunkLength("raw", length);
        byte[] data = readData(in, (int) length);
        return data == null ? null : new DedupToken.Raw(data);
      }
      case SUPPLY: {
        Fingerprint fp = readFingerprint(in);
        if (fp == null) {
          return null;
        }
        long length = readVarInt(in);
        if (length < 0) {
          return null;
        }
        checkChunkLength("supply", length);
        byte[] data = readData(in, (int) length);
        return data == null ? null : new DedupToken.Supply(fp, data);
      }
      case ASK: {
        Fingerprint fp = readFingerprint(in);
        return fp == null ? null : new DedupToken.Ask(fp);
      }
      case ACK: {
        if (!in.isReadable()) {
          return null;
        }
        long value = 0;
        for (int shift = 0; ; shift += 7) {
          if (!in.isReadable()) {
            return null;
          }
          int b = in.readUnsignedByte();
          if (shift == 63 && b > 0) {
            throw new DedupException("ack count does not fit 63 bits");
          }
          value |= (long) (b & 0x7f) << shift;
          if ((b & 0x80) == 0) {
            if (b == 0 && shift > 0) {
              throw new DedupException("overlong varint in ack");
            }
            return new DedupToken.Ack(value);
          }
        }
      }
      default:
        throw new DedupException("unknown dedup token type 0x" + Integer.toHexString(type));
    }
  }

  private void checkChunkLength(String what, long length) {
    if (length < 1 || length > maxChunk) {
      throw new DedupException(what + " length " + length + " outside 1.." + maxChunk);
    }
  }

  private static Fingerprint readFingerprint(ByteBuf in) {
    if (in.readableBytes() < Fingerprint.BYTES) {
      return null;
    }
    return new Fingerprint(in.readLong(), in.readLong());
  }

  private static byte[] readData(ByteBuf in, int length) {
    if (in.readableBytes() < length) {
      return null;
    }
    byte[] data = new byte[length];
    in.readBytes(data);
    return data;
  }

  /** An unsigned varint of at most 31 bits; -1 when incomplete. */
  private static long readVarInt(ByteBuf in) {
    long value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (!in.isReadable()) {
        return -1;
      }
      int b = in.readUnsignedByte();
      value |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) {
          throw new DedupException("overlong varint");
        }
        if (value > Integer.MAX_VALUE) {
          throw new DedupException("varint " + value + " exceeds 31 bits");
        }
        return value;
      }
    }
    throw new DedupException("varint longer than 5 bytes");
  }

  private static void writeFingerprint(Fingerprint fp, ByteBuf out) {
    out.writeLong(fp.high());
    out.writeLong(fp.low());
  }

  static void writeVarInt(int value, ByteBuf out) {
    if (value < 0) {
      throw new IllegalArgumentException("negative length " + value);
    }
    writeVarLong(value, out);
  }

  static void writeVarLong(long value, ByteBuf out) {
    if (value < 0) {
      throw new IllegalArgumentException("negative value " + value);
    }
    while ((value & ~0x7fL) != 0) {
      out.writeByte((int) ((value & 0x7f) | 0x80));
      value >>>= 7;
    }
    out.writeByte((int) value);
  }
}
