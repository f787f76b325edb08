package net.wanrelay.channel.compress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * Prints compression and decompression MB/s and ratio of each setting on text and random data, one
 * thread. Not a test; run it by hand:
 *
 * <pre>
 * ./mvnw -o -q -pl wan-channel test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp "wan-channel/target/test-classes:wan-channel/target/classes:$(cat /tmp/cp.txt)" \
 *   net.wanrelay.channel.compress.CompressionBench [seconds-per-case]
 * </pre>
 */
public final class CompressionBench {
  private static final int BLOCK = 16 * 1024;

  public static void main(String[] args) {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
    ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    byte[][] inputs = {TestPayloads.text(8 << 20, 1), TestPayloads.random(8 << 20, 2)};
    String[] names = {"text", "random"};
    System.out.printf("%-9s %-7s %12s %12s %8s%n", "setting", "data", "comp MB/s", "decomp MB/s", "ratio");
    for (String setting : new String[] {"lz4", "zstd", "adaptive"}) {
      for (int i = 0; i < inputs.length; i++) {
        run(alloc, CompressionSettings.parse(setting), setting, names[i], inputs[i], seconds);
      }
    }
  }

  private static void run(ByteBufAllocator alloc, CompressionSettings settings, String setting, String name, byte[] data, double seconds) {
    Decompressor decompressor = new Decompressor();
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long plain = 0;
    long wire = 0;
    long compressNanos = 0;
    long decompressNanos = 0;
    while (System.nanoTime() < deadline) {
      // A fresh compressor per pass, so adaptive re-samples like a new stream would.
      AdaptiveCompressor compressor = new AdaptiveCompressor(settings);
      for (int off = 0; off + BLOCK <= data.length; off += BLOCK) {
        ByteBuf in = alloc.directBuffer(BLOCK).writeBytes(data, off, BLOCK);
        long t0 = System.nanoTime();
        AdaptiveCompressor.Compressed c = compressor.compress(alloc, in);
        long t1 = System.nanoTime();
        wire += c.payload().readableBytes();
        ByteBuf out = decompressor.decompress(alloc, c.codec(), c.payload(), BLOCK);
        long t2 = System.nanoTime();
        out.release();
        compressNanos += t1 - t0;
        decompressNanos += t2 - t1;
        plain += BLOCK;
      }
    }
    System.out.printf("%-9s %-7s %12.0f %12.0f %8.3f%n", setting, name,
        plain / 1e6 / (compressNanos / 1e9), plain / 1e6 / (decompressNanos / 1e9), (double) wire / plain);
  }
}
