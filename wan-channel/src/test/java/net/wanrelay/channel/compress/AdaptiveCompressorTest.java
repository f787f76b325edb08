package net.wanrelay.channel.compress;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.Test;

class AdaptiveCompressorTest {
  static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
  static final int BLOCK = 16 * 1024;

  /** Sends {@code data} in blocks, decodes every block, and returns the codecs used in order. */
  private static List<CompressionCodec> pump(AdaptiveCompressor compressor, byte[] data, ByteArrayOutputStream received) {
    Decompressor decompressor = new Decompressor();
    List<CompressionCodec> codecs = new ArrayList<>();
    for (int off = 0; off < data.length; off += BLOCK) {
      int len = Math.min(BLOCK, data.length - off);
      ByteBuf plain = ALLOC.directBuffer(len).writeBytes(data, off, len);
      AdaptiveCompressor.Compressed c = compressor.compress(ALLOC, plain);
      assertThat(plain.refCnt() == 0 || c.payload() == plain).isTrue();
      assertThat(c.payload().readableBytes()).isLessThanOrEqualTo(len);
      codecs.add(c.codec());
      ByteBuf back = decompressor.decompress(ALLOC, c.codec(), c.payload(), BLOCK);
      try {
        received.writeBytes(ByteBufUtil.getBytes(back));
      } finally {
        back.release();
      }
    }
    return codecs;
  }

  @Test
  void compressesTextWithZstdAndCountsSavings() {
    AdaptiveCompressor compressor = new AdaptiveCompressor(CompressionSettings.ADAPTIVE);
    byte[] text = TestPayloads.text(20 * BLOCK, 11);
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    List<CompressionCodec> codecs = pump(compressor, text, received);

    assertThat(codecs).hasSize(20).containsOnly(CompressionCodec.ZSTD);
    assertThat(Hashes.sha256Hex(received.toByteArray())).isEqualTo(Hashes.sha256Hex(text));
    assertThat(compressor.plainBytesIn()).isEqualTo(text.length);
    assertThat(compressor.bytesSaved()).isGreaterThan(text.length / 2);
    assertThat(compressor.bytesSaved()).isEqualTo(compressor.plainBytesIn() - compressor.bytesOut());
    assertThat(compressor.samples()).isEqualTo(20);
    assertThat(compressor.skipping()).isFalse();
  }

  @Test
  void skipsRandomDataAfterTheFirstSample() {
    AdaptiveCompressor compressor = new AdaptiveCompressor(CompressionSettings.ADAPTIVE);
    byte[] random = TestPayloads.random(32 * BLOCK, 12); // 512 KiB < the 1 MiB default window
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    List<CompressionCodec> codecs = pump(compressor, random, received);

    assertThat(codecs).containsOnly(CompressionCodec.NONE);
    assertThat(compressor.samples()).as("only the first block was tried").isEqualTo(1);
    assertThat(compressor.rejectedSamples()).isEqualTo(1);
    assertThat(compressor.skippedBytes()).isEqualTo(31L * BLOCK);
    assertThat(compressor.bytesSaved()).isZero();
    assertThat(compressor.skipping()).isTrue();
    assertThat(Hashes.sha256Hex(received.toByteArray())).isEqualTo(Hashes.sha256Hex(random));
  }

