package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import net.wanrelay.channel.frame.ErrorCode;

/**
 * Events of one {@link TrunkStream}, always called on the stream's event loop (the trunk
 * connection's). Buffers handed in are owned by the listener.
 */
public interface StreamListener {
  /** The far side connected its leg (reply to our OPEN). */
  default void onOpenAck(TrunkStream stream) {}

  /** The far side refused our OPEN; the stream is closed. */
  default void onOpenFail(TrunkStream stream, ErrorCode code, String message) {}

  /**
   * Stream payload (already decompressed). Call {@link TrunkStream#consumed(int)} with its size
   * once it was written out to the local socket; that returns credit to the sender.
   */
  void onData(TrunkStream stream, ByteBuf data);

  /** One datagram of a UDP flow (no credit involved). */
  default void onDatagram(TrunkStream stream, ByteBuf datagram) {
    datagram.release();
  }

  /** The far side will send no more data (half-close). */
  void onFin(TrunkStream stream);

  /** The stream was aborted by the far side, by the connection going away, or by expiry. */
  void onReset(TrunkStream stream, ErrorCode code, String message);

  /** The stream can take more data again (credit arrived, trunk writable). */
  default void onWritable(TrunkStream stream) {}

  /** Both directions finished cleanly; the stream is gone. */
  default void onClosed(TrunkStream stream) {}

  /**
   * True when this listener can follow its stream to another event loop, so the stream may
   * survive the loss of its trunk connection (suspend, then resume on a new connection).
   * Listeners that return false see {@link #onReset} with {@code connection_lost} instead.
   */
  default boolean resumable() { return false; }

  /**
   * Called on the old loop when a suspended stream moves to a new connection on {@code loop};
   * from then on every call to the stream must happen on {@code loop}.
   */
  default void onMoved(TrunkStream stream, io.netty.channel.EventLoop loop) {}
}
