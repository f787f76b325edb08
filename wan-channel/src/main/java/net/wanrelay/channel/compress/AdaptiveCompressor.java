package net.wanrelay.channel.compress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Compresses the DATA payloads of one stream, skipping data that does not shrink.
 *
 * <h2>Usage (trunk side)</h2>
 *
 * <pre>{@code
 * // sender, one per stream, created when OPEN negotiated compression, used on the link's event loop
 * AdaptiveCompressor compressor = new AdaptiveCompressor(CompressionSettings.parse("adaptive"), metrics);
 * AdaptiveCompressor.Compressed c = compressor.compress(ctx.alloc(), payload); // payload is released
 * writeDataFrame(streamId, c.codec().id(), c.payload());                       // frame owns c.payload()
 *
 * // receiver, may be shared by all streams of a link
 * // (the int overload releases the payload on an unknown codec id too)
 * ByteBuf plain = decompressor.decompress(ctx.alloc(), codecBits, payload, maxFramePlain);
 * }</pre>
 *
 * <p>The returned payload is never larger than the input: a block that would grow goes out as
 * {@link CompressionCodec#NONE}, so a payload that fits a frame uncompressed always fits compressed.
 * Each block is self-contained ({@link BlockCodec}) and carries its original length, which the
 * receiver checks against its own limit (pass the largest plain payload you accept, e.g. the max
 * frame payload or the stream's free window) before decoding. Flow-control windows should count
 * wire bytes; the {@link CompressionException} of a bad block should reset only that stream.
 *
 * <h2>Adaptive skipping</h2>
 *
 * In adaptive mode a block that does not shrink by at least {@code minSavingsPercent} (TLS records,
 * media, archives) starts a skip window: the next {@code skipWindow} plain bytes go out as NONE
 * without being tried, then the next block is a new sample. Each failed sample in a row doubles the
 * window (up to {@code maxSkipWindow}); a good sample resets it. Blocks under {@value #MIN_BLOCK}
 * bytes are never compressed (the header and the call cost more than they could save).
 *
 * <p>A stream may also start in a skip window ({@link #startSkipping}) when streams before it to
 * the same place did not compress ({@link CompressibilityHints}); {@link #onFirstSample} reports
 * the stream's own first verdict back.
 *
 * <p>Not thread-safe: confine an instance to the event loop of its stream.
 */
public final class AdaptiveCompressor {
  /** Blocks shorter than this are sent as NONE. */
  public static final int MIN_BLOCK = 64;
  public static final int DEFAULT_SKIP_WINDOW = 1 << 20;
  public static final int DEFAULT_MAX_SKIP_WINDOW = 4 << 20;
  public static final int DEFAULT_MIN_SAVINGS_PERCENT = 8;

  /** One encoded payload and the codec to announce in the frame; the caller owns {@code payload}. */
  public record Compressed(CompressionCodec codec, ByteBuf payload) {}

  /** Told the verdict of a stream's first sample: did the block shrink enough to be worth it. */
  @FunctionalInterface
  public interface SampleListener {
    void firstSample(boolean shrank);
  }

  private final CompressionSettings settings;
  private final CompressionMetrics metrics;
  private final int initialSkipWindow;
  private final int maxSkipWindow;
  private final int minSavingsPercent;

  private long skipRemaining;
  private int nextSkipWindow;
  private long plainBytesIn;
  private long bytesOut;
  private long skippedBytes;
  private long samples;
  private long rejectedSamples;
  private SampleListener firstSampleListener;

  public AdaptiveCompressor(CompressionSettings settings) {
    this(settings, CompressionMetrics.UNBOUND);
  }

  public AdaptiveCompressor(CompressionSettings settings, CompressionMetrics metrics) {
    this(settings, metrics, DEFAULT_SKIP_WINDOW, DEFAULT_MAX_SKIP_WINDOW, DEFAULT_MIN_SAVINGS_PERCENT);
  }

  public AdaptiveCompressor(
      CompressionSettings settings,
      CompressionMetrics metrics,
      int skipWindow,
      int maxSkipWindow,
      int minSavingsPercent) {
    if (skipWindow <= 0 || maxSkipWindow < skipWindow) {
      throw new IllegalArgumentException(
          "need 0 < skipWindow <= maxSkipWindow, got " + skipWindow + " and " + maxSkipWindow);
    }
    if (minSavingsPercent < 0 || minSavingsPercent >= 100) {
      throw new IllegalArgumentException("minSavingsPercent must be in 0..99, got " + minSavingsPercent);
    }
    this.settings = settings;
    this.metrics = metrics;
    this.initialSkipWindow = skipWindow;
    this.maxSkipWindow = maxSkipWindow;
    this.minSavingsPercent = minSavingsPercent;
    this.nextSkipWindow = skipWindow;
  }

  /**
   * Encodes one DATA payload. Always releases {@code plain}; the returned payload belongs to the
   * caller and is never larger than {@code plain} was.
   */
  public Compressed compress(ByteBufAllocator alloc, ByteBuf plain) {
    int length = plain.readableBytes();
    plainBytesIn += length;
    metrics.plainBytes.add(length);
    if (settings.codec() == CompressionCodec.NONE || length < MIN_BLOCK) {
      return sendPlain(plain);
    }
    if (settings.adaptive() && skipRemaining > 0) {
      skipRemaining -= length;
      skippedBytes += length;
      metrics.skippedBytes.add(length);
      return sendPlain(plain);
    }
    samples++;
    ByteBuf encoded;
    SampleListener listener = firstSampleListener;
    firstSampleListener = null;
    plain.retain(); // encode() releases one reference; we may still send plain
    try {
      encoded = BlockCodec.encode(alloc, settings.codec(), settings.level(), plain);
    } catch (RuntimeException e) {
      // A codec failure on our own data: fall back to sending it as is rather than losing it.
      return sendPlain(plain);
    }
    int encodedLength = encoded.readableBytes();
    boolean goodSample = (long) encodedLength * 100 <= (long) length * (100 - minSavingsPercent);
    if (listener != null) {
      listener.firstSample(goodSample);
    }
    if (goodSample) {
      nextSkipWindow = initialSkipWindow;
    } else if (settings.adaptive()) {
      rejectedSamples++;
      metrics.rejectedSamples.increment();
      skipRemaining = nextSkipWindow;
      nextSkipWindow = (int) Math.min((long) nextSkipWindow * 2, maxSkipWindow);
    }
    if (encodedLength < length) {
      plain.release();
      bytesOut += encodedLength;
      metrics.wireBytes.add(encodedLength);
      return new Compressed(settings.codec(), encoded);
    }
    encoded.release();
    return sendPlain(plain);
  }

  /**
   * Starts with a skip window, as after a failed sample: the first {@code skipWindow} bytes go out
   * plain without being tried. Only in adaptive mode, and only before the first block.
   */
  public void startSkipping() {
    if (settings.adaptive() && plainBytesIn == 0) {
      skipRemaining = initialSkipWindow;
    }
  }

  /** {@code listener} hears the verdict of this stream's first sample (whenever it is taken). */
  public void onFirstSample(SampleListener listener) {
    firstSampleListener = listener;
  }

  private Compressed sendPlain(ByteBuf plain) {
    int length = plain.readableBytes();
    bytesOut += length;
    metrics.wireBytes.add(length);
    return new Compressed(CompressionCodec.NONE, plain);
  }

  public CompressionSettings settings() {
    return settings;
  }

  /** Plain bytes handed to {@link #compress}. */
  public long plainBytesIn() {
    return plainBytesIn;
  }

  /** Payload bytes returned by {@link #compress} (compressed or not). */
  public long bytesOut() {
    return bytesOut;
  }

  /** {@code plainBytesIn() - bytesOut()}, never negative. */
  public long bytesSaved() {
    return plainBytesIn - bytesOut;
  }

  /** Plain bytes sent as NONE without trying, because of a skip window. */
  public long skippedBytes() {
    return skippedBytes;
  }

  /** Blocks that were actually run through the codec. */
  public long samples() {
    return samples;
  }

  /** Samples that did not shrink enough and started a skip window. */
  public long rejectedSamples() {
    return rejectedSamples;
  }

  /** True while blocks are sent uncompressed without trying. */
  public boolean skipping() {
    return skipRemaining > 0;
  }

  /** The skip window the next failed sample will start. */
  public int nextSkipWindow() {
    return nextSkipWindow;
  }
}
