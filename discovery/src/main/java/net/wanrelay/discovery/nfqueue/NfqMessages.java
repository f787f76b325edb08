package net.wanrelay.discovery.nfqueue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds and parses the nfnetlink_queue messages (no I/O here, so all of it is unit-tested).
 * Netlink headers and attribute headers are in host byte order; the nfgenmsg resource id and the
 * queue attributes' fields are big-endian. Layouts in KERNEL-PATH.md and linux/netfilter/nfnetlink_queue.h.
 */
public final class NfqMessages {
  private NfqMessages() {}

  public static final int NLMSG_HDRLEN = 16;
  public static final int NLMSG_NOOP = 1;
  public static final int NLMSG_ERROR = 2;
  public static final int NLMSG_DONE = 3;
  public static final int NLM_F_REQUEST = 1;
  public static final int NLM_F_ACK = 4;

  public static final int NFNL_SUBSYS_QUEUE = 3;
  public static final int NFQNL_MSG_PACKET = 0;
  public static final int NFQNL_MSG_VERDICT = 1;
  public static final int NFQNL_MSG_CONFIG = 2;

  public static final int NFQNL_CFG_CMD_BIND = 1;
  public static final int NFQNL_CFG_CMD_UNBIND = 2;
  public static final int NFQA_CFG_CMD = 1;
  public static final int NFQA_CFG_PARAMS = 2;
  public static final int NFQA_CFG_QUEUE_MAXLEN = 3;
  public static final int NFQA_CFG_MASK = 4;
  public static final int NFQA_CFG_FLAGS = 5;
  public static final int NFQA_CFG_F_FAIL_OPEN = 1;
  public static final int NFQNL_COPY_PACKET = 2;

  public static final int NFQA_PACKET_HDR = 1;
  public static final int NFQA_VERDICT_HDR = 2;
  public static final int NFQA_MARK = 3;
  public static final int NFQA_PAYLOAD = 10;

  public static final int NF_DROP = 0;
  public static final int NF_ACCEPT = 1;

  static final int AF_UNSPEC = 0;
  static final int AF_INET = 2;
  private static final int NLA_TYPE_MASK = 0x3fff; // strips NLA_F_NESTED / NLA_F_NET_BYTEORDER

  /** A message received from the kernel. */
  public sealed interface Message {}

  /** A queued packet. {@code mark} is -1 when the kernel sent none. */
  public record Packet(int queue, long id, int hwProtocol, int hook, long mark, byte[] payload) implements Message {}

  /** NLMSG_ERROR: error 0 is an acknowledgement, otherwise a negative errno for request {@code seq}. */
  public record Ack(int seq, int error) implements Message {}

  /** Any other well-formed message (ignored). */
  public record Other(int type) implements Message {}

  /** A message that could not be read; parsing of the rest of the buffer stops. */
  public record Malformed(String reason) implements Message {}

  private static int align4(int n) {
    return (n + 3) & ~3;
  }

  /** Accumulates attributes, then wraps them in a netlink header and nfgenmsg. */
  private static final class Builder {
    private final ByteBuffer attrs = ByteBuffer.allocate(70_000).order(ByteOrder.nativeOrder());

    Builder attr(int type, byte[] value) {
      attrs.putShort((short) (4 + value.length)).putShort((short) type).put(value);
      for (int i = value.length; i < align4(value.length); i++) {
        attrs.put((byte) 0);
      }
      return this;
    }

