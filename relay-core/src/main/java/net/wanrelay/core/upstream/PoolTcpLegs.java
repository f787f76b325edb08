package net.wanrelay.core.upstream;

import io.netty.channel.ChannelFuture;
import java.net.InetSocketAddress;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.tcp.DirectLegFactory;
import net.wanrelay.core.tcp.Sockets;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.tcp.TcpSession;

/**
 * Server legs for a {@code pool:NAME} listener: picks a member, connects through
 * {@link DirectLegFactory} and feeds the result back to the pool (connect latency into the RTT
 * average, a failed connect as a failed check, the open-session count per member). With no healthy
 * member the session goes to the fallback, or is refused with a reset and counted.
 */
final class PoolTcpLegs implements TcpLegFactory {
  static final String NO_HEALTHY = "no_healthy_upstream";

  private final Pool pool;
  private final DirectLegFactory direct;
  private final DivertMap divert;
  private final OpenSessions sessions;
  private final RelayMetrics metrics;

  PoolTcpLegs(Pool pool, DirectLegFactory direct, DivertMap divert, OpenSessions sessions, RelayMetrics metrics) {
    this.pool = pool;
    this.direct = direct;
    this.divert = divert;
    this.sessions = sessions;
    this.metrics = metrics;
  }

  @Override
  public void start(TcpSession session) {
    Member member = pool.choose();
    InetSocketAddress destination;
    if (member != null) {
      member.sessions.incrementAndGet();
      destination = divert.apply(member.address);
    } else if (pool.fallback.isPresent()) {
      destination = divert.apply(pool.fallback.get());
    } else {
      metrics.refused(Protocol.TCP, NO_HEALTHY);
      session.end(Outcome.REFUSED);
      Sockets.reset(session.client());
      return;
    }
    sessions.actual(session, destination);
    long started = System.nanoTime();
    ChannelFuture connect = direct.connect(session, destination);
    if (member == null) {
      return;
    }
    connect.channel().closeFuture().addListener(f -> member.sessions.decrementAndGet());
    connect.addListener(f -> {
      if (f.isSuccess()) {
        member.connectSample(System.nanoTime() - started);
      } else if (!f.isCancelled()) {
        pool.sessionConnectFailed(member);
      }
    });
  }
}
