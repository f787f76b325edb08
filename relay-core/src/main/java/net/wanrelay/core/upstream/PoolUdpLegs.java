package net.wanrelay.core.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.udp.DirectUdpLegFactory;
import net.wanrelay.core.udp.UdpLeg;
import net.wanrelay.core.udp.UdpLegFactory;

/**
 * UDP flows of a {@code pool:NAME} listener: each new flow gets a healthy member (or the fallback)
 * and keeps it for its life. With none, the flow's datagrams are dropped and the refusal counted.
 */
final class PoolUdpLegs implements UdpLegFactory {
  private final Pool pool;
  private final DirectUdpLegFactory direct;
  private final DivertMap divert;
  private final RelayMetrics metrics;

  PoolUdpLegs(Pool pool, DirectUdpLegFactory direct, DivertMap divert, RelayMetrics metrics) {
    this.pool = pool;
    this.direct = direct;
    this.divert = divert;
    this.metrics = metrics;
  }

  @Override
  public UdpLeg open(EventLoop loop, InetSocketAddress client, InetSocketAddress target, UdpLeg.Replies replies) {
    Member member = pool.choose();
    InetSocketAddress destination;
    if (member != null) {
      destination = member.address;
    } else if (pool.fallback.isPresent()) {
      destination = pool.fallback.get();
    } else {
      metrics.refused(Protocol.UDP, PoolTcpLegs.NO_HEALTHY);
      return new Refused(loop, replies);
    }
    if (member != null) {
      member.sessions.incrementAndGet();
    }
    UdpLeg leg = direct.open(loop, client, divert.apply(destination), replies);
    return new UdpLeg() {
      private boolean closed;

      @Override
      public boolean send(ByteBuf payload) {
        return leg.send(payload);
      }

      @Override
      public void close() {
        if (!closed) {
          closed = true;
          if (member != null) {
            member.sessions.decrementAndGet();
          }
          leg.close();
        }
      }
    };
  }

  /** A flow with no upstream: drops what it is given and ends the flow right away. */
  private static final class Refused implements UdpLeg {
    Refused(EventLoop loop, UdpLeg.Replies replies) {
      // Ended after the listener stored the leg, so the flow's own cleanup runs normally.
      loop.execute(() -> replies.closed(PoolTcpLegs.NO_HEALTHY));
    }

    @Override
    public boolean send(ByteBuf payload) {
      payload.release();
      return false;
    }

    @Override
    public void close() {}
  }
}
