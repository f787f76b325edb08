package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.channel.frame.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies bytes between a local TCP socket (the client on the CP, the server leg on the SP) and
 * a trunk stream, with backpressure both ways:
 * <ul>
 *   <li>socket to stream: the socket (AUTO_READ off) is read only while the stream is writable
 *       (has credit and the trunk is not congested);
 *   <li>stream to socket: credit goes back to the peer only when the write to the socket
 *       completed, so a slow local reader holds back its own stream and nothing else.
 * </ul>
 * Half-close is carried both ways (FIN from socket EOF, shutdownOutput on FIN); a stream reset
 * or refused OPEN closes the socket with a TCP RST (SO_LINGER 0); a socket that closes early
 * resets the stream. All bridge state lives on the stream's event loop; socket events hop there.
 */
public final class TcpStreamBridge implements StreamListener {
  private static final Logger LOG = LoggerFactory.getLogger(TcpStreamBridge.class);
  /** Largest single read of the local socket. */
  static final int READ_CAP = 128 * 1024;

  private final Channel socket;
  // The stream's loop; changes only when a suspended stream resumes on a connection of another loop.
  private volatile EventLoop loop;
  private final Promise<TrunkStream> opened;
  private TrunkStream stream;
  private ChannelFuture lastWrite;
  private boolean socketInputDone;
  private boolean outputShutdown;
  private boolean done;
  // Stream loop only: a socket flush is already queued for the end of this event-loop turn.
  private boolean flushQueued;
  // Bytes written out to the socket whose credit has not been handed back to the stream yet;
  // write completions add (on the socket's loop), one task per batch drains it on the stream loop.
  private final AtomicLong consumedUnreported = new AtomicLong();
  private final Runnable flushSocket = this::flushSocket;
  private final Runnable reportConsumed = () -> {
    long n = consumedUnreported.getAndSet(0);
    TrunkStream s = stream;
    while (n > 0 && s != null) {
      int step = (int) Math.min(n, Integer.MAX_VALUE);
      s.consumed(step);
      n -= step;
    }
  };

  private TcpStreamBridge(Channel socket, EventLoop loop, Promise<TrunkStream> opened) {
    this.socket = socket;
    this.loop = loop;
    this.opened = opened;
  }