  @Test
  void retestsAfterTheSkipWindowAndGrowsItOnRepeatedFailure() {
    int window = 4 * BLOCK;
    AdaptiveCompressor compressor = new AdaptiveCompressor(
        CompressionSettings.ADAPTIVE, CompressionMetrics.UNBOUND, window, 2 * window, 8);
    ByteArrayOutputStream received = new ByteArrayOutputStream();

    // sample (fails), 4 skipped, sample (fails, window doubles to 8 blocks), 8 skipped, sample...
    byte[] random = TestPayloads.random(14 * BLOCK, 13);
    pump(compressor, random, received);
    assertThat(compressor.samples()).isEqualTo(2);
    assertThat(compressor.rejectedSamples()).isEqualTo(2);
    assertThat(compressor.skippedBytes()).isEqualTo(12L * BLOCK);
    assertThat(compressor.skipping()).isFalse();
    assertThat(compressor.nextSkipWindow()).as("capped at max").isEqualTo(2 * window);

    // The data turns compressible: the next sample succeeds and the window resets.
    byte[] text = TestPayloads.text(3 * BLOCK, 14);
    List<CompressionCodec> codecs = pump(compressor, text, received);
    assertThat(codecs).containsExactly(CompressionCodec.ZSTD, CompressionCodec.ZSTD, CompressionCodec.ZSTD);
    assertThat(compressor.nextSkipWindow()).isEqualTo(window);

    byte[] all = new byte[random.length + text.length];
    System.arraycopy(random, 0, all, 0, random.length);
    System.arraycopy(text, 0, all, random.length, text.length);
    assertThat(Hashes.sha256Hex(received.toByteArray())).isEqualTo(Hashes.sha256Hex(all));
  }

  @Test
  void fixedCodecsTryEveryBlockButNeverSendAGrownBlock() {
    for (CompressionSettings settings : List.of(CompressionSettings.LZ4, CompressionSettings.ZSTD)) {
      AdaptiveCompressor compressor = new AdaptiveCompressor(settings);
      byte[] random = TestPayloads.random(8 * BLOCK, 15);
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      assertThat(pump(compressor, random, received)).containsOnly(CompressionCodec.NONE);
      assertThat(compressor.samples()).isEqualTo(8);
      assertThat(compressor.skippedBytes()).isZero();
      assertThat(compressor.bytesOut()).isEqualTo(random.length);

      byte[] text = TestPayloads.text(4 * BLOCK, 16);
      assertThat(pump(compressor, text, received)).containsOnly(settings.codec());
    }
  }

  @Test
  void offAndTinyBlocksAreSentAsIs() {
    AdaptiveCompressor off = new AdaptiveCompressor(CompressionSettings.parse("off"));
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    assertThat(pump(off, TestPayloads.text(3 * BLOCK, 17), received)).containsOnly(CompressionCodec.NONE);
    assertThat(off.samples()).isZero();

    AdaptiveCompressor adaptive = new AdaptiveCompressor(CompressionSettings.ADAPTIVE);
    byte[] tiny = TestPayloads.text(AdaptiveCompressor.MIN_BLOCK - 1, 18);
    AdaptiveCompressor.Compressed c = adaptive.compress(ALLOC, ALLOC.buffer().writeBytes(tiny));
    try {
      assertThat(c.codec()).isEqualTo(CompressionCodec.NONE);
      assertThat(ByteBufUtil.getBytes(c.payload())).isEqualTo(tiny);
      assertThat(adaptive.samples()).isZero();
    } finally {
      c.payload().release();
    }
  }

  @Test
  void sharedMetricsReportBytesSaved() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CompressionMetrics metrics = new CompressionMetrics().bindTo(registry);
    AdaptiveCompressor a = new AdaptiveCompressor(CompressionSettings.ADAPTIVE, metrics);
    AdaptiveCompressor b = new AdaptiveCompressor(CompressionSettings.ADAPTIVE, metrics);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    pump(a, TestPayloads.text(4 * BLOCK, 19), sink);
    pump(b, TestPayloads.random(4 * BLOCK, 20), sink);

    assertThat(metrics.plainBytes()).isEqualTo(8L * BLOCK);
    assertThat(metrics.wireBytes()).isEqualTo(a.bytesOut() + b.bytesOut());
    assertThat(metrics.skippedBytes()).isEqualTo(3L * BLOCK);
    assertThat(registry.get("wanrelay.compression.plain.bytes").functionCounter().count()).isEqualTo(8.0 * BLOCK);
    assertThat(registry.get("wanrelay.compression.wire.bytes").functionCounter().count())
        .isEqualTo((double) (a.bytesOut() + b.bytesOut()));
    assertThat(registry.get("wanrelay.compression.rejected.samples").functionCounter().count()).isEqualTo(1.0);
  }
}
