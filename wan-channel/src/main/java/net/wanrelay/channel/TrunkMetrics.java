package net.wanrelay.channel;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Meters of one trunk node. Per-peer meters carry tag {@code peer}; auth failures and protocol
 * errors carry only {@code reason} because the peer is not known (or not trusted) yet.
 */
public final class TrunkMetrics {
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Peer> peers = new ConcurrentHashMap<>();

  private static final java.util.Map<MeterRegistry, TrunkMetrics> BY_REGISTRY = new java.util.WeakHashMap<>();

  public TrunkMetrics(MeterRegistry registry) {
    this.registry = registry == null ? new SimpleMeterRegistry() : registry;
  }

  /**
   * The one instance per registry, so a node restarted in-process keeps feeding the gauges
   * registered first (Micrometer keeps the first gauge of a name and tags).
   */
  public static TrunkMetrics forRegistry(MeterRegistry registry) {
    if (registry == null) {
      return new TrunkMetrics(null);
    }
    synchronized (BY_REGISTRY) {
      return BY_REGISTRY.computeIfAbsent(registry, TrunkMetrics::new);
    }
  }

  public MeterRegistry registry() {
    return registry;
  }

  public Peer peer(String name) {
    return peers.computeIfAbsent(name, Peer::new);
  }

  public void authFailure(String reason) {
    Counter.builder("wanrelay.trunk.auth.failures").tag("reason", reason)
        .description("Trunk handshakes that failed authentication").register(registry).increment();
  }

  public void protocolError(String reason) {
    Counter.builder("wanrelay.trunk.protocol.errors").tag("reason", reason)
        .description("Trunk connections closed for a protocol violation").register(registry).increment();
  }

