package net.wanrelay.core.udp;

import io.micrometer.core.instrument.Counter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.concurrent.TimeUnit;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.metrics.RelayMetrics.Route;
import net.wanrelay.core.net.Transport;

/**
 * A UDP listener: each client address is a flow with its own leg to the target. Flows end after
 * the idle timeout; new flows beyond the cap are dropped and counted. All flow state lives on the
 * listener channel's event loop.
 */
public final class UdpListener {
  private final String name;
  private final InetSocketAddress listen;
  private final InetSocketAddress target;
  private final Route route;
  private final UdpLegFactory legs;
  private final RelayMetrics metrics;
  private final int maxFlows;
  private final UnaryOperator<InetSocketAddress> destinations;
  private final long idleNanos;
  private final Map<InetSocketAddress, Flow> flows = new HashMap<>();
  private final Counter bytesIn;
  private final Counter bytesOut;
  private Channel channel;
  private ScheduledFuture<?> sweeper;

  public UdpListener(String name, InetSocketAddress listen, InetSocketAddress target, Route route,
      UdpLegFactory legs, RelayMetrics metrics, int maxFlows, Duration idleTimeout,
      UnaryOperator<InetSocketAddress> destinations) {
    this.name = name;
    this.listen = listen;
    this.target = target;
    this.route = route;
    this.legs = legs;
    this.metrics = metrics;
    this.maxFlows = maxFlows;
    this.destinations = destinations;
    this.idleNanos = idleTimeout.toNanos();
    this.bytesIn = metrics.sessionBytes(Protocol.UDP, route, true);
    this.bytesOut = metrics.sessionBytes(Protocol.UDP, route, false);
  }

  public String name() {
    return name;
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  public void start(Transport transport, EventLoopGroup group) throws InterruptedException {
    channel = new Bootstrap()
        .group(group)
        .channel(transport.datagramChannel())
        .option(ChannelOption.SO_RCVBUF, 4 * 1024 * 1024)
        .option(ChannelOption.SO_SNDBUF, 4 * 1024 * 1024)
        .handler(new ClientDatagrams())
        .bind(listen).sync().channel();
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(50), idleNanos / 4);
    sweeper = channel.eventLoop().scheduleAtFixedRate(this::expireIdle, period, period, TimeUnit.NANOSECONDS);
  }

  public void stop() {
    if (channel == null) {
      return;
    }
    channel.eventLoop().submit(() -> {
      sweeper.cancel(false);
      for (Flow flow : flows.values()) {
        flow.end(Outcome.COMPLETED, "shutdown");
      }
      flows.clear();
    }).syncUninterruptibly();
    channel.close().syncUninterruptibly();
  }

  /** Number of open flows (read on any thread, for tests and the admin API). */
  public int flowCount() {
    return channel.eventLoop().submit(flows::size).syncUninterruptibly().getNow();
  }

  private void expireIdle() {
    long now = System.nanoTime();
    Iterator<Flow> it = flows.values().iterator();
    while (it.hasNext()) {
      Flow flow = it.next();
      if (now - flow.lastActivity >= idleNanos) {
        it.remove();
        flow.end(Outcome.IDLE_TIMEOUT, "expired");
      }
    }
  }

  private final class ClientDatagrams extends SimpleChannelInboundHandler<DatagramPacket> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
      InetSocketAddress client = packet.sender();
      Flow flow = flows.get(client);
      if (flow == null) {
        if (flows.size() >= maxFlows) {
          metrics.udpDropped("max_flows").increment();
          metrics.refused(Protocol.UDP, "max_flows");
          return;
        }
        flow = new Flow(client);
        flows.put(client, flow);
        InetSocketAddress destination = target == null ? null : destinations.apply(target);
        flow.leg = legs.open(ctx.channel().eventLoop(), client, destination, flow);
      }
      ByteBuf payload = packet.content();
      bytesIn.increment(payload.readableBytes());
      flow.lastActivity = System.nanoTime();
      if (!flow.leg.send(payload.retain())) {
        metrics.udpDropped("backpressure").increment();
      }
    }
  }

  private final class Flow implements UdpLeg.Replies {
    private final InetSocketAddress client;
    private UdpLeg leg;
    private long lastActivity = System.nanoTime();
    private boolean ended;

    Flow(InetSocketAddress client) {
      this.client = client;
      metrics.udpFlowOpened();
      metrics.sessionOpened(Protocol.UDP, route);
    }

    @Override
    public void reply(ByteBuf payload) {
      if (ended || !channel.isActive()) {
        payload.release();
        return;
      }
      lastActivity = System.nanoTime();
      bytesOut.increment(payload.readableBytes());
      if (channel.isWritable()) {
        channel.writeAndFlush(new DatagramPacket(payload, client), channel.voidPromise());
      } else {
        payload.release();
        metrics.udpDropped("backpressure").increment();
      }
    }

    @Override
    public void closed(String reason) {
      if (!ended) {
        flows.remove(client, this);
        end(Outcome.ERROR, reason);
      }
    }

    void end(Outcome outcome, String flowOutcome) {
      if (ended) {
        return;
      }
      ended = true;
      if (leg != null) {
        leg.close();
      }
      metrics.udpFlowClosed(flowOutcome);
      metrics.sessionClosed(Protocol.UDP, route, outcome);
    }
  }
}
