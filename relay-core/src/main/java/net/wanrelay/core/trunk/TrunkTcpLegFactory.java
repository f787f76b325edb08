package net.wanrelay.core.trunk;

import io.netty.channel.Channel;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.channel.TrunkOpenException;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.tcp.IdleCloser;
import net.wanrelay.core.tcp.LanByteCounter;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.tcp.TcpSession;

/**
 * Carries a client TCP connection as a stream on the trunk to one peer. The trunk's own bridge
 * copies the bytes (credit-based backpressure, half-close, RST on OPEN_FAIL); this factory adds
 * the session's accounting and idle timeout around it.
 */
public final class TrunkTcpLegFactory implements TcpLegFactory {
  private final PeerLink link;
  private final RelayMetrics metrics;
  private final Duration idleTimeout;

  public TrunkTcpLegFactory(PeerLink link, RelayMetrics metrics, Duration idleTimeout) {
    this.link = link;
    this.metrics = metrics;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void start(TcpSession session) {
    Channel client = session.client();
    client.pipeline().addFirst(new LanByteCounter(session,
        metrics.sessionBytes(Protocol.TCP, session.route(), true),
        metrics.sessionBytes(Protocol.TCP, session.route(), false)));
    if (!idleTimeout.isZero()) {
      client.pipeline().addLast(new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
      client.pipeline().addLast(new IdleCloser(session));
    }
    InetSocketAddress source = (InetSocketAddress) client.remoteAddress();
    var opened = link.openTcp(client, session.target(), source);
    opened.addListener(f -> {
      if (!f.isSuccess()) {
        metrics.connectFailure(Protocol.TCP, reason(f.cause()));
      }
    });
    // The bridge closes the client on every path (with a RST when the open failed).
    client.closeFuture().addListener(f -> session.end(
        opened.isSuccess() ? Outcome.COMPLETED : opened.isDone() ? Outcome.CONNECT_FAILED : Outcome.RESET));
  }

  private static String reason(Throwable cause) {
    if (cause instanceof TrunkOpenException e) {
      return e.code().name().toLowerCase(java.util.Locale.ROOT);
    }
    return "trunk_error";
  }
}
