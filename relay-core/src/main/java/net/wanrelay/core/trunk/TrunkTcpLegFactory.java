package net.wanrelay.core.trunk;

import io.netty.channel.Channel;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.channel.TrunkOpenException;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.peers.PeerMetrics;
import net.wanrelay.core.tcp.IdleCloser;
import net.wanrelay.core.tcp.LanByteCounter;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.tcp.TcpSession;

/**
 * Carries a client TCP connection as a stream on the trunk to one peer (fixed, or chosen per
 * session, e.g. by a peer group). The trunk's own bridge copies the bytes (credit-based
 * backpressure, half-close, RST on OPEN_FAIL); this factory adds the session's accounting, idle
 * timeout and record (peer, accept-to-OPEN_ACK latency, failure reason) around it.
 */
public final class TrunkTcpLegFactory implements TcpLegFactory {
  private final Function<TcpSession, PeerLink> chooser;
  private final RelayMetrics metrics;
  private final PeerMetrics peerMetrics;
  private final Duration idleTimeout;

  public TrunkTcpLegFactory(PeerLink link, RelayMetrics metrics, Duration idleTimeout) {
    this(s -> link, metrics, new PeerMetrics(metrics.registry()), idleTimeout);
  }

  public TrunkTcpLegFactory(Function<TcpSession, PeerLink> chooser, RelayMetrics metrics, PeerMetrics peerMetrics,
      Duration idleTimeout) {
    this.chooser = chooser;
    this.metrics = metrics;
    this.peerMetrics = peerMetrics;
    this.idleTimeout = idleTimeout;
  }

  /** Byte counters and the idle timeout on the client side of a trunk session. */
  public static void instrument(TcpSession session, RelayMetrics metrics, Duration idleTimeout) {
    Channel client = session.client();
    client.pipeline().addFirst(new LanByteCounter(session,
        metrics.sessionBytes(Protocol.TCP, session.route(), true),
        metrics.sessionBytes(Protocol.TCP, session.route(), false)));
    if (!idleTimeout.isZero()) {
      client.pipeline().addLast(new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
      client.pipeline().addLast(new IdleCloser(session));
    }
  }

  @Override
  public void start(TcpSession session) {
    Channel client = session.client();
    instrument(session, metrics, idleTimeout);
    PeerLink link = chooser.apply(session);
    session.peer(link.name());
    long started = System.nanoTime();
    InetSocketAddress source = (InetSocketAddress) client.remoteAddress();
    var opened = link.openTcp(client, session.target(), source);
    opened.addListener(f -> {
      if (f.isSuccess()) {
        session.markConnected();
        peerMetrics.trunkConnect(link.name()).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
      } else {
        String reason = reason(f.cause());
        session.failure(reason);
        metrics.connectFailure(Protocol.TCP, reason);
      }
    });
    // The bridge closes the client on every path (with a RST when the open failed).
    client.closeFuture().addListener(f -> session.end(
        opened.isSuccess() ? Outcome.COMPLETED : opened.isDone() ? Outcome.CONNECT_FAILED : Outcome.RESET));
  }

  /** Metric label of a failed OPEN: the OPEN_FAIL code, or trunk_error. */
  public static String reason(Throwable cause) {
    if (cause instanceof TrunkOpenException e) {
      return e.code().name().toLowerCase(java.util.Locale.ROOT);
    }
    return "trunk_error";
  }
}
