package net.wanrelay.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.StreamProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SP side default acceptor: for every peer-opened stream it runs the {@link DestinationResolver},
 * checks the {@link AllowList} (denied: OPEN_FAIL denied, {@code wanrelay_trunk_open_denied_total}),
 * connects the server leg on the trunk connection's own event loop (optionally from the
 * original source address with IP_TRANSPARENT; UDP legs also from its port), then sends OPEN_ACK
 * and bridges. TCP legs use
 * {@link TcpStreamBridge}; a UDP flow gets its own connected datagram socket.
 */
public final class ServerLegAcceptor implements StreamAcceptor {
  private static final Logger LOG = LoggerFactory.getLogger(ServerLegAcceptor.class);

  private final TrunkSettings settings;
  private final AllowList allow;
  private final DestinationResolver resolver;
  private final TrunkMetrics metrics;

  public ServerLegAcceptor(TrunkSettings settings, AllowList allow, DestinationResolver resolver, TrunkMetrics metrics) {
    this.settings = settings;
    this.allow = allow;
    this.resolver = resolver == null ? DestinationResolver.IDENTITY : resolver;
    this.metrics = metrics;
  }

  @Override
  public void onOpen(TrunkStream stream) {
    InetSocketAddress dst = resolver.resolve(stream);
    if (dst == null) {
      deny(stream, "no route for " + stream.request().destination());
      return;
    }
    if (dst.isUnresolved()) {
      // Name lookups may block: do them off the event loop, then come back.
      InetSocketAddress name = dst;
      GlobalEventExecutor.INSTANCE.execute(() -> {
        InetSocketAddress resolved;
        try {
          resolved = new InetSocketAddress(InetAddress.getByName(name.getHostString()), name.getPort());
        } catch (UnknownHostException e) {
          resolved = null;
        }
        InetSocketAddress r = resolved;
        stream.eventLoop().execute(() -> {
          if (r == null) {
            if (!stream.isClosed()) {
              stream.reject(ErrorCode.UNREACHABLE, "cannot resolve " + name.getHostString());
            }
          } else {
            checkAndConnect(stream, r);
          }
        });
      });
      return;
    }
    checkAndConnect(stream, dst);
  }

  private void checkAndConnect(TrunkStream stream, InetSocketAddress dst) {
    if (stream.isClosed()) {
      return;
    }
    if (!allow.permits(dst)) {
      deny(stream, dst + " is not in the allow-list");
      return;
    }
    if (stream.protocol() == StreamProtocol.TCP) {
      connectTcp(stream, dst);
    } else {
      connectUdp(stream, dst);
    }
  }

  private void deny(TrunkStream stream, String why) {
    metrics.peer(stream.connection().peerNodeId()).openDenied.increment();
    LOG.info("trunk {}: OPEN denied: {}", stream.connection().peerNodeId(), why);
    stream.reject(ErrorCode.DENIED, why);
  }