  public double authFailures(String reason) {
    Counter c = registry.find("wanrelay.trunk.auth.failures").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  public double protocolErrors(String reason) {
    Counter c = registry.find("wanrelay.trunk.protocol.errors").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  /** Meters of one peer (by configured peer name on the CP side, by node id on the SP side). */
  public final class Peer {
    final String name;
    final AtomicInteger connectionsUp = new AtomicInteger();
    final AtomicInteger streamsActive = new AtomicInteger();
    final AtomicLong rttNanos = new AtomicLong();
    final AtomicLong bufferedBytes = new AtomicLong();
    final Counter reconnects;
    final Counter windowStalls;
    final Counter txBytes;
    final Counter rxBytes;
    final Counter txPayload;
    final Counter rxPayload;
    final Counter compressionSaved;
    final Counter compressionPresumedIncompressible;
    final Counter openDenied;
    final Counter datagramsDropped;
    final Counter streamsResumed;
    final Counter replayedBytes;
    final AtomicInteger streamsSuspended = new AtomicInteger();
    final AtomicLong replayHeld = new AtomicLong();

    Peer(String name) {
      this.name = name;
      Gauge.builder("wanrelay.trunk.up", connectionsUp, c -> c.get() > 0 ? 1 : 0).tag("peer", name)
          .description("1 while at least one authenticated trunk connection to the peer is up")
          .strongReference(true).register(registry);
      Gauge.builder("wanrelay.trunk.rtt", rttNanos, r -> r.get() / 1e9).tag("peer", name)
          .baseUnit("seconds").description("Smoothed heartbeat round-trip time")
          .strongReference(true).register(registry);
      Gauge.builder("wanrelay.trunk.streams.active", streamsActive, AtomicInteger::get).tag("peer", name)
          .strongReference(true).register(registry);
      Gauge.builder("wanrelay.trunk.buffered", bufferedBytes, AtomicLong::get).tag("peer", name)
          .baseUnit("bytes").description("Received stream bytes not yet written to local sockets")
          .strongReference(true).register(registry);
      reconnects = Counter.builder("wanrelay.trunk.reconnects").tag("peer", name).register(registry);
      windowStalls = Counter.builder("wanrelay.trunk.window.stalls").tag("peer", name)
          .description("Times a stream had data to send and no credit").register(registry);
      txBytes = Counter.builder("wanrelay.trunk.bytes").tag("peer", name).tag("direction", "tx")
          .baseUnit("bytes").register(registry);
      rxBytes = Counter.builder("wanrelay.trunk.bytes").tag("peer", name).tag("direction", "rx")
          .baseUnit("bytes").register(registry);
      txPayload = Counter.builder("wanrelay.trunk.payload.bytes").tag("peer", name).tag("direction", "tx")
          .baseUnit("bytes").register(registry);
      rxPayload = Counter.builder("wanrelay.trunk.payload.bytes").tag("peer", name).tag("direction", "rx")
          .baseUnit("bytes").register(registry);
      compressionSaved = Counter.builder("wanrelay.trunk.compression.saved").tag("peer", name)
          .baseUnit("bytes").register(registry);
      compressionPresumedIncompressible = Counter.builder("wanrelay.trunk.compression.presumed.incompressible")
          .tag("peer", name)
          .description("Streams that started without a compression sample: their destination's recent streams did not compress")
          .register(registry);
      openDenied = Counter.builder("wanrelay.trunk.open.denied").tag("peer", name).register(registry);
      datagramsDropped = Counter.builder("wanrelay.trunk.datagrams.dropped").tag("peer", name).register(registry);
      streamsResumed = Counter.builder("wanrelay.trunk.streams.resumed").tag("peer", name)
          .description("Streams that continued on a new trunk connection after the old one was lost")
          .register(registry);
      replayedBytes = Counter.builder("wanrelay.trunk.replayed.bytes").tag("peer", name).baseUnit("bytes")
          .description("Stream bytes sent again after a resume (lost with the old connection)").register(registry);
      Gauge.builder("wanrelay.trunk.replay.held", replayHeld, AtomicLong::get).tag("peer", name).baseUnit("bytes")
          .description("Sent stream bytes kept until the peer acknowledges them (for a resume)")
          .strongReference(true).register(registry);
      Gauge.builder("wanrelay.trunk.streams.suspended", streamsSuspended, AtomicInteger::get).tag("peer", name)
          .description("Streams waiting for a replacement trunk connection").strongReference(true).register(registry);
    }

    /** A suspended stream was reset instead of resumed (grace_expired, peer_restarted, unknown_to_peer, ...). */
    void resumeReset(String reason) {
      Counter.builder("wanrelay.trunk.streams.resume.resets").tag("peer", name).tag("reason", reason)
          .description("Suspended streams reset instead of resumed").register(registry).increment();
    }

    public double resumeResets(String reason) {
      Counter c = registry.find("wanrelay.trunk.streams.resume.resets").tag("peer", name).tag("reason", reason).counter();
      return c == null ? 0 : c.count();
    }

    public double streamsResumed() { return streamsResumed.count(); }
    public double replayedBytes() { return replayedBytes.count(); }
    public int streamsSuspended() { return streamsSuspended.get(); }
    public long replayHeld() { return replayHeld.get(); }

    public String name() { return name; }
    public boolean up() { return connectionsUp.get() > 0; }
    public int streamsActive() { return streamsActive.get(); }
    public double rttSeconds() { return rttNanos.get() / 1e9; }
    public long bufferedBytes() { return bufferedBytes.get(); }
    public double reconnects() { return reconnects.count(); }
    public double windowStalls() { return windowStalls.count(); }
    public double txBytes() { return txBytes.count(); }
    public double rxBytes() { return rxBytes.count(); }
    public double txPayload() { return txPayload.count(); }
    public double rxPayload() { return rxPayload.count(); }
    public double compressionSaved() { return compressionSaved.count(); }
    public double compressionPresumedIncompressible() { return compressionPresumedIncompressible.count(); }
    public double openDenied() { return openDenied.count(); }
  }
}
