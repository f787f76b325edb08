package net.wanrelay.core.transparent;

import io.netty.channel.EventLoopGroup;
import java.util.Optional;
import net.wanrelay.channel.TrunkNode;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.net.Transport;
import net.wanrelay.core.tcp.SessionLimiter;
import net.wanrelay.discovery.pmt.PeerMappingTable;

/** What the transparent mode gets from the running relay. */
public record TransparentContext(
    RelayConfig config,
    Transport transport,
    EventLoopGroup boss,
    EventLoopGroup workers,
    RelayMetrics metrics,
    SessionLimiter limiter,
    Optional<TrunkNode> trunk,
    PeerMappingTable pmt) {

  /** Without a shared PMT: transparent mode makes its own. */
  public TransparentContext(RelayConfig config, Transport transport, EventLoopGroup boss, EventLoopGroup workers,
      RelayMetrics metrics, SessionLimiter limiter, Optional<TrunkNode> trunk) {
    this(config, transport, boss, workers, metrics, limiter, trunk, null);
  }
}
