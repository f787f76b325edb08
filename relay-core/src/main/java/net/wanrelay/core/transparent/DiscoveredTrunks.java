package net.wanrelay.core.transparent;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.channel.PeerSpec;
import net.wanrelay.channel.TrunkNode;
import net.wanrelay.core.config.RelayConfig.TrunkConfig;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trunk links to SPs learned by discovery, made on demand. wan-channel has no API to add a peer
 * to a running node, so each SP address gets a small {@link TrunkNode} of its own (one peer, one
 * connection, the relay's event loops and meter registry, the key of {@code trunk.key}). An SP
 * that is also a configured peer uses the configured link. A watchdog turns the PMT entries of an
 * SP back to unknown when its trunk goes down, or does not come up, so later sessions re-probe.
 */
final class DiscoveredTrunks implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DiscoveredTrunks.class);
  /** How long a learned SP's trunk may stay down before its PMT entries are dropped. */
  static final Duration DOWN_GRACE = Duration.ofSeconds(5);

  private final String nodeId;
  private final Optional<TrunkConfig> trunkConfig;
  private final Optional<TrunkNode> configured;
  private final EventLoopGroup workers;
  private final MeterRegistry registry;
  private final PeerMappingTable pmt;
  private final Map<InetSocketAddress, Learned> learned = new ConcurrentHashMap<>();
  private final ScheduledFuture<?> watchdog;
  private volatile boolean closed;

  /** One learned SP: its node (null when a configured link serves it) and up/down history. */
  private static final class Learned {
    final TrunkNode node;
    final PeerLink link;
    boolean wasUp;
    long sinceNanos = System.nanoTime();

    Learned(TrunkNode node, PeerLink link) {
      this.node = node;
      this.link = link;
    }
  }

  DiscoveredTrunks(String nodeId, Optional<TrunkConfig> trunkConfig, Optional<TrunkNode> configured,
      EventLoopGroup workers, MeterRegistry registry, PeerMappingTable pmt) {
    this.nodeId = nodeId;
    this.trunkConfig = trunkConfig;
    this.configured = configured;
    this.workers = workers;
    this.registry = registry;
    this.pmt = pmt;
    this.watchdog = workers.next().scheduleWithFixedDelay(this::watch, 200, 200, TimeUnit.MILLISECONDS);
  }

  /** Peer name used in metrics for a learned SP. */
  static String peerName(InetSocketAddress sp) {
    return "sp-" + sp.getAddress().getHostAddress() + ":" + sp.getPort();
  }

  /** True when a trunk to {@code sp} exists and is up (does not create one). */
  boolean isUp(InetSocketAddress sp) {
    Learned l = learned.get(sp);
    if (l != null) {
      return l.link.isUp();
    }
    return configuredLink(sp).map(PeerLink::isUp).orElse(false);
  }

  /**
   * The link to {@code sp}, connecting it on first use; empty when no trunk key is configured
   * (then discovered SPs cannot be used and sessions pass through).
   */
  Optional<PeerLink> link(InetSocketAddress sp) {
    if (closed) {
      return Optional.empty();
    }
    Learned l = learned.get(sp);
    if (l != null) {
      return Optional.of(l.link);
    }
    Optional<PeerLink> conf = configuredLink(sp);
    if (conf.isPresent()) {
      return Optional.of(learned.computeIfAbsent(sp, k -> new Learned(null, conf.get())).link);
    }
    Optional<byte[]> key = trunkConfig.flatMap(TrunkConfig::key);
    if (key.isEmpty()) {
      return Optional.empty();
    }
    synchronized (this) {
      l = learned.get(sp);
      if (l == null) {
        l = start(sp, key.get());
        learned.put(sp, l);
      }
    }
    return Optional.of(l.link);
  }

  private Learned start(InetSocketAddress sp, byte[] key) {
    String name = peerName(sp);
    TrunkNode.Builder b = TrunkNode.builder().nodeId(nodeId).eventLoopGroup(workers).meterRegistry(registry)
        .peer(new PeerSpec(name, sp.getAddress().getHostAddress(), sp.getPort(), key, 1));
    trunkConfig.ifPresent(t -> b.congestionControl(t.congestionControl()).compression(t.compression()));
    try {
      TrunkNode node = b.build().start(); // no listener: does not block
      log.info("trunk: connecting to discovered SP {} ({})", sp, name);
      return new Learned(node, node.link(name));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted starting the trunk to " + sp, e);
    }
  }

  private Optional<PeerLink> configuredLink(InetSocketAddress sp) {
    if (configured.isEmpty()) {
      return Optional.empty();
    }
    for (PeerLink l : configured.get().links()) {
      if (l.spec().port() == sp.getPort() && l.spec().host().equals(sp.getAddress().getHostAddress())) {
        return Optional.of(l);
      }
    }
    return Optional.empty();
  }

  /** Down (or never up) for the grace time: the SP's PMT entries go back to unknown. */
  private void watch() {
    long now = System.nanoTime();
    learned.forEach((sp, l) -> {
      if (l.link.isUp()) {
        l.wasUp = true;
        l.sinceNanos = now;
      } else if (l.wasUp) {
        l.wasUp = false;
        l.sinceNanos = now;
        int n = pmt.peerDown(sp);
        log.info("trunk to SP {} went down: {} PMT entries back to unknown", sp, n);
      } else if (now - l.sinceNanos > DOWN_GRACE.toNanos()) {
        l.sinceNanos = now;
        int n = pmt.peerDown(sp);
        if (n > 0) {
          log.info("trunk to SP {} not up after {}s: {} PMT entries back to unknown", sp, DOWN_GRACE.toSeconds(), n);
        }
      }
    });
  }

  @Override
  public void close() {
    closed = true;
    watchdog.cancel(false);
    for (Learned l : learned.values()) {
      if (l.node != null) {
        l.node.shutdown(Duration.ZERO);
      }
    }
    learned.clear();
  }
}
