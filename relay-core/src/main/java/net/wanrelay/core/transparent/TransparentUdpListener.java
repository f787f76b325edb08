package net.wanrelay.core.transparent;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.net.Transport;
import net.wanrelay.core.udp.DirectUdpLegFactory;
import net.wanrelay.core.udp.UdpLeg;

/**
 * The TPROXY target of intercepted UDP: a datagram socket with IP_TRANSPARENT and
 * IP_RECVORIGDSTADDR, so each datagram arrives with the destination the client meant (Netty's
 * epoll channel puts it in {@link DatagramPacket#recipient()}). The first datagram of a flow
 * lands here; later ones go to the flow's own client socket (see {@link InterceptFlows}).
 * Everything runs on one event loop.
 */
final class TransparentUdpListener implements AutoCloseable {
  private final InetSocketAddress listen;
  private final InterceptFlows flows;
  private final RelayMetrics metrics;
  private final Duration idleTimeout;
  private Channel channel;
  private ScheduledFuture<?> sweeper;

  TransparentUdpListener(InetSocketAddress listen, InterceptFlows flows, RelayMetrics metrics, Duration idleTimeout) {
    this.listen = listen;
    this.flows = flows;
    this.metrics = metrics;
    this.idleTimeout = idleTimeout;
  }

  /** Binds on {@code loop}, the same loop {@code flows} was made for. */
  TransparentUdpListener start(Transport transport, EventLoop loop) throws InterruptedException {
    channel = new Bootstrap().group(loop).channel(transport.datagramChannel())
        .option(EpollChannelOption.IP_TRANSPARENT, true)
        .option(EpollChannelOption.IP_RECVORIGDSTADDR, true)
        .option(ChannelOption.SO_RCVBUF, 4 * 1024 * 1024)
        .handler(new OriginalDestination(flows, metrics))
        .bind(listen).sync().channel();
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(100), idleTimeout.toNanos() / 4);
    sweeper = loop.scheduleAtFixedRate(flows::expireIdle, period, period, TimeUnit.NANOSECONDS);
    return this;
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public void close() {
    if (channel == null) {
      return;
    }
    channel.eventLoop().submit(() -> {
      sweeper.cancel(false);
      flows.close();
    }).syncUninterruptibly();
    channel.close().syncUninterruptibly();
  }

  /** Keys each datagram by (sender, original destination) and hands it to the flows. */
  static final class OriginalDestination extends SimpleChannelInboundHandler<DatagramPacket> {
    /** Where datagrams go; {@link InterceptFlows#datagram} in the relay. */
    interface Sink {
      void datagram(FlowTable.Key key, ByteBuf payload);
    }

    private final Sink sink;
    private final RelayMetrics metrics;

    OriginalDestination(InterceptFlows flows, RelayMetrics metrics) {
      this(flows::datagram, metrics);
    }

    OriginalDestination(Sink sink, RelayMetrics metrics) {
      this.sink = sink;
      this.metrics = metrics;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
      InetSocketAddress to = packet.recipient();
      InetSocketAddress from = packet.sender();
      // Without IP_RECVORIGDSTADDR's answer the recipient is the listener's own wildcard address.
      if (to == null || from == null || to.getAddress().isAnyLocalAddress() || to.getPort() == 0) {
        metrics.udpDropped("no_original_destination").increment();
        return;
      }
      sink.datagram(new FlowTable.Key(from, to), packet.content().retain());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // an unconnected socket: nothing here ends the listener
      metrics.udpDropped("listener_error").increment();
    }
  }

  /** The real sockets of a flow: its client socket and its pass-through leg, both transparent. */
  static final class KernelSockets implements InterceptFlows.ClientSockets, InterceptFlows.PassThroughLegs {
    private final Transport transport;
    private final boolean transparentSource;

    /** @param transparentSource pass-through legs leave from the client's address and port */
    KernelSockets(Transport transport, boolean transparentSource) {
      this.transport = transport;
      this.transparentSource = transparentSource;
    }

    @Override
    public InterceptFlows.ClientSocket open(EventLoop loop, FlowTable.Key key, InterceptFlows.ClientSide side) {
      // Several flows (clients) share the server's address and port as local address: SO_REUSEADDR;
      // the connected peer keeps their datagrams apart.
      ChannelFuture f = new Bootstrap().group(loop).channel(transport.datagramChannel())
          .option(EpollChannelOption.IP_TRANSPARENT, true)
          .option(ChannelOption.SO_REUSEADDR, true)
          .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
              side.fromClient(packet.content().retain());
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
              side.clientFailed("client_unreachable"); // ICMP from the client: it is gone
            }
          })
          .connect(key.client(), key.server());
      Channel ch = f.channel();
      f.addListener(done -> {
        if (!done.isSuccess()) {
          side.clientFailed("client_socket");
        }
      });
      return new InterceptFlows.ClientSocket() {
        @Override
        public boolean send(ByteBuf payload) {
          if (!ch.isActive() || !ch.isWritable()) {
            payload.release();
            return false;
          }
          ch.writeAndFlush(payload, ch.voidPromise());
          return true;
        }

        @Override
        public void close() {
          ch.close();
        }
      };
    }

    @Override
    public UdpLeg open(EventLoop loop, FlowTable.Key key, UdpLeg.Replies replies) {
      return new DirectUdpLegFactory(transport, transparentSource).open(loop, key.client(), key.server(), replies);
    }
  }
}
