package net.wanrelay.core;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import net.wanrelay.core.net.Transport;

/** The built-in echo target of the embedded default: TCP and UDP on one address. */
public final class EchoServer {
  private Channel tcp;
  private Channel udp;

  public void start(Transport transport, EventLoopGroup group, InetSocketAddress address) throws InterruptedException {
    tcp = new ServerBootstrap().group(group).channel(transport.serverSocketChannel())
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new TcpEcho());
          }
        })
        .bind(address).sync().channel();
    udp = new Bootstrap().group(group).channel(transport.datagramChannel())
        .handler(new UdpEcho())
        .bind(((InetSocketAddress) tcp.localAddress())).sync().channel();
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) tcp.localAddress();
  }

  public void stop() {
    if (tcp != null) {
      tcp.close().syncUninterruptibly();
    }
    if (udp != null) {
      udp.close().syncUninterruptibly();
    }
  }

  private static final class TcpEcho extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.write(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        // The client is done sending: echo what is left, then close (a half-open socket would
        // linger and keep waking the event loop).
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  @Sharable
  private static final class UdpEcho extends SimpleChannelInboundHandler<DatagramPacket> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
      ctx.writeAndFlush(new DatagramPacket(packet.content().retain(), packet.sender()));
    }
  }
}
