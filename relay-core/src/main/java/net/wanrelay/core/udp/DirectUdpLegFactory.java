package net.wanrelay.core.udp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import net.wanrelay.core.net.Transport;

/** A connected UDP socket per flow, so only the target's replies come back to the client. */
public final class DirectUdpLegFactory implements UdpLegFactory {
  /** Datagrams held while the flow's socket is still being set up. */
  static final int MAX_PENDING = 64;

  private final Transport transport;
  private final boolean fromClient;

  public DirectUdpLegFactory(Transport transport) {
    this(transport, false);
  }

  /**
   * @param fromClient bind the socket to the client's address and port (IP_TRANSPARENT, epoll,
   *     CAP_NET_ADMIN: transparent pass-through); SO_REUSEADDR since one client port may talk to
   *     several servers, the connected peer tells the flows apart
   */
  public DirectUdpLegFactory(Transport transport, boolean fromClient) {
    this.transport = transport;
    this.fromClient = fromClient;
  }

  @Override
  public UdpLeg open(EventLoop loop, InetSocketAddress client, InetSocketAddress target, UdpLeg.Replies replies) {
    Bootstrap b = new Bootstrap()
        .group(loop)
        .channel(transport.datagramChannel())
        .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
          @Override
          protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            replies.reply(packet.content().retain());
          }

          @Override
          public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP port unreachable shows up here on a connected socket: the flow ends.
            replies.closed("error");
            ctx.close();
          }
        });
    if (fromClient) {
      b.option(EpollChannelOption.IP_TRANSPARENT, true).option(ChannelOption.SO_REUSEADDR, true);
    }
    ChannelFuture connect = fromClient ? b.connect(target, client) : b.connect(target);
    return new Leg(connect, replies);
  }

  /** Confined to the flow's event loop. */
  private static final class Leg implements UdpLeg {
    private final ChannelFuture connect;
    private final Channel channel;
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();

    Leg(ChannelFuture connect, UdpLeg.Replies replies) {
      this.connect = connect;
      this.channel = connect.channel();
      connect.addListener(f -> {
        if (f.isSuccess()) {
          ByteBuf buf;
          while ((buf = pending.poll()) != null) {
            channel.write(buf, channel.voidPromise());
          }
          channel.flush();
        } else {
          releasePending();
          replies.closed("connect_failed");
        }
      });
    }

    @Override
    public boolean send(ByteBuf payload) {
      if (!connect.isDone()) {
        if (pending.size() >= MAX_PENDING) {
          payload.release();
          return false;
        }
        pending.add(payload);
        return true;
      }
      if (!channel.isActive() || !channel.isWritable()) {
        payload.release();
        return false;
      }
      channel.writeAndFlush(payload, channel.voidPromise());
      return true;
    }

    @Override
    public void close() {
      releasePending();
      channel.close();
    }

    private void releasePending() {
      ByteBuf buf;
      while ((buf = pending.poll()) != null) {
        buf.release();
      }
    }
  }
}
