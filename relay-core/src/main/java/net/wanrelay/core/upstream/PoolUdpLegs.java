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
 * UDP flows of a {@code pool:NAME} listener: each new flow gets a healthy member (or the fallback).
 * A flow keeps its destination for its life, unless the pool is {@code resumable}: then, with its
 * next datagram, a flow whose member left the rotation, whose destination was diverted, or which
 * sits on the fallback while a member is healthy again, moves to where a new flow would go. With no
 * destination at all the flow is refused (dropped and counted).
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
    FlowLeg leg = new FlowLeg(loop, client, replies);
    if (!leg.connect()) {
      metrics.refused(Protocol.UDP, PoolTcpLegs.NO_HEALTHY);
      // Ended after the listener stored the leg, so the flow's own cleanup runs normally.
      loop.execute(() -> replies.closed(PoolTcpLegs.NO_HEALTHY));
    }
    return leg;
  }

  /** One flow's leg; confined to the listener's event loop. */
  private final class FlowLeg implements UdpLeg {
    private final EventLoop loop;
    private final InetSocketAddress client;
    private final UdpLeg.Replies replies;
    private Member member;
    private InetSocketAddress base;
    private InetSocketAddress destination;
    private UdpLeg leg;
    private boolean closed;

    FlowLeg(EventLoop loop, InetSocketAddress client, UdpLeg.Replies replies) {
      this.loop = loop;
      this.client = client;
      this.replies = replies;
    }

    /** Picks a destination and opens a leg to it; false when there is none. */
    boolean connect() {
      Member m = pool.choose();
      if (m != null) {
        base = m.address;
        m.sessions.incrementAndGet();
      } else if (pool.fallback.isPresent()) {
        base = pool.fallback.get();
      } else {
        return false;
      }
      member = m;
      destination = divert.apply(base);
      leg = direct.open(loop, client, destination, replies);
      return true;
    }

    private boolean shouldMove() {
      if (member != null) {
        return !member.usable() || !divert.peek(base).equals(destination);
      }
      return pool.anyUsable() || !divert.peek(base).equals(destination);
    }

    private void release() {
      if (member != null) {
        member.sessions.decrementAndGet();
        member = null;
      }
      if (leg != null) {
        leg.close();
        leg = null;
      }
    }

    @Override
    public boolean send(ByteBuf payload) {
      if (closed) {
        payload.release();
        return false;
      }
      if (pool.config.resumable() && (leg == null || shouldMove())) {
        release();
        if (connect()) {
          pool.flowMoves.increment();
        }
      }
      if (leg == null) {
        payload.release();
        return false;
      }
      return leg.send(payload);
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        release();
      }
    }
  }
}
