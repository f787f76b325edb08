package net.wanrelay.core.transparent;

import io.netty.channel.EventLoopGroup;
import java.util.Optional;
import net.wanrelay.channel.TrunkNode;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.net.Transport;
import net.wanrelay.core.tcp.SessionLimiter;

/** What the transparent mode gets from the running relay. */
public record TransparentContext(
    RelayConfig config,
    Transport transport,
    EventLoopGroup boss,
    EventLoopGroup workers,
    RelayMetrics metrics,
    SessionLimiter limiter,
    Optional<TrunkNode> trunk) {}
