package net.wanrelay.channel.dedup;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.concurrent.atomic.LongAdder;

/**
 * Totals across the streams that share this instance (typically one per relay), for the "dedup
 * bytes saved" metric: {@code refBytes} are plain bytes that crossed the WAN as a 20-byte Ref.
 */
public final class DedupMetrics {
  /** Shared default for callers that do not report: it counts, but nobody registers it. */
  public static final DedupMetrics UNBOUND = new DedupMetrics();

  final LongAdder plainBytes = new LongAdder();
  final LongAdder refBytes = new LongAdder();
  final LongAdder literalBytes = new LongAdder();
  final LongAdder rawBytes = new LongAdder();
  final LongAdder supplyBytes = new LongAdder();
  final LongAdder refsDowngraded = new LongAdder();
  final LongAdder asks = new LongAdder();
  final LongAdder decodedBytes = new LongAdder();
  final LongAdder rejectedChunks = new LongAdder();

  public long plainBytes() {
    return plainBytes.sum();
  }

  public long refBytes() {
    return refBytes.sum();
  }

  public long literalBytes() {
    return literalBytes.sum();
  }

  public long rawBytes() {
    return rawBytes.sum();
  }

  public long supplyBytes() {
    return supplyBytes.sum();
  }

  public long refsDowngraded() {
    return refsDowngraded.sum();
  }

  public long asks() {
    return asks.sum();
  }

  public long decodedBytes() {
    return decodedBytes.sum();
  }

  public long rejectedChunks() {
    return rejectedChunks.sum();
  }

  /** Registers {@code wanrelay.dedup.*} counters (Prometheus: {@code wanrelay_dedup_*_total}). */
  public DedupMetrics bindTo(MeterRegistry registry) {
    counter(registry, "wanrelay.dedup.plain.bytes", "plain bytes offered to dedup encoders", DedupMetrics::plainBytes);
    counter(registry, "wanrelay.dedup.ref.bytes", "plain bytes replaced by chunk references (saved)", DedupMetrics::refBytes);
    counter(registry, "wanrelay.dedup.literal.bytes", "plain bytes sent as literals", DedupMetrics::literalBytes);
    counter(registry, "wanrelay.dedup.raw.bytes", "plain bytes sent early on flush", DedupMetrics::rawBytes);
    counter(registry, "wanrelay.dedup.supply.bytes", "chunk bytes resent because the peer lacked them", DedupMetrics::supplyBytes);
    counter(registry, "wanrelay.dedup.refs.downgraded", "repeats sent as literals (pin budget full)", DedupMetrics::refsDowngraded);
    counter(registry, "wanrelay.dedup.asks", "chunks this relay asked its peer to resend", DedupMetrics::asks);
    counter(registry, "wanrelay.dedup.decoded.bytes", "plain bytes produced by dedup decoders", DedupMetrics::decodedBytes);
    counter(registry, "wanrelay.dedup.rejected.chunks", "received chunks that failed their fingerprint", DedupMetrics::rejectedChunks);
    return this;
  }

  /** Registers gauges and counters of one store, tagged (e.g. with the peer id). */
  public static void bindStore(MeterRegistry registry, ChunkStore store, Tags tags) {
    Gauge.builder("wanrelay.dedup.store.memory.bytes", store, ChunkStore::memoryBytes).tags(tags).baseUnit("bytes").register(registry);
    Gauge.builder("wanrelay.dedup.store.disk.bytes", store, ChunkStore::diskBytes).tags(tags).baseUnit("bytes").register(registry);
    Gauge.builder("wanrelay.dedup.store.disk.chunks", store, ChunkStore::diskChunks).tags(tags).register(registry);
    Gauge.builder("wanrelay.dedup.store.disk.disabled", store, s -> s.diskDisabled() ? 1 : 0).tags(tags).register(registry);
    FunctionCounter.builder("wanrelay.dedup.store.hits", store, s -> s.memoryHits() + s.diskHits()).tags(tags).register(registry);
    FunctionCounter.builder("wanrelay.dedup.store.misses", store, ChunkStore::misses).tags(tags).register(registry);
    FunctionCounter.builder("wanrelay.dedup.store.corrupt.chunks", store, ChunkStore::corruptChunks).tags(tags).register(registry);
    FunctionCounter.builder("wanrelay.dedup.store.disk.errors", store, ChunkStore::diskErrors).tags(tags).register(registry);
  }

  private void counter(MeterRegistry registry, String name, String description,
      java.util.function.ToDoubleFunction<DedupMetrics> f) {
    FunctionCounter.builder(name, this, f).description(description).register(registry);
  }
}
