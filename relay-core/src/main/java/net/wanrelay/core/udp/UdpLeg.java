package net.wanrelay.core.udp;

import io.netty.buffer.ByteBuf;

/** The far side of one UDP flow: a connected socket to the target, or a flow on the trunk. */
public interface UdpLeg {
  /** Sends one datagram's payload; takes ownership of {@code payload}. Returns false if dropped. */
  boolean send(ByteBuf payload);

  void close();

  /** Receives datagrams coming back to the client of a flow. */
  interface Replies {
    /** Called on the listener's event loop; takes ownership of {@code payload}. */
    void reply(ByteBuf payload);

    /** The leg failed or ended on its own; the flow is dropped. */
    void closed(String reason);
  }
}
