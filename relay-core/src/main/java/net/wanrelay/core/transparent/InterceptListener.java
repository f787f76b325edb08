package net.wanrelay.core.transparent;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import java.net.InetSocketAddress;
import java.util.function.Consumer;
import net.wanrelay.core.net.Transport;
import net.wanrelay.core.tcp.EarlyInbound;
import net.wanrelay.core.tcp.TcpListener;

/**
 * The TPROXY target: a listener with IP_TRANSPARENT, so connections to any address arrive here
 * with the original destination as the accepted socket's local address. Each new connection
 * (AUTO_READ off, early data held) goes to {@code onAccepted} on its own event loop.
 */
final class InterceptListener implements AutoCloseable {
  private final InetSocketAddress listen;
  private final boolean transparent;
  private final Consumer<Channel> onAccepted;
  private Channel serverChannel;

  /** @param transparent IP_TRANSPARENT on the listener (false only in loopback tests) */
  InterceptListener(InetSocketAddress listen, boolean transparent, Consumer<Channel> onAccepted) {
    this.listen = listen;
    this.transparent = transparent;
    this.onAccepted = onAccepted;
  }

  InterceptListener start(Transport transport, EventLoopGroup boss, EventLoopGroup workers) throws InterruptedException {
    ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(transport.serverSocketChannel())
        .option(ChannelOption.SO_BACKLOG, 4096)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new Handoff()).addLast(TcpListener.EARLY_INBOUND, new EarlyInbound());
          }
        });
    if (transparent) {
      b.option(EpollChannelOption.IP_TRANSPARENT, true);
    }
    serverChannel = b.bind(listen).sync().channel();
    return this;
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** Hands the connection over once active, then leaves the pipeline. */
  private final class Handoff extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.pipeline().remove(this);
      onAccepted.accept(ctx.channel());
    }
  }

  @Override
  public void close() {
    if (serverChannel != null) {
      serverChannel.close().syncUninterruptibly();
    }
  }
}