  private void connectTcp(TrunkStream stream, InetSocketAddress dst) {
    Channel trunk = stream.connection().channel();
    Bootstrap b = new Bootstrap().group(stream.eventLoop())
        .channelFactory(Transports.socketChannelsLike(trunk))
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout.toMillis())
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {}
        });
    InetSocketAddress src = stream.request().source();
    if (settings.transparentSource && src != null && !src.isUnresolved() && trunk instanceof EpollSocketChannel) {
      b.option(EpollChannelOption.IP_TRANSPARENT, true);
      b.localAddress(new InetSocketAddress(src.getAddress(), 0));
    }
    b.connect(dst).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        ErrorCode code = reasonFor(f.cause());
        LOG.debug("server leg to {} failed: {}", dst, f.cause().toString());
        if (!stream.isClosed()) {
          stream.reject(code, f.cause().getMessage());
        }
        return;
      }
      Channel leg = f.channel();
      if (stream.isClosed()) {
        leg.close();
        return;
      }
      TcpStreamBridge bridge = TcpStreamBridge.prepare(leg, stream.eventLoop(), null);
      stream.accept(bridge);
      bridge.attach(stream);
    });
  }

  private void connectUdp(TrunkStream stream, InetSocketAddress dst) {
    Channel trunk = stream.connection().channel();
    InetSocketAddress src = stream.request().source();
    boolean fromClient = settings.transparentSource && src != null && !src.isUnresolved()
        && trunk instanceof EpollSocketChannel;
    connectUdp(stream, dst, fromClient ? src : null);
  }

  /**
   * {@code from}: the client's address and port (transparent source), else the relay's own. The
   * client's port may be taken (the same client port to another server, or another CP's client
   * with the same address): then an ephemeral port, never a shared 4-tuple.
   */
  private void connectUdp(TrunkStream stream, InetSocketAddress dst, InetSocketAddress from) {
    Channel trunk = stream.connection().channel();
    UdpLeg leg = new UdpLeg(stream, dst);
    Bootstrap b = new Bootstrap().group(stream.eventLoop())
        .channel(Transports.datagramChannelLike(trunk))
        .handler(leg);
    if (from != null) {
      b.option(EpollChannelOption.IP_TRANSPARENT, true);
    }
    (from == null ? b.connect(dst) : b.connect(dst, from)).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess() && from != null && from.getPort() != 0 && !stream.isClosed()) {
        LOG.debug("udp leg from {} to {}: {}; retrying from an ephemeral port", from, dst, f.cause().toString());
        connectUdp(stream, dst, new InetSocketAddress(from.getAddress(), 0));
        return;
      }
      if (!f.isSuccess()) {
        if (!stream.isClosed()) {
          stream.reject(reasonFor(f.cause()), f.cause().getMessage());
        }
        return;
      }
      if (stream.isClosed()) {
        f.channel().close();
        return;
      }
      leg.channel = f.channel();
      stream.accept(leg);
    });
  }

  static ErrorCode reasonFor(Throwable cause) {
    if (cause instanceof ConnectTimeoutException) {
      return ErrorCode.TIMEOUT;
    }
    String m = String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT);
    if (m.contains("refused")) {
      return ErrorCode.REFUSED;
    }
    if (cause instanceof NoRouteToHostException || m.contains("unreachable") || m.contains("no route")) {
      return ErrorCode.UNREACHABLE;
    }
    if (m.contains("timed out")) {
      return ErrorCode.TIMEOUT;
    }
    return cause instanceof ConnectException ? ErrorCode.REFUSED : ErrorCode.UNREACHABLE;
  }

  /** One UDP flow's server-side socket: replies go back as DATAGRAM frames. */
  private static final class UdpLeg extends ChannelInboundHandlerAdapter implements StreamListener {
    private final TrunkStream stream;
    private final InetSocketAddress dst;
    Channel channel;

    UdpLeg(TrunkStream stream, InetSocketAddress dst) {
      this.stream = stream;
      this.dst = dst;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof DatagramPacket p) {
        if (stream.isClosed()) {
          p.release();
        } else {
          stream.sendDatagram(p.content().retain());
          p.release();
        }
      } else {
        io.netty.util.ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!stream.isClosed()) {
        stream.reset(ErrorCode.CANCEL, "server socket closed");
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // ICMP port unreachable and the like: UDP keeps going, the flow expires when idle.
      LOG.debug("udp leg to {}: {}", dst, cause.toString());
    }

    @Override
    public void onDatagram(TrunkStream s, ByteBuf datagram) {
      if (channel != null && channel.isActive()) {
        channel.writeAndFlush(new DatagramPacket(datagram, dst));
      } else {
        datagram.release();
      }
    }

    @Override
    public void onData(TrunkStream s, ByteBuf data) {
      data.release();
    }

    @Override
    public void onFin(TrunkStream s) {}

    @Override
    public void onReset(TrunkStream s, ErrorCode code, String message) {
      if (channel != null) {
        channel.close();
      }
    }
  }
}
