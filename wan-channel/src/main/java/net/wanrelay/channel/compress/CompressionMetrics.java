package net.wanrelay.channel.compress;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.LongAdder;

/**
 * Totals across all streams that share this instance (typically one per relay), for the
 * "compression bytes saved" metric: saved = plainBytes - wireBytes. Cheap to update from many
 * event loops.
 */
public final class CompressionMetrics {
  /** Shared default for callers that do not report: it counts, but nobody registers it. */
  public static final CompressionMetrics UNBOUND = new CompressionMetrics();

  final LongAdder plainBytes = new LongAdder();
  final LongAdder wireBytes = new LongAdder();
  final LongAdder skippedBytes = new LongAdder();
  final LongAdder rejectedSamples = new LongAdder();
  final LongAdder decodeErrors = new LongAdder();

  /** Plain bytes handed to compressors. */
  public long plainBytes() {
    return plainBytes.sum();
  }

  /** Bytes the compressors produced for the wire (including blocks sent as NONE). */
  public long wireBytes() {
    return wireBytes.sum();
  }

  /** Plain bytes sent uncompressed without trying, because recent samples did not shrink. */
  public long skippedBytes() {
    return skippedBytes.sum();
  }

  /** Samples that did not shrink enough and started a skip window. */
  public long rejectedSamples() {
    return rejectedSamples.sum();
  }

  /** Blocks the decompressor refused (corrupt or over the limit). */
  public long decodeErrors() {
    return decodeErrors.sum();
  }

  /** Registers {@code wanrelay.compression.*} counters (Prometheus: {@code wanrelay_compression_*_total}). */
  public CompressionMetrics bindTo(MeterRegistry registry) {
    FunctionCounter.builder("wanrelay.compression.plain.bytes", this, CompressionMetrics::plainBytes)
        .description("plain bytes offered to compression").baseUnit("bytes").register(registry);
    FunctionCounter.builder("wanrelay.compression.wire.bytes", this, CompressionMetrics::wireBytes)
        .description("bytes sent after compression").baseUnit("bytes").register(registry);
    FunctionCounter.builder("wanrelay.compression.skipped.bytes", this, CompressionMetrics::skippedBytes)
        .description("bytes sent uncompressed without trying (incompressible data)").baseUnit("bytes").register(registry);
    FunctionCounter.builder("wanrelay.compression.rejected.samples", this, CompressionMetrics::rejectedSamples)
        .description("samples that did not shrink and started a skip window").register(registry);
    FunctionCounter.builder("wanrelay.compression.decode.errors", this, CompressionMetrics::decodeErrors)
        .description("compressed blocks refused as corrupt or too large").register(registry);
    return this;
  }
}
