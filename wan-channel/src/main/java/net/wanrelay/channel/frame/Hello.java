package net.wanrelay.channel.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * HELLO payload: versions, role, nonce, capabilities and receive limits of the sender.
 *
 * @param role 0 = connection initiator, 1 = acceptor
 * @param capabilities bit set, see {@code CAP_*}
 * @param initialWindow per-stream credit the sender grants each new stream (bytes)
 * @param maxStreams most concurrent streams the sender accepts from its peer
 * @param incarnation random id of the sender's node instance (a restarted node has a new one);
 *     0 when the sender does not resume streams
 * @param resumeToken initiator: id of the logical connection this one replaces (kept across
 *     reconnects of one connection slot); acceptor: 0
 */
public record Hello(int minVersion, int maxVersion, int role, byte[] nonce, int capabilities,
    int initialWindow, int maxStreams, String nodeId, long incarnation, long resumeToken) {
  public static final int NONCE_LENGTH = 32;
  public static final int ROLE_INITIATOR = 0;
  public static final int ROLE_ACCEPTOR = 1;
  public static final int CAP_LZ4 = 1;
  public static final int CAP_ZSTD = 1 << 1;
  public static final int CAP_UDP = 1 << 2;
  /** The node keeps chunk stores and accepts de-duplicated streams (OPEN option DEDUP). */
  public static final int CAP_DEDUP = 1 << 3;
  /** The node keeps replay buffers and resumes streams after a lost connection (RESUME frame). */
  public static final int CAP_RESUME = 1 << 4;
  /** The node understands ANNOUNCE frames (a peer's trunk address, docs/PROTOCOL.md). */
  public static final int CAP_ANNOUNCE = 1 << 5;
  public static final int MAX_NODE_ID = 64;

  /** A HELLO without resume identity (incarnation and token 0). */
  public Hello(int minVersion, int maxVersion, int role, byte[] nonce, int capabilities,
      int initialWindow, int maxStreams, String nodeId) {
    this(minVersion, maxVersion, role, nonce, capabilities, initialWindow, maxStreams, nodeId, 0, 0);
  }

  public ByteBuf encode(ByteBufAllocator alloc) {
    byte[] id = nodeId.getBytes(StandardCharsets.UTF_8);
    ByteBuf b = alloc.buffer(4 + NONCE_LENGTH + 12 + 1 + id.length + 16);
    b.writeByte(minVersion).writeByte(maxVersion).writeByte(role).writeByte(0);
    b.writeBytes(nonce);
    b.writeInt(capabilities).writeInt(initialWindow).writeInt(maxStreams);
    b.writeByte(id.length).writeBytes(id);
    b.writeLong(incarnation).writeLong(resumeToken);
    return b;
  }

  public static Hello decode(ByteBuf b) {
    try {
      int min = b.readUnsignedByte();
      int max = b.readUnsignedByte();
      int role = b.readUnsignedByte();
      b.skipBytes(1);
      byte[] nonce = new byte[NONCE_LENGTH];
      b.readBytes(nonce);
      int caps = b.readInt();
      int window = b.readInt();
      int maxStreams = b.readInt();
      int idLen = b.readUnsignedByte();
      if (idLen == 0 || idLen > MAX_NODE_ID) {
        throw new ProtocolViolation("bad_hello", "node id length " + idLen);
      }
      String id = b.readCharSequence(idLen, StandardCharsets.UTF_8).toString();
      // Optional trailer (older senders omit it): resume identity.
      long incarnation = 0;
      long token = 0;
      if (b.readableBytes() >= 16) {
        incarnation = b.readLong();
        token = b.readLong();
      }
      if (role > 1 || min > max || window <= 0 || maxStreams <= 0) {
        throw new ProtocolViolation("bad_hello", "role/version/window out of range");
      }
      return new Hello(min, max, role, nonce, caps, window, maxStreams, id, incarnation, token);
    } catch (IndexOutOfBoundsException e) {
      throw new ProtocolViolation("bad_hello", "truncated HELLO");
    }
  }
}
