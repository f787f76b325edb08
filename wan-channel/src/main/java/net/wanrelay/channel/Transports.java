package net.wanrelay.channel;

import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/** Channel classes matching an event loop group: epoll on Linux, NIO elsewhere. */
public final class Transports {
  private Transports() {}

  /** A new group of the best available transport (epoll when {@link Epoll#isAvailable()}). */
  public static EventLoopGroup newGroup(int threads) {
    return new MultiThreadIoEventLoopGroup(threads,
        Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
  }

  public static boolean isEpoll(EventLoopGroup group) {
    return group instanceof IoEventLoopGroup g && Epoll.isAvailable() && g.isIoType(EpollIoHandler.class);
  }

  /** Makes socket channels of the group's transport, by constructor reference (no reflection). */
  public static ChannelFactory<SocketChannel> socketChannels(EventLoopGroup group) {
    return isEpoll(group) ? EpollSocketChannel::new : NioSocketChannel::new;
  }

  public static Class<? extends ServerSocketChannel> serverChannel(EventLoopGroup group) {
    return isEpoll(group) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /**
   * Makes socket channels of the same transport as {@code ch} (so they can share its loop), by
   * constructor reference: Bootstrap.channel(Class) would reflect on every connect.
   */
  public static ChannelFactory<SocketChannel> socketChannelsLike(io.netty.channel.Channel ch) {
    return ch.eventLoop() instanceof io.netty.channel.IoEventLoop l && l.isIoType(EpollIoHandler.class)
        ? EpollSocketChannel::new : NioSocketChannel::new;
  }

  public static Class<? extends DatagramChannel> datagramChannelLike(io.netty.channel.Channel ch) {
    return ch.eventLoop() instanceof io.netty.channel.IoEventLoop l && l.isIoType(EpollIoHandler.class) ? EpollDatagramChannel.class : NioDatagramChannel.class;
  }

  public static Class<? extends DatagramChannel> datagramChannel(EventLoopGroup group) {
    return isEpoll(group) ? EpollDatagramChannel.class : NioDatagramChannel.class;
  }
}
