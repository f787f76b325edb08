package net.wanrelay.core.tcp;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import net.wanrelay.channel.HalfClose;

/** Small socket actions shared by the copy paths. */
public final class Sockets {
  private Sockets() {}

  /** Closes with a TCP RST (SO_LINGER 0), so the far end sees an abort, not a clean end. */
  public static void reset(Channel channel) {
    if (channel.isOpen()) {
      try {
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException ignored) {
        // Option not settable on this transport or already closed: a plain close still ends it.
      }
      channel.close();
    }
  }

  /** Flushes what is queued, then closes. */
  public static void flushAndClose(Channel channel) {
    if (channel.isActive()) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    } else {
      channel.close();
    }
  }

  /** Flushes what is queued, then sends FIN on the output side only (half-close). */
  public static void flushAndShutdownOutput(Channel channel) {
    if (!channel.isActive()) {
      return;
    }
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
      if (channel instanceof DuplexChannel duplex && channel.isActive()) {
        HalfClose.shutdownOutput(duplex);
      } else {
        channel.close();
      }
    });
  }
}
