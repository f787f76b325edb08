package net.wanrelay.channel.compress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The self-contained block format of a compressed DATA payload. Every block decodes on its own (no
 * state carried between frames, so a lost or reordered stream never poisons later blocks) and says
 * how long its output is, so the receiver can check that bound before it allocates anything.
 *
 * <pre>
 *   NONE : the plain bytes, unchanged
 *   LZ4  : originalLength:u32  xxhash32(plain):u32  lz4-block
 *   ZSTD : originalLength:u32  zstd-frame (with its own content checksum)
 * </pre>
 *
 * All integers are big-endian. Both codecs run on direct memory; other buffers are copied once
 * into a pooled direct buffer first.
 */
public final class BlockCodec {
  /** Header bytes in front of an LZ4 block. */
  public static final int LZ4_HEADER = 8;
  /** Header bytes in front of a zstd frame. */
  public static final int ZSTD_HEADER = 4;

  static final int XXHASH_SEED = 0x57524c5a; // "WRLZ"
  static final LZ4Compressor LZ4_COMPRESSOR = LZ4Factory.fastestInstance().fastCompressor();
  static final LZ4SafeDecompressor LZ4_DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();
  static final XXHash32 XXHASH = XXHashFactory.fastestInstance().hash32();

  private BlockCodec() {}

  /**
   * Encodes {@code plain} with {@code codec} and releases it. Unlike {@link AdaptiveCompressor} this
   * always uses the codec, even when the result is bigger than the input.
   *
   * @param level zstd level (ignored by the other codecs)
   * @return a new buffer owned by the caller ({@code plain} itself for NONE)
   */
  public static ByteBuf encode(ByteBufAllocator alloc, CompressionCodec codec, int level, ByteBuf plain) {
    if (codec == CompressionCodec.NONE) {
      return plain;
    }
    ByteBuf src = singleDirect(alloc, plain);
    ByteBuf out = null;
    try {
      int len = src.readableBytes();
      ByteBuffer in = src.nioBuffer(src.readerIndex(), len);
      if (codec == CompressionCodec.LZ4) {
        int bound = LZ4_COMPRESSOR.maxCompressedLength(len);
        out = alloc.directBuffer(LZ4_HEADER + bound);
        out.writeInt(len);
        out.writeInt(XXHASH.hash(in, 0, len, XXHASH_SEED));
        int n = LZ4_COMPRESSOR.compress(in, 0, len, out.nioBuffer(LZ4_HEADER, bound), 0, bound);
        out.writerIndex(LZ4_HEADER + n);
      } else {
        int bound = Math.toIntExact(com.github.luben.zstd.Zstd.compressBound(len));
        out = alloc.directBuffer(ZSTD_HEADER + bound);
        out.writeInt(len);
        int n = NativeContexts.current()
            .zstdCompressor(level)
            .compressDirectByteBuffer(out.nioBuffer(ZSTD_HEADER, bound), 0, bound, in, 0, len);
        out.writerIndex(ZSTD_HEADER + n);
      }
      ByteBuf result = out;
      out = null;
      return result;
    } finally {
      src.release();
      if (out != null) {
        out.release();
      }
    }
  }

  /**
   * Returns {@code buf} when it is one direct region, otherwise a direct copy of its readable bytes
   * (then {@code buf} is released). Either way the caller owns exactly the returned buffer.
   */
  static ByteBuf singleDirect(ByteBufAllocator alloc, ByteBuf buf) {
    if (buf.isDirect() && buf.nioBufferCount() == 1) {
      return buf;
    }
    try {
      ByteBuf copy = alloc.directBuffer(buf.readableBytes());
      copy.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
      return copy;
    } finally {
      buf.release();
    }
  }
}
