package net.wanrelay.discovery.packet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class TcpOptionInserterTest {
  private static final byte[] PROBE = HexFormat.of().parseHex("fd0a57521100c0ffee01");

  private static void assertChecksumsIndependentlyValid(byte[] p) {
    int ihl = (p[0] & 0x0f) * 4;
    assertThat(TestPackets.storedIpChecksum(p)).isEqualTo(TestPackets.referenceChecksum(p, 0, ihl, 10));
    assertThat(TestPackets.storedTcpChecksum(p)).isEqualTo(TestPackets.referenceTcpChecksum(p));
  }

  @Test
  void insertsAfterLinuxSynOptionsWithNopPadding() {
    byte[] syn = TestPackets.syn("10.9.1.2", 40000, "10.9.3.2", 80, TestPackets.LINUX_SYN_OPTIONS);
    TcpOptionInserter.Result r = TcpOptionInserter.insert(syn, PROBE);
    assertThat(r.changed()).isTrue();
    byte[] out = r.packet();
    assertThat(out).hasSize(60 + 12);
    assertThat(((out[2] & 0xff) << 8) | (out[3] & 0xff)).isEqualTo(72);
    assertThat((out[32] & 0xf0) >>> 4).isEqualTo(13); // 52-byte TCP header
    // the existing 20 option bytes, then 2 NOPs, then the probe
    assertThat(Arrays.copyOfRange(out, 40, 60)).isEqualTo(TestPackets.LINUX_SYN_OPTIONS);
    assertThat(Arrays.copyOfRange(out, 60, 62)).containsExactly(1, 1);
    assertThat(Arrays.copyOfRange(out, 62, 72)).isEqualTo(PROBE);
    // everything else is untouched: addresses, ports, seq, flags, window
    assertThat(Arrays.copyOfRange(out, 12, 20)).isEqualTo(Arrays.copyOfRange(syn, 12, 20));
    assertThat(Arrays.copyOfRange(out, 20, 32)).isEqualTo(Arrays.copyOfRange(syn, 20, 32));
    assertThat(out[33]).isEqualTo(syn[33]);
    assertChecksumsIndependentlyValid(out);
    Ipv4TcpPacket parsed = Ipv4TcpPacket.parse(out).value();
    assertThat(parsed.checksumsValid()).isTrue();
    assertThat(parsed.options().value().find(253).orElseThrow().bytes()).isEqualTo(PROBE);
  }

  @Test
  void insertsIntoASegmentWithoutOptions() {
    byte[] syn = TestPackets.syn("1.2.3.4", 1, "5.6.7.8", 2, new byte[0]);
    byte[] out = TcpOptionInserter.insert(syn, PROBE).packet();
    assertThat(out).hasSize(52);
    assertThat(Arrays.copyOfRange(out, 40, 42)).containsExactly(1, 1);
    assertChecksumsIndependentlyValid(out);
  }

  @Test
  void alignedOptionNeedsNoPadding() {
    byte[] syn = TestPackets.syn("1.2.3.4", 1, "5.6.7.8", 2, TestPackets.LINUX_SYN_OPTIONS);
    byte[] opt = HexFormat.of().parseHex("fd0c5752120002001e0a0202"); // 12 bytes
    byte[] out = TcpOptionInserter.insert(syn, opt).packet();
    assertThat(out).hasSize(72);
    assertThat(Arrays.copyOfRange(out, 60, 72)).isEqualTo(opt);
    assertChecksumsIndependentlyValid(out);
  }

  @Test
  void fillsTheOptionAreaExactlyToForty() {
    byte[] syn = TestPackets.synAck("10.0.0.1", 80, "10.0.0.2", 5555, TestPackets.LINUX_SYNACK_OPTIONS);
    byte[] opt = new byte[20];
    opt[0] = (byte) 253;
    opt[1] = 20;
    byte[] out = TcpOptionInserter.insert(syn, opt).packet();
    assertThat((out[32] & 0xf0) >>> 4).isEqualTo(15);
    assertChecksumsIndependentlyValid(out);
  }

  @Test
  void refusesWhenThereIsNoRoomAndReturnsTheSameBytes() {
    byte[] syn = TestPackets.syn("1.2.3.4", 1, "5.6.7.8", 2, TestPackets.LINUX_SYN_OPTIONS);
    byte[] opt = new byte[21];
    opt[0] = (byte) 253;
    opt[1] = 21;
    TcpOptionInserter.Result r = TcpOptionInserter.insert(syn, opt);
    assertThat(r.changed()).isFalse();
    assertThat(r.packet()).isSameAs(syn);
    assertThat(r.reason()).contains("no room");
  }

  @Test
  void refusesAFullOptionArea() {
    byte[] full = new byte[40];
    Arrays.fill(full, (byte) 1);
    byte[] syn = TestPackets.syn("1.2.3.4", 1, "5.6.7.8", 2, full);
    TcpOptionInserter.Result r = TcpOptionInserter.insert(syn, new byte[] {(byte) 253, 4, 0, 0});
    assertThat(r.changed()).isFalse();
    assertThat(r.reason()).contains("no room");
  }

  @Test
  void insertsBeforeEndOfListPadding() {
    byte[] opts = HexFormat.of().parseHex("020405b4000000000000"); // MSS, EOL, padding
    byte[] syn = TestPackets.syn("1.2.3.4", 1, "5.6.7.8", 2, opts);
    byte[] out = TcpOptionInserter.insert(syn, PROBE).packet();
    TcpOptions parsed = Ipv4TcpPacket.parse(out).value().options().value();
    assertThat(parsed.options()).extracting(TcpOption::kind).containsExactly(2, 1, 1, 253);
    assertThat(out).hasSize(40 + 16);
    assertChecksumsIndependentlyValid(out);
  }

  @Test
  void keepsIpOptionsAndPayload() {
    byte[] ipOpts = {(byte) 0x94, 0x04, 0x00, 0x00};
    byte[] payload = "GET / HTTP/1.0\r\n\r\n".getBytes();
    byte[] syn = TestPackets.packet("10.0.0.1", 1000, "10.0.0.2", 80, 0x02, ipOpts, TestPackets.LINUX_SYN_OPTIONS, payload);
    byte[] out = TcpOptionInserter.insert(syn, PROBE).packet();
    assertThat(out).hasSize(syn.length + 12);
    assertThat(Arrays.copyOfRange(out, 20, 24)).isEqualTo(ipOpts);
    assertThat(Arrays.copyOfRange(out, out.length - payload.length, out.length)).isEqualTo(payload);
    assertChecksumsIndependentlyValid(out);
    assertThat(Ipv4TcpPacket.parse(out).value().ipHeaderLength()).isEqualTo(24);
  }

  @Test
  void refusesTruncatedAndBadInput() {
    byte[] syn = TestPackets.syn("1.2.3.4", 1, "5.6.7.8", 2, TestPackets.LINUX_SYN_OPTIONS);
    byte[] cut = Arrays.copyOf(syn, 50);
    TcpOptionInserter.Result r = TcpOptionInserter.insert(cut, PROBE);
    assertThat(r.changed()).isFalse();
    assertThat(r.reason()).contains("truncated");
    assertThat(TcpOptionInserter.insert(syn, new byte[] {(byte) 253, 9, 0}).reason()).contains("option encoding");
  }
}
