package net.wanrelay.core.net;

import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
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

/** Epoll on Linux, NIO elsewhere (or with -Dwanrelay.nio=true): one place decides. */
public final class Transport {
  private final boolean epoll;

  private Transport(boolean epoll) {
    this.epoll = epoll;
  }

  public static Transport detect() {
    return new Transport(!Boolean.getBoolean("wanrelay.nio") && Epoll.isAvailable());
  }

  public static Transport nio() {
    return new Transport(false);
  }

  public boolean isEpoll() {
    return epoll;
  }

  public String name() {
    return epoll ? "epoll" : "nio";
  }

  /** Why epoll is off, for the start-up message; null when it is on. */
  public String whyNotEpoll() {
    if (epoll) {
      return null;
    }
    return Boolean.getBoolean("wanrelay.nio") ? "disabled by -Dwanrelay.nio=true"
        : String.valueOf(Epoll.unavailabilityCause());
  }

  public EventLoopGroup newGroup(int threads) {
    IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    return new MultiThreadIoEventLoopGroup(threads, factory);
  }

  public Class<? extends ServerSocketChannel> serverSocketChannel() {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /**
   * Makes client socket channels. A constructor reference, not Bootstrap.channel(Class): that one
   * creates every channel by reflection, a cost paid on each connect of a short session.
   */
  public ChannelFactory<SocketChannel> socketChannels() {
    return epoll ? EpollSocketChannel::new : NioSocketChannel::new;
  }

  public Class<? extends DatagramChannel> datagramChannel() {
    return epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;
  }
}
