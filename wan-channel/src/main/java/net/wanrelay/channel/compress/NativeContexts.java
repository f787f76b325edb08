package net.wanrelay.channel.compress;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * zstd contexts kept per thread (in practice per event loop) instead of per stream: a context holds
 * a few hundred KiB of native memory, and thousands of streams share a handful of event loops.
 * Netty removes FastThreadLocals when an event loop thread ends, which closes the contexts.
 */
final class NativeContexts {
  private static final int MIN_LEVEL = -7;
  private static final int MAX_LEVEL = 19;

  private static final FastThreadLocal<NativeContexts> LOCAL = new FastThreadLocal<>() {
    @Override
    protected NativeContexts initialValue() {
      return new NativeContexts();
    }

    @Override
    protected void onRemoval(NativeContexts value) {
      value.close();
    }
  };

  private final ZstdCompressCtx[] compressByLevel = new ZstdCompressCtx[MAX_LEVEL - MIN_LEVEL + 1];
  private ZstdDecompressCtx decompress;

  static NativeContexts current() {
    return LOCAL.get();
  }

  ZstdCompressCtx zstdCompressor(int level) {
    int slot = level - MIN_LEVEL;
    ZstdCompressCtx ctx = compressByLevel[slot];
    if (ctx == null) {
      ctx = new ZstdCompressCtx();
      ctx.setLevel(level);
      // The frame checksum turns corruption into an error instead of wrong bytes.
      ctx.setChecksum(true);
      ctx.setContentSize(true);
      compressByLevel[slot] = ctx;
    }
    return ctx;
  }

  ZstdDecompressCtx zstdDecompressor() {
    if (decompress == null) {
      decompress = new ZstdDecompressCtx();
    }
    return decompress;
  }

  private void close() {
    for (int i = 0; i < compressByLevel.length; i++) {
      if (compressByLevel[i] != null) {
        compressByLevel[i].close();
        compressByLevel[i] = null;
      }
    }
    if (decompress != null) {
      decompress.close();
      decompress = null;
    }
  }
}
