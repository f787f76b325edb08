package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.channel.frame.StreamProtocol;

/**
 * CP side of one UDP flow over the trunk (one client address to one destination). Datagrams
 * go out with {@link #send}; replies and the end of the flow come to the {@link Receiver} on the
 * trunk's event loop. The flow ends when idle on either side (RST idle), on {@link #close()}
 * or when the trunk connection drops. Thread-safe.
 */
public final class UdpFlow {
  /** Replies of the flow; called on the trunk event loop. */
  public interface Receiver {
    /** One reply datagram, owned by the receiver. */
    void onDatagram(UdpFlow flow, ByteBuf datagram);

    /** The flow ended (idle, reset by the peer, trunk lost, refused). */
    default void onClosed(UdpFlow flow, ErrorCode reason) {}
  }

  private final EventLoop loop;
  private final Receiver receiver;
  private final InetSocketAddress destination;
  private final InetSocketAddress source;
  private TrunkStream stream;
  private volatile boolean closed;

  private UdpFlow(EventLoop loop, Receiver receiver, InetSocketAddress destination, InetSocketAddress source) {
    this.loop = loop;
    this.receiver = receiver;
    this.destination = destination;
    this.source = source;
  }

  /** Opens on {@code conn} (may be null: the flow is born closed with reason BUSY). */
  static UdpFlow open(TrunkConnection conn, EventLoop fallback, InetSocketAddress dst, InetSocketAddress src,
      Receiver receiver) {
    UdpFlow flow = new UdpFlow(conn == null ? fallback : conn.eventLoop(), receiver, dst, src);
    if (conn == null) {
      flow.closed = true;
      flow.loop.execute(() -> receiver.onClosed(flow, ErrorCode.BUSY));
      return flow;
    }
    flow.loop.execute(() -> {
      TrunkStream s = conn.open(new OpenRequest(StreamProtocol.UDP, dst, src, 0), flow.new Events());
      if (s == null) {
        flow.finish(ErrorCode.BUSY);
      } else {
        flow.stream = s;
      }
    });
    return flow;
  }

  public InetSocketAddress destination() { return destination; }
  public InetSocketAddress source() { return source; }
  public boolean isClosed() { return closed; }

  /** Sends one datagram (ownership passes); dropped when the flow is closed. */
  public void send(ByteBuf datagram) {
    if (closed) {
      datagram.release();
      return;
    }
    loop.execute(() -> {
      if (stream == null || stream.isClosed()) {
        datagram.release();
      } else {
        stream.sendDatagram(datagram);
      }
    });
  }

  /** Ends the flow and tells the peer. */
  public void close() {
    loop.execute(() -> {
      if (stream != null) {
        stream.reset(ErrorCode.CANCEL, "flow closed");
      }
      finish(ErrorCode.CANCEL);
    });
  }

  private void finish(ErrorCode reason) {
    if (!closed) {
      closed = true;
      receiver.onClosed(this, reason);
    }
  }

  private final class Events implements StreamListener {
    @Override
    public void onDatagram(TrunkStream s, ByteBuf datagram) {
      if (closed) {
        datagram.release();
      } else {
        receiver.onDatagram(UdpFlow.this, datagram);
      }
    }

    @Override
    public void onData(TrunkStream s, ByteBuf data) {
      data.release();
    }

    @Override
    public void onFin(TrunkStream s) {}

    @Override
    public void onOpenFail(TrunkStream s, ErrorCode code, String message) {
      finish(code);
    }

    @Override
    public void onReset(TrunkStream s, ErrorCode code, String message) {
      finish(code);
    }
  }
}
