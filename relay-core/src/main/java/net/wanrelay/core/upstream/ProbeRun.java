package net.wanrelay.core.upstream;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What every health check shares, TCP or UDP: a deadline, the probe bytes sent once connected,
 * the socket closed on every path and the result reported exactly once. Event-loop confined.
 */
final class ProbeRun {
  private final HealthProbe.Result result;
  private final long started = System.nanoTime();
  private ScheduledFuture<?> deadline;
  private Channel channel;
  private boolean finished;

  ProbeRun(HealthProbe.Result result) {
    this.result = result;
  }

  /** Called from the probe handler's handlerAdded, possibly before {@link #arm} runs. */
  void channel(Channel channel) {
    this.channel = channel;
  }

  /**
   * Arms the deadline and, once {@code connect} succeeds, sends {@code send}; with nothing to send
   * the connect alone passes the check.
   */
  void arm(ChannelFuture connect, long timeoutMillis, byte[] send) {
    channel = connect.channel();
    if (finished) {
      return;
    }
    deadline = channel.eventLoop().schedule(() -> finish(false, "timeout"), timeoutMillis, TimeUnit.MILLISECONDS);
    connect.addListener(f -> {
      if (!f.isSuccess()) {
        finish(false, "connect_failed");
      } else if (send.length == 0) {
        finish(true, "connected");
      } else {
        channel.writeAndFlush(Unpooled.wrappedBuffer(send)).addListener(w -> {
          if (!w.isSuccess()) {
            finish(false, "write_failed");
          }
        });
      }
    });
  }

  boolean finished() {
    return finished;
  }

  void finish(boolean ok, String detail) {
    if (finished) {
      return;
    }
    finished = true;
    if (deadline != null) {
      deadline.cancel(false);
    }
    if (channel != null) {
      channel.close();
    }
    result.done(ok, System.nanoTime() - started, detail);
  }
}
