package net.wanrelay.core.upstream;

import io.netty.channel.EventLoopGroup;
import net.wanrelay.core.admin.AdminServer;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.net.Transport;

/**
 * What the upstream pools and the divert map get from the running relay. {@code admin} may be
 * null (no admin API is registered then).
 */
public record UpstreamContext(RelayConfig config, Transport transport, EventLoopGroup workers, RelayMetrics metrics,
    AdminServer admin) {
  public UpstreamContext(RelayConfig config, Transport transport, EventLoopGroup workers, RelayMetrics metrics) {
    this(config, transport, workers, metrics, null);
  }
}
