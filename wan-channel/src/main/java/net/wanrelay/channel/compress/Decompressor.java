package net.wanrelay.channel.compress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;

/**
 * Decodes blocks written by {@link BlockCodec} / {@link AdaptiveCompressor}. Stateless apart from
 * its counters; the zstd context is per thread. Safe against hostile input: the declared output
 * length is checked against {@code maxOutput} before anything is allocated, the codecs never write
 * past that bound, and a block that does not decode to exactly that length, or fails its checksum,
 * is a {@link CompressionException}.
 */
public final class Decompressor {
  private final CompressionMetrics metrics;

  public Decompressor() {
    this(CompressionMetrics.UNBOUND);
  }

  public Decompressor(CompressionMetrics metrics) {
    this.metrics = metrics;
  }

  /**
   * Decodes one block and releases {@code in} (for NONE, {@code in} itself is returned, so the
   * caller then owns it again).
   *
   * @param maxOutput the largest output the caller accepts (e.g. the stream's free window)
   * @return the plain bytes, owned by the caller
   * @throws CompressionException on corrupt input or an output larger than {@code maxOutput}
   */
  public ByteBuf decompress(ByteBufAllocator alloc, CompressionCodec codec, ByteBuf in, int maxOutput) {
    try {
      return decode(alloc, codec, in, maxOutput);
    } catch (CompressionException e) {
      metrics.decodeErrors.increment();
      throw e;
    }
  }

  /**
   * Same as {@link #decompress(ByteBufAllocator, CompressionCodec, ByteBuf, int)} for a codec id
   * straight off the wire: an unknown id is a {@link CompressionException} and {@code in} is
   * released on that path too.
   */
  public ByteBuf decompress(ByteBufAllocator alloc, int codecId, ByteBuf in, int maxOutput) {
    CompressionCodec codec;
    try {
      codec = CompressionCodec.fromId(codecId);
    } catch (CompressionException e) {
      in.release();
      metrics.decodeErrors.increment();
      throw e;
    }
    return decompress(alloc, codec, in, maxOutput);
  }

  private ByteBuf decode(ByteBufAllocator alloc, CompressionCodec codec, ByteBuf in, int maxOutput) {
    if (codec == null) {
      in.release();
      throw new CompressionException("codec must not be null");
    }
    if (codec == CompressionCodec.NONE) {
      if (in.readableBytes() > maxOutput) {
        int n = in.readableBytes();
        in.release();
        throw new CompressionException("uncompressed block of " + n + " bytes exceeds limit " + maxOutput);
      }
      return in;
    }
    int header = codec == CompressionCodec.LZ4 ? BlockCodec.LZ4_HEADER : BlockCodec.ZSTD_HEADER;
    ByteBuf src = null;
    ByteBuf out = null;
    try {
      if (in.readableBytes() < header + 1) {
        throw new CompressionException(
            codec + " block of " + in.readableBytes() + " bytes is shorter than its header");
      }
      long originalLength = in.readUnsignedInt();
      if (originalLength > maxOutput) {
        throw new CompressionException(
            codec + " block declares " + originalLength + " bytes of output, limit is " + maxOutput);
      }
      int expectedHash = codec == CompressionCodec.LZ4 ? in.readInt() : 0;
      int length = (int) originalLength;
      src = BlockCodec.singleDirect(alloc, in);
      in = null;
      int srcLen = src.readableBytes();
      ByteBuffer srcNio = src.nioBuffer(src.readerIndex(), srcLen);
      out = alloc.directBuffer(length);
      ByteBuffer dst = out.nioBuffer(0, length);
      int n;
      try {
        if (codec == CompressionCodec.LZ4) {
          n = BlockCodec.LZ4_DECOMPRESSOR.decompress(srcNio, 0, srcLen, dst, 0, length);
        } else {
          n = NativeContexts.current().zstdDecompressor().decompressDirectByteBuffer(dst, 0, length, srcNio, 0, srcLen);
        }
      } catch (RuntimeException e) {
        // LZ4Exception / ZstdException: malformed data, or more output than declared.
        throw new CompressionException("corrupt " + codec + " block: " + e.getMessage(), e);
      }
      if (n != length) {
        throw new CompressionException(
            "corrupt " + codec + " block: decoded " + n + " bytes, header says " + length);
      }
      if (codec == CompressionCodec.LZ4 && BlockCodec.XXHASH.hash(dst, 0, length, BlockCodec.XXHASH_SEED) != expectedHash) {
        throw new CompressionException("corrupt LZ4 block: checksum mismatch");
      }
      out.writerIndex(length);
      ByteBuf result = out;
      out = null;
      return result;
    } finally {
      if (in != null) {
        in.release();
      }
      if (src != null) {
        src.release();
      }
      if (out != null) {
        out.release();
      }
    }
  }
}
