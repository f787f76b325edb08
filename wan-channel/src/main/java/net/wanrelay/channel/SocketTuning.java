package net.wanrelay.channel;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.RawUnixChannelOption;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trunk socket options: TCP_NODELAY, big buffers, write water marks, and on epoll
 * TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT and the congestion control by name (TCP_CONGESTION,
 * IPPROTO_TCP 6 / optname 13, through a raw option since its value is a string). An option the
 * kernel refuses is logged once and skipped; the trunk still works.
 */
public final class SocketTuning {
  private static final Logger LOG = LoggerFactory.getLogger(SocketTuning.class);
  private static final int IPPROTO_TCP = 6;
  private static final int TCP_CONGESTION = 13;
  private static final int TCP_CA_NAME_MAX = 16;
  private static final AtomicBoolean CC_WARNED = new AtomicBoolean();
  private static final AtomicBoolean NIO_NOTED = new AtomicBoolean();

  private SocketTuning() {}

  /** Applies the trunk options to a connected or accepted socket channel. */
  public static void applyTrunk(Channel ch, TrunkSettings s) {
    ch.config().setOption(ChannelOption.TCP_NODELAY, true);
    ch.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
        new WriteBufferWaterMark(s.writeBufferLow, s.writeBufferHigh));
    if (s.socketBuffer > 0) {
      ch.config().setOption(ChannelOption.SO_SNDBUF, s.socketBuffer);
      ch.config().setOption(ChannelOption.SO_RCVBUF, s.socketBuffer);
    }
    if (!(ch instanceof EpollSocketChannel)) {
      if (NIO_NOTED.compareAndSet(false, true)) {
        LOG.info("trunk sockets on NIO: TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT and congestion control are not set");
      }
      return;
    }
    if (!s.tcpUserTimeout.isZero()) {
      trySet(ch, EpollChannelOption.TCP_USER_TIMEOUT, (int) s.tcpUserTimeout.toMillis(), "TCP_USER_TIMEOUT");
    }
    if (s.notSentLowat > 0) {
      trySet(ch, EpollChannelOption.TCP_NOTSENT_LOWAT, (long) s.notSentLowat, "TCP_NOTSENT_LOWAT");
    }
    if (s.congestionControl != null && !s.congestionControl.isBlank()) {
      setCongestionControl(ch, s.congestionControl.trim());
    }
  }

  /** Sets TCP_CONGESTION; returns false (after one log line) when the kernel refuses it. */
  public static boolean setCongestionControl(Channel ch, String name) {
    byte[] raw = name.getBytes(StandardCharsets.US_ASCII);
    if (raw.length == 0 || raw.length >= TCP_CA_NAME_MAX) {
      throw new IllegalArgumentException("bad congestion control name '" + name + "'");
    }
    RawUnixChannelOption opt = new RawUnixChannelOption("TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION, TCP_CA_NAME_MAX);
    try {
      ByteBuffer value = ByteBuffer.allocateDirect(TCP_CA_NAME_MAX).put(raw);
      value.clear(); // the option wants the full TCP_CA_NAME_MAX bytes, NUL padded
      ch.config().setOption(opt, value);
      return true;
    } catch (RuntimeException e) {
      if (CC_WARNED.compareAndSet(false, true)) {
        LOG.warn("congestion control '{}' not available ({}); keeping the kernel default", name, e.getMessage());
      }
      return false;
    }
  }

  /** Reads TCP_CONGESTION back (epoll only), or null. */
  public static String congestionControl(Channel ch) {
    if (!(ch instanceof EpollSocketChannel)) {
      return null;
    }
    try {
      RawUnixChannelOption opt = new RawUnixChannelOption("TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION, TCP_CA_NAME_MAX);
      ByteBuffer b = ch.config().getOption(opt);
      byte[] raw = new byte[b.remaining()];
      b.get(raw);
      int n = 0;
      while (n < raw.length && raw[n] != 0) {
        n++;
      }
      return new String(raw, 0, n, StandardCharsets.US_ASCII);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static <T> void trySet(Channel ch, ChannelOption<T> opt, T value, String name) {
    try {
      if (!ch.config().setOption(opt, value)) {
        LOG.debug("{} not supported on {}", name, ch);
      }
    } catch (RuntimeException e) {
      LOG.warn("could not set {}={} ({})", name, value, e.getMessage());
    }
  }
}
