package net.wanrelay.discovery.nfqueue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class NfqMessagesTest {
  private static final boolean LE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

  @Test
  void bindMessageLayout() {
    byte[] m = NfqMessages.bind(7, 1, 0xffff, 1024);
    ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.nativeOrder());
    assertThat(b.getInt(0)).isEqualTo(m.length);
    assertThat(b.getShort(4)).isEqualTo((short) 0x0302); // QUEUE subsystem, CONFIG
    assertThat(b.getShort(6)).isEqualTo((short) 5); // REQUEST | ACK
    assertThat(b.getInt(8)).isEqualTo(1);
    assertThat(m[16]).isZero(); // AF_UNSPEC
    assertThat(m[18]).isZero();
    assertThat(m[19]).isEqualTo((byte) 7); // queue, big-endian
    // NFQA_CFG_CMD: len 8, type 1, {BIND, pad, pf=AF_INET big-endian}
    assertThat(b.getShort(20)).isEqualTo((short) 8);
    assertThat(b.getShort(22)).isEqualTo((short) 1);
    assertThat(HexFormat.of().formatHex(m, 24, 28)).isEqualTo("01000002");
    // NFQA_CFG_PARAMS: len 9 (padded to 12), type 2, copy_range BE, mode 2
    assertThat(b.getShort(28)).isEqualTo((short) 9);
    assertThat(b.getShort(30)).isEqualTo((short) 2);
    assertThat(HexFormat.of().formatHex(m, 32, 37)).isEqualTo("0000ffff02");
    assertThat(m.length).isEqualTo(20 + 8 + 12 + 8 + 8 + 8);
  }

  @Test
  void verdictMessageLayoutWithAndWithoutPayload() {
    byte[] plain = NfqMessages.verdict(9, 0x01020304L, NfqMessages.NF_ACCEPT, null);
    ByteBuffer b = ByteBuffer.wrap(plain).order(ByteOrder.nativeOrder());
    assertThat(plain).hasSize(32);
    assertThat(b.getShort(4)).isEqualTo((short) 0x0301);
    assertThat(plain[19]).isEqualTo((byte) 9);
    assertThat(b.getShort(20)).isEqualTo((short) 12);
    assertThat(b.getShort(22)).isEqualTo((short) 2);
    assertThat(HexFormat.of().formatHex(plain, 24, 32)).isEqualTo("00000001" + "01020304");
    byte[] withPayload = NfqMessages.verdict(9, 5, NfqMessages.NF_ACCEPT, new byte[] {1, 2, 3, 4, 5});
    ByteBuffer w = ByteBuffer.wrap(withPayload).order(ByteOrder.nativeOrder());
    assertThat(withPayload).hasSize(32 + 12);
    assertThat(w.getShort(32)).isEqualTo((short) 9);
    assertThat(w.getShort(34)).isEqualTo((short) 10);
    assertThat(HexFormat.of().formatHex(withPayload, 36, 41)).isEqualTo("0102030405");
  }

  @Test
  void parsesPacketsAndAcksInOneDatagram() {
    byte[] payload = HexFormat.of().parseHex("4500002c");
    byte[] d = NfqTestMessages.concat(NfqTestMessages.ack(1, 0),
        NfqTestMessages.packet(7, 42, 0x77, payload), NfqTestMessages.packet(7, 43, -1, new byte[3]));
    List<NfqMessages.Message> ms = NfqMessages.parse(d, d.length);
    assertThat(ms).hasSize(3);
    assertThat(ms.get(0)).isEqualTo(new NfqMessages.Ack(1, 0));
    NfqMessages.Packet p = (NfqMessages.Packet) ms.get(1);
    assertThat(p.queue()).isEqualTo(7);
    assertThat(p.id()).isEqualTo(42);
    assertThat(p.mark()).isEqualTo(0x77);
    assertThat(p.hwProtocol()).isEqualTo(0x0800);
    assertThat(p.hook()).isEqualTo(3);
    assertThat(p.payload()).isEqualTo(payload);
    NfqMessages.Packet q = (NfqMessages.Packet) ms.get(2);
    assertThat(q.mark()).isEqualTo(-1);
    assertThat(q.payload()).hasSize(3);
  }

  @Test
  void oddMessagesAreReportedNotThrown() {
    byte[] good = NfqTestMessages.packet(7, 1, 1, new byte[20]);
    // truncated datagram: header says more than there is
    assertThat(NfqMessages.parse(good, good.length - 4).get(0)).isInstanceOf(NfqMessages.Malformed.class);
    // shorter than a header
    assertThat(NfqMessages.parse(new byte[10], 10).get(0)).isInstanceOf(NfqMessages.Malformed.class);
    // zero length field (would loop forever if trusted)
    assertThat(NfqMessages.parse(new byte[32], 32).get(0)).isInstanceOf(NfqMessages.Malformed.class);
    // attribute length past the message
    byte[] badAttr = good.clone();
    ByteBuffer.wrap(badAttr).order(ByteOrder.nativeOrder()).putShort(20, (short) 500);
    assertThat(((NfqMessages.Malformed) NfqMessages.parse(badAttr, badAttr.length).get(0)).reason())
        .contains("runs past");
    // packet without header attribute
    ByteBuffer attrs = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
    NfqTestMessages.attr(attrs, NfqMessages.NFQA_PAYLOAD, new byte[4]);
    byte[] noHdr = NfqTestMessages.wrap(3 << 8, 0, 7, attrs);
    assertThat(((NfqMessages.Malformed) NfqMessages.parse(noHdr, noHdr.length).get(0)).reason())
        .contains("without NFQA_PACKET_HDR");
    // unknown message types are passed over
    byte[] other = NfqTestMessages.wrap(0x0105, 0, 0, ByteBuffer.allocate(0));
    assertThat(NfqMessages.parse(other, other.length).get(0)).isEqualTo(new NfqMessages.Other(0x0105));
    assertThat(LE || !LE).isTrue();
  }

  @Test
  void everyTruncationAndCorruptionParsesWithoutThrowing() {
    byte[] d = NfqTestMessages.concat(NfqTestMessages.ack(1, -1), NfqTestMessages.packet(7, 42, 0x77, new byte[40]));
    for (int len = 0; len <= d.length; len++) {
      assertThat(NfqMessages.parse(d, len)).isNotNull();
    }
    for (int i = 0; i < d.length; i++) {
      for (int v : new int[] {0, 0xff, 0x7f, 3}) {
        byte[] m = d.clone();
        m[i] = (byte) v;
        assertThat(NfqMessages.parse(m, m.length)).isNotNull();
      }
    }
  }
}
