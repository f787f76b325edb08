package net.wanrelay.channel.compress;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompressibilityHintsTest {
  private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
  private static final InetSocketAddress TLS_SERVER = new InetSocketAddress("10.9.3.2", 443);
  private static final InetSocketAddress WEB_SERVER = new InetSocketAddress("10.9.3.2", 80);
  private final CompressibilityHints hints = new CompressibilityHints();
  private int startedSkipping;

  /** One short stream: a new compressor primed for {@code to}, one 1 KiB block; returns its codec. */
  private CompressionCodec shortStream(InetSocketAddress to, byte[] block, List<Long> samples) {
    AdaptiveCompressor c = new AdaptiveCompressor(CompressionSettings.ADAPTIVE);
    if (hints.prime(to, c)) {
      startedSkipping++;
    }
    AdaptiveCompressor.Compressed out = c.compress(ALLOC, ALLOC.directBuffer().writeBytes(block));
    out.payload().release();
    samples.add(c.samples());
    return out.codec();
  }

  @Test
  void destinationWithIncompressibleStreamsStopsBeingSampledButIsRecheckedNowAndThen() {
    byte[] random = TestPayloads.random(1024, 1);
    List<Long> samples = new ArrayList<>();
    for (int i = 0; i < 3 + 32; i++) {
      assertThat(shortStream(TLS_SERVER, random, samples)).isEqualTo(CompressionCodec.NONE);
    }
    // The first three streams sample and fail; then 15 of every 16 start skipping.
    assertThat(samples.subList(0, 3)).containsOnly(1L);
    assertThat(samples.subList(3, 3 + 32).stream().filter(n -> n == 1L).count()).isEqualTo(2);
    assertThat(startedSkipping).isEqualTo(30);

    // Another destination is not affected.
    List<Long> other = new ArrayList<>();
    assertThat(shortStream(WEB_SERVER, TestPayloads.text(1024, 2), other)).isEqualTo(CompressionCodec.ZSTD);
    assertThat(other).containsExactly(1L);
  }

  @Test
  void oneGoodSampleClearsTheHint() {
    byte[] random = TestPayloads.random(1024, 3);
    byte[] text = TestPayloads.text(1024, 4);
    List<Long> samples = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      shortStream(TLS_SERVER, random, samples);
    }
    // Streams now skip until the 16th, which samples text and shrinks it.
    for (int i = 0; i < 15; i++) {
      assertThat(shortStream(TLS_SERVER, text, samples)).isEqualTo(CompressionCodec.NONE);
    }
    assertThat(shortStream(TLS_SERVER, text, samples)).isEqualTo(CompressionCodec.ZSTD);
    assertThat(hints.size()).isZero();
    assertThat(shortStream(TLS_SERVER, text, samples)).isEqualTo(CompressionCodec.ZSTD);
  }

  @Test
  void aLongStreamThatStartedSkippingSamplesAfterItsWindow() {
    for (int i = 0; i < 3; i++) {
      shortStream(TLS_SERVER, TestPayloads.random(1024, i), new ArrayList<>());
    }
    AdaptiveCompressor c = new AdaptiveCompressor(CompressionSettings.ADAPTIVE);
    hints.prime(TLS_SERVER, c);
    assertThat(c.skipping()).isTrue();
    byte[] text = TestPayloads.text(16 * 1024, 5);
    List<CompressionCodec> codecs = new ArrayList<>();
    for (long sent = 0; sent <= AdaptiveCompressor.DEFAULT_SKIP_WINDOW; sent += text.length) {
      ByteBuf plain = ALLOC.directBuffer().writeBytes(text);
      AdaptiveCompressor.Compressed out = c.compress(ALLOC, plain);
      codecs.add(out.codec());
      out.payload().release();
    }
    assertThat(codecs.subList(0, codecs.size() - 1)).containsOnly(CompressionCodec.NONE);
    assertThat(codecs.get(codecs.size() - 1)).isEqualTo(CompressionCodec.ZSTD);
    assertThat(hints.size()).as("its good sample cleared the hint").isZero();
  }

  @Test
  void forgetsTheLeastRecentlyUsedDestinationsBeyondItsBound() {
    byte[] random = TestPayloads.random(1024, 6);
    for (int port = 1; port <= CompressibilityHints.MAX_DESTINATIONS + 10; port++) {
      shortStream(new InetSocketAddress("10.9.3.2", port), random, new ArrayList<>());
    }
    assertThat(hints.size()).isEqualTo(CompressibilityHints.MAX_DESTINATIONS);
  }

  @Test
  void fixedCodecsAndUnknownDestinationsAreLeftAlone() {
    AdaptiveCompressor zstd = new AdaptiveCompressor(CompressionSettings.parse("zstd"));
    for (int i = 0; i < 5; i++) {
      hints.prime(TLS_SERVER, zstd);
    }
    assertThat(zstd.skipping()).isFalse();
    AdaptiveCompressor noDestination = new AdaptiveCompressor(CompressionSettings.ADAPTIVE);
    hints.prime(null, noDestination);
    assertThat(noDestination.skipping()).isFalse();
  }
}