    byte[] build(int msg, int flags, int seq, int family, int queue) {
      int len = NLMSG_HDRLEN + 4 + attrs.position();
      ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.nativeOrder());
      b.putInt(len).putShort((short) ((NFNL_SUBSYS_QUEUE << 8) | msg)).putShort((short) flags);
      b.putInt(seq).putInt(0);
      b.put((byte) family).put((byte) 0);
      b.order(ByteOrder.BIG_ENDIAN).putShort((short) queue);
      b.put(attrs.array(), 0, attrs.position());
      return b.array();
    }
  }

  private static byte[] be(int... u32s) {
    ByteBuffer b = ByteBuffer.allocate(4 * u32s.length);
    for (int v : u32s) {
      b.putInt(v);
    }
    return b.array();
  }

  /**
   * Binds the socket to {@code queue} and asks for whole packets up to {@code copyRange} bytes,
   * with fail-open (accept instead of drop when the queue is full). Requests an ACK.
   */
  public static byte[] bind(int queue, int seq, int copyRange, int maxLen) {
    byte[] cmd = {NFQNL_CFG_CMD_BIND, 0, 0, AF_INET};
    ByteBuffer params = ByteBuffer.allocate(5).putInt(copyRange).put((byte) NFQNL_COPY_PACKET);
    return new Builder()
        .attr(NFQA_CFG_CMD, cmd)
        .attr(NFQA_CFG_PARAMS, params.array())
        .attr(NFQA_CFG_QUEUE_MAXLEN, be(maxLen))
        .attr(NFQA_CFG_MASK, be(NFQA_CFG_F_FAIL_OPEN))
        .attr(NFQA_CFG_FLAGS, be(NFQA_CFG_F_FAIL_OPEN))
        .build(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, AF_UNSPEC, queue);
  }

  public static byte[] unbind(int queue, int seq) {
    byte[] cmd = {NFQNL_CFG_CMD_UNBIND, 0, 0, AF_INET};
    return new Builder().attr(NFQA_CFG_CMD, cmd)
        .build(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, AF_UNSPEC, queue);
  }

  /** A verdict for packet {@code id}; {@code payload} (nullable) replaces the packet. */
  public static byte[] verdict(int queue, long id, int verdict, byte[] payload) {
    Builder b = new Builder().attr(NFQA_VERDICT_HDR, be(verdict, (int) id));
    if (payload != null) {
      b.attr(NFQA_PAYLOAD, payload);
    }
    return b.build(NFQNL_MSG_VERDICT, NLM_F_REQUEST, 0, AF_UNSPEC, queue);
  }

  /** Parses every message in {@code buf[0..length)}; a malformed one ends the list. */
  public static List<Message> parse(byte[] buf, int length) {
    List<Message> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(buf, 0, Math.min(length, buf.length)).order(ByteOrder.nativeOrder());
    int pos = 0;
    int end = Math.min(length, buf.length);
    while (pos < end) {
      if (end - pos < NLMSG_HDRLEN) {
        out.add(new Malformed("trailing " + (end - pos) + " bytes, shorter than a netlink header"));
        break;
      }
      int len = b.getInt(pos);
      int type = b.getShort(pos + 4) & 0xffff;
      int seq = b.getInt(pos + 8);
      if (len < NLMSG_HDRLEN || len > end - pos) {
        out.add(new Malformed("netlink length " + len + " with " + (end - pos) + " bytes left"));
        break;
      }
      if (type == NLMSG_ERROR) {
        if (len < NLMSG_HDRLEN + 4) {
          out.add(new Malformed("NLMSG_ERROR without an error code"));
          break;
        }
        out.add(new Ack(seq, b.getInt(pos + NLMSG_HDRLEN)));
      } else if (type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
        Message m = parsePacket(buf, pos, len);
        out.add(m);
        if (m instanceof Malformed) {
          break;
        }
      } else {
        out.add(new Other(type));
      }
      pos += align4(len);
    }
    return out;
  }

  private static Message parsePacket(byte[] buf, int start, int len) {
    if (len < NLMSG_HDRLEN + 4) {
      return new Malformed("packet message without nfgenmsg");
    }
    ByteBuffer host = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
    ByteBuffer net = ByteBuffer.wrap(buf).order(ByteOrder.BIG_ENDIAN);
    int queue = net.getShort(start + NLMSG_HDRLEN + 2) & 0xffff;
    long id = -1;
    int hw = 0;
    int hook = -1;
    long mark = -1;
    byte[] payload = null;
    int pos = start + NLMSG_HDRLEN + 4;
    int end = start + len;
    while (pos + 4 <= end) {
      int alen = host.getShort(pos) & 0xffff;
      int atype = host.getShort(pos + 2) & NLA_TYPE_MASK;
      if (alen < 4 || pos + alen > end) {
        return new Malformed("attribute type " + atype + " length " + alen + " runs past its message");
      }
      int vlen = alen - 4;
      int v = pos + 4;
      switch (atype) {
        case NFQA_PACKET_HDR -> {
          if (vlen < 7) {
            return new Malformed("NFQA_PACKET_HDR of " + vlen + " bytes");
          }
          id = net.getInt(v) & 0xffffffffL;
          hw = net.getShort(v + 4) & 0xffff;
          hook = buf[v + 6] & 0xff;
        }
        case NFQA_MARK -> {
          if (vlen < 4) {
            return new Malformed("NFQA_MARK of " + vlen + " bytes");
          }
          mark = net.getInt(v) & 0xffffffffL;
        }
        case NFQA_PAYLOAD -> {
          payload = new byte[vlen];
          System.arraycopy(buf, v, payload, 0, vlen);
        }
        default -> { } // interfaces, timestamps, uid...: not needed
      }
      pos += align4(alen);
    }
    if (id < 0) {
      return new Malformed("packet message without NFQA_PACKET_HDR");
    }
    return new Packet(queue, id, hw, hook, mark, payload == null ? new byte[0] : payload);
  }
}
