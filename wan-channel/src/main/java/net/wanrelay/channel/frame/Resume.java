package net.wanrelay.channel.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * RESUME payload: the first frame each side sends on a connection that negotiated resumption.
 * It says which stream id the sender opens next and, per stream it kept from the lost
 * connection, how far it received and how far the peer may send.
 *
 * <pre>
 * next-local-id:32  count:32  then count x (stream-id:32 flags:8 received:64 limit:64)
 * </pre>
 *
 * @param nextLocalId the next stream id the sender will open (its parity), so the receiver can
 *     tell a stream that ended from one that never existed
 */
public record Resume(int nextLocalId, List<Entry> entries) {
  public static final int HEADER = 8;
  public static final int ENTRY = 21;
  /** Flag: the sender received the peer's FIN of this stream. */
  public static final int FLAG_FIN_RECEIVED = 1;
  /** Flag: the stream is open on the sender's side (the acceptor sent OPEN_ACK). */
  public static final int FLAG_OPEN = 2;

  /**
   * One kept stream.
   *
   * @param received plain bytes of the stream the sender received so far (the resend offset)
   * @param limit absolute offset up to which the peer may send (received + free credit)
   */
  public record Entry(int streamId, int flags, long received, long limit) {
    public boolean finReceived() { return (flags & FLAG_FIN_RECEIVED) != 0; }
    public boolean open() { return (flags & FLAG_OPEN) != 0; }
  }

  /** Most entries that fit one frame of {@code maxPayload} bytes. */
  public static int maxEntries(int maxPayload) {
    return (maxPayload - HEADER) / ENTRY;
  }

  public ByteBuf encode(ByteBufAllocator alloc) {
    ByteBuf b = alloc.buffer(HEADER + ENTRY * entries.size());
    b.writeInt(nextLocalId).writeInt(entries.size());
    for (Entry e : entries) {
      b.writeInt(e.streamId()).writeByte(e.flags()).writeLong(e.received()).writeLong(e.limit());
    }
    return b;
  }

  /** Parses and checks the layout; the offsets are checked against stream state by the caller. */
  public static Resume decode(ByteBuf b) {
    if (b.readableBytes() < HEADER) {
      throw new ProtocolViolation("bad_resume", "RESUME payload " + b.readableBytes() + " bytes");
    }
    int i = b.readerIndex();
    int next = b.getInt(i);
    int count = b.getInt(i + 4);
    if (count < 0 || (long) count * ENTRY != b.readableBytes() - HEADER) {
      throw new ProtocolViolation("bad_resume", "RESUME with " + Integer.toUnsignedString(count) + " entries in "
          + b.readableBytes() + " bytes");
    }
    List<Entry> entries = new ArrayList<>(count);
    for (int k = 0, o = i + HEADER; k < count; k++, o += ENTRY) {
      long received = b.getLong(o + 5);
      long limit = b.getLong(o + 13);
      if (received < 0 || limit < received) {
        throw new ProtocolViolation(ErrorCode.FLOW_CONTROL, "bad_resume", "RESUME offsets " + Long.toUnsignedString(received)
            + " / " + Long.toUnsignedString(limit));
      }
      entries.add(new Entry(b.getInt(o), b.getUnsignedByte(o + 4), received, limit));
    }
    return new Resume(next, entries);
  }
}