  /**
   * Prepares a socket for bridging and installs its inbound handler. Must run before the
   * stream is opened or accepted; the bridge then needs {@link #attach}.
   */
  static TcpStreamBridge prepare(Channel socket, EventLoop streamLoop, Promise<TrunkStream> opened) {
    socket.config().setAutoRead(false);
    // One read per credit check, at most READ_CAP bytes: bounds what a stream may take beyond its
    // credit, and matches the largest DATA frame so one read becomes one frame.
    socket.config().setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator(2048, 16 * 1024, READ_CAP));
    socket.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    TcpStreamBridge bridge = new TcpStreamBridge(socket, streamLoop, opened);
    socket.pipeline().addLast("trunk-bridge", bridge.new SocketSide());
    return bridge;
  }

  /**
   * Bridges {@code socket} to a stream that is already open (OPEN_ACK received), e.g. the winner
   * of a race of OPENs. Call on the stream's event loop, before any further event of the stream
   * is handled: from then on the stream's events go to the bridge, and the socket is read.
   */
  public static void adopt(Channel socket, TrunkStream stream) {
    assert stream.eventLoop().inEventLoop();
    TcpStreamBridge bridge = prepare(socket, stream.eventLoop(), null);
    stream.listener(bridge);
    bridge.attach(stream);
  }

  /** Binds the stream (on its loop) and starts reading the socket. */
  void attach(TrunkStream s) {
    assert loop.inEventLoop();
    stream = s;
    if (!socket.isActive()) {
      s.reset(ErrorCode.CANCEL, "local socket closed");
      done = true;
      return;
    }
    socket.read();
  }

  /** Client side: the OPEN could not even be sent (no usable trunk connection). */
  void failBeforeOpen(String why) {
    done = true;
    if (opened != null) {
      opened.tryFailure(new IOException(why));
    }
    abortSocket();
  }

  private void flushSocket() {
    flushQueued = false;
    socket.flush();
  }

  /** Runs {@code r} on the stream's loop; re-dispatches when the stream moved meanwhile. */
  private void run(Runnable r) {
    EventLoop l = loop;
    if (l.inEventLoop()) {
      r.run();
    } else {
      l.execute(() -> run(r));
    }
  }

  // ---------------------------------------------------------------- socket side

  private void onSocketData(ByteBuf data) {
    if (stream == null || stream.isClosed() || done) {
      data.release();
      return;
    }
    stream.write(data);
    if (stream.isWritable()) {
      socket.read();
    }
  }

  private void onSocketFin() {
    socketInputDone = true;
    if (stream != null && !stream.isClosed()) {
      stream.shutdownOutput();
    }
  }

  private void onSocketClosed() {
    // After an orderly close (both directions ended) the stream still owes the far side what it
    // queued while waiting for credit, then its FIN: only an early close aborts it.
    boolean orderly = socketInputDone && outputShutdown;
    if (stream != null && !stream.isClosed() && !orderly) {
      stream.reset(ErrorCode.CANCEL, "local socket closed");
    }
    done = true;
  }

  // ---------------------------------------------------------------- stream side

  @Override
  public void onOpenAck(TrunkStream s) {
    if (opened != null) {
      opened.trySuccess(s);
    }
  }

  @Override
  public void onOpenFail(TrunkStream s, ErrorCode code, String message) {
    LOG.debug("stream {} to {} refused: {} {}", s.id(), s.request().destination(), code.label(), message);
    done = true;
    if (opened != null) {
      opened.tryFailure(new TrunkOpenException(code, message));
    }
    abortSocket();
  }

  @Override
  public void onData(TrunkStream s, ByteBuf data) {
    if (done || !socket.isActive()) {
      data.release();
      return;
    }
    int n = data.readableBytes();
    // No flush per frame: all DATA of this read burst is flushed once, at the end of the turn.
    lastWrite = socket.write(data);
    lastWrite.addListener(f -> {
      if (f.isSuccess() && consumedUnreported.getAndAdd(n) == 0) {
        run(reportConsumed);
      }
    });
    if (!flushQueued) {
      flushQueued = true;
      loop.execute(flushSocket);
    }
  }

  @Override
  public void onFin(TrunkStream s) {
    ChannelFuture w = lastWrite;
    if (w == null || w.isDone()) {
      shutdownSocketOutput();
    } else {
      w.addListener(f -> shutdownSocketOutput());
    }
  }

  private void shutdownSocketOutput() {
    if (!(socket instanceof DuplexChannel d) || !socket.isActive()) {
      socket.close();
    } else if (d.isInputShutdown()) {
      // The socket's input already ended: a close sends the same FIN, with one shutdown less. The
      // stream loop learns first that this close is orderly (see below).
      run(() -> outputShutdown = true);
      socket.close();
    } else {
      HalfClose.shutdownOutput(d).addListener(f -> {
        // On the socket's loop. The stream loop learns of it first (its task queue is FIFO, so
        // this runs before the close's onSocketClosed and the close counts as orderly).
        run(() -> outputShutdown = true);
        closeIfBothDirectionsEnded(d);
      });
    }
  }

  /**
   * Closes the socket on its own loop as soon as both directions have ended. A socket shut down
   * both ways reports EPOLLHUP on every epoll_wait (it cannot be masked, and Netty registers
   * level-triggered) until it is closed: a close that first hopped to the stream's loop and
   * back kept the socket's loop spinning for hundreds of wake-ups per session.
   */
  private void closeIfBothDirectionsEnded(DuplexChannel d) {
    if (d.isInputShutdown() && d.isOutputShutdown()) {
      socket.close();
    }
  }

  @Override
  public void onReset(TrunkStream s, ErrorCode code, String message) {
    LOG.debug("stream {} reset: {} {}", s.id(), code.label(), message);
    done = true;
    if (opened != null) {
      opened.tryFailure(new TrunkOpenException(code, message));
    }
    abortSocket();
  }

  @Override
  public void onWritable(TrunkStream s) {
    if (!socketInputDone && !done) {
      socket.read();
    }
  }

  @Override
  public boolean resumable() {
    return true;
  }

  @Override
  public void onMoved(TrunkStream s, EventLoop newLoop) {
    loop = newLoop; // on the old loop: tasks queued there from now on re-dispatch to the new one
  }

  @Override
  public void onClosed(TrunkStream s) {
    // Both FINs went through; the socket closes once its output shutdown completes.
  }

  /** Closes the socket with a TCP RST so the local peer sees an abort, not a clean end. */
  private void abortSocket() {
    if (socket.isOpen()) {
      try {
        socket.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException ignored) {
        // closing anyway
      }
      socket.close();
    }
  }

  /** Handler in the socket's pipeline; forwards events to the stream's loop. */
  private final class SocketSide extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf b) {
        run(() -> onSocketData(b));
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        run(TcpStreamBridge.this::onSocketFin);
        if (ctx.channel() instanceof DuplexChannel d) {
          closeIfBothDirectionsEnded(d);
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      run(TcpStreamBridge.this::onSocketClosed);
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("bridged socket {} failed: {}", ctx.channel(), cause.toString());
      ctx.close();
    }
  }
}
