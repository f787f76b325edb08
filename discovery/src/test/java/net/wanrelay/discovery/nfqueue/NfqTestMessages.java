package net.wanrelay.discovery.nfqueue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Builds kernel-side messages (PACKET, ACK) the way nfnetlink_queue lays them out. */
final class NfqTestMessages {
  private NfqTestMessages() {}

  static byte[] packet(int queue, long id, long mark, byte[] payload) {
    ByteBuffer attrs = ByteBuffer.allocate(payload.length + 64).order(ByteOrder.nativeOrder());
    attr(attrs, NfqMessages.NFQA_PACKET_HDR,
        ByteBuffer.allocate(7).putInt((int) id).putShort((short) 0x0800).put((byte) 3).array());
    attr(attrs, 0x4000 | 4, new byte[] {0, 0, 0, 2}); // NLA_F_NET_BYTEORDER-flagged ifindex: ignored
    if (mark >= 0) {
      attr(attrs, NfqMessages.NFQA_MARK, ByteBuffer.allocate(4).putInt((int) mark).array());
    }
    attr(attrs, NfqMessages.NFQA_PAYLOAD, payload);
    return wrap((3 << 8), 0, queue, attrs);
  }

  static byte[] ack(int seq, int error) {
    ByteBuffer b = ByteBuffer.allocate(36).order(ByteOrder.nativeOrder());
    b.putInt(36).putShort((short) NfqMessages.NLMSG_ERROR).putShort((short) 0).putInt(seq).putInt(0);
    b.putInt(error);
    return b.array();
  }

  static void attr(ByteBuffer b, int type, byte[] v) {
    b.putShort((short) (4 + v.length)).putShort((short) type).put(v);
    while (b.position() % 4 != 0) {
      b.put((byte) 0);
    }
  }

  static byte[] wrap(int type, int seq, int queue, ByteBuffer attrs) {
    int len = 20 + attrs.position();
    ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.nativeOrder());
    b.putInt(len).putShort((short) type).putShort((short) 0).putInt(seq).putInt(0);
    b.put((byte) 2).put((byte) 0).order(ByteOrder.BIG_ENDIAN).putShort((short) queue);
    b.put(attrs.array(), 0, attrs.position());
    return b.array();
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += (p.length + 3) / 4 * 4;
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) {
      b.put(p);
      b.position((b.position() + 3) / 4 * 4);
    }
    return b.array();
  }
}
