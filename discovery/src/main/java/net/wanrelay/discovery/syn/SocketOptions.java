package net.wanrelay.discovery.syn;

import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.RawUnixChannelOption;

/** The Linux socket options discovery sets through Netty's epoll transport. */
public final class SocketOptions {
  private SocketOptions() {}

  private static final int SOL_SOCKET = 1;
  private static final int IPPROTO_TCP = 6;

  /** IP_TRANSPARENT (SOL_IP, 19): bind to foreign addresses, accept TPROXY'd connections. */
  public static final ChannelOption<Boolean> IP_TRANSPARENT = EpollChannelOption.IP_TRANSPARENT;
  /** SO_MARK (SOL_SOCKET, 36): the fwmark of every packet the socket sends; needs CAP_NET_ADMIN. */
  public static final IntegerUnixChannelOption SO_MARK = new IntegerUnixChannelOption("SO_MARK", SOL_SOCKET, 36);
  /** TCP_SAVE_SYN (IPPROTO_TCP, 27) = 1 on a listener: keep each connection's SYN headers. */
  public static final IntegerUnixChannelOption TCP_SAVE_SYN = new IntegerUnixChannelOption("TCP_SAVE_SYN", IPPROTO_TCP, 27);
  /** Largest saved SYN: 60-byte IP header + 60-byte TCP header, with room to spare. */
  public static final int SAVED_SYN_BUFFER = 512;
  /** TCP_SAVED_SYN (IPPROTO_TCP, 28) on an accepted socket: the saved SYN's IP and TCP headers. */
  public static final RawUnixChannelOption TCP_SAVED_SYN =
      new RawUnixChannelOption("TCP_SAVED_SYN", IPPROTO_TCP, 28, SAVED_SYN_BUFFER);
}
