package net.wanrelay.channel;

import io.netty.channel.ChannelFuture;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import java.io.IOException;

/** Sends a TCP FIN on a channel's output while its input stays open. */
public final class HalfClose {
  private HalfClose() {}

  /**
   * Shuts the output down (SHUT_WR). Call on the channel's event loop once everything written so
   * far has been flushed: anything still queued in Netty is not sent.
   *
   * <p>Netty's {@link DuplexChannel#shutdownOutput()} fails its (here empty) outbound buffer with a
   * new ChannelOutputShutdownException every time, and filling in that stack trace was about 3 % of
   * the relays' CPU in short sessions. On epoll the socket is shut directly instead; the channel's
   * {@code isOutputShutdown()} reads the same socket state, so it stays true to the socket.
   */
  public static ChannelFuture shutdownOutput(DuplexChannel channel) {
    if (channel instanceof AbstractEpollStreamChannel epoll && epoll.fd() instanceof Socket socket) {
      try {
        socket.shutdown(false, true);
        return channel.newSucceededFuture();
      } catch (IOException e) {
        return channel.newFailedFuture(e);
      }
    }
    return channel.shutdownOutput();
  }
}
