package net.wanrelay.discovery.option;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.TcpOptionInserter;
import net.wanrelay.discovery.packet.TestPackets;
import org.junit.jupiter.api.Test;

class ProbeOptionCodecTest {
  private final ProbeOptionCodec codec = new ProbeOptionCodec(OptionFormat.DEFAULT);
  private final ProbeOptionCodec kind76 = new ProbeOptionCodec(OptionFormat.withoutExid(76));

  private static Inet4Address ip(String s) throws Exception {
    return (Inet4Address) InetAddress.getByName(s);
  }

  @Test
  void probeHasTheDocumentedBytes() {
    byte[] b = codec.encodeRequest(new ProbeRequest(1, 0x02, 0xc0ffee01L));
    assertThat(HexFormat.of().formatHex(b)).isEqualTo("fd0a" + "5752" + "11" + "02" + "c0ffee01");
    assertThat(codec.decodeRequest(b).value()).isEqualTo(new ProbeRequest(1, 2, 0xc0ffee01L));
  }

  @Test
  void probeWithoutExid() {
    byte[] b = kind76.encodeRequest(new ProbeRequest(1, 0, 0xffffffffL));
    assertThat(HexFormat.of().formatHex(b)).isEqualTo("4c08" + "11" + "00" + "ffffffff");
    assertThat(kind76.decodeRequest(b).value().nonce()).isEqualTo(0xffffffffL);
  }

  @Test
  void responseHasTheDocumentedBytesAndRoundTrips() throws Exception {
    ProbeResponse r = new ProbeResponse(1, 0, 7800, List.of(ip("10.9.2.2"), ip("10.9.2.3"), ip("10.9.2.4")));
    byte[] b = codec.encodeResponse(r);
    assertThat(HexFormat.of().formatHex(b))
        .isEqualTo("fd14" + "5752" + "12" + "00" + "1e78" + "0a090202" + "0a090203" + "0a090204");
    assertThat(b).hasSize(ProbeOptionCodec.RESPONSE_SPACE);
    ProbeResponse back = codec.decodeResponse(b).value();
    assertThat(back).isEqualTo(r);
    assertThat(back.peers()).containsExactly(new InetSocketAddress("10.9.2.2", 7800),
        new InetSocketAddress("10.9.2.3", 7800), new InetSocketAddress("10.9.2.4", 7800));
  }

  @Test
  void aFullResponseFitsALinuxSynAck() throws Exception {
    ProbeResponse r = new ProbeResponse(1, 0, 7800, List.of(ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")));
    for (ProbeOptionCodec c : List.of(codec, kind76)) {
      byte[] synAck = TestPackets.synAck("10.9.3.2", 80, "10.9.1.2", 40000, TestPackets.LINUX_SYNACK_OPTIONS);
      TcpOptionInserter.Result res = TcpOptionInserter.insert(synAck, c.encodeResponse(r));
      assertThat(res.changed()).as(res.reason()).isTrue();
      Ipv4TcpPacket p = Ipv4TcpPacket.parse(res.packet()).value();
      assertThat(c.decodeResponse(c.findOurs(p.options().value()).orElseThrow()).value()).isEqualTo(r);
    }
  }

  @Test
  void tooManyAddressesIsRefusedAtConstruction() throws Exception {
    Inet4Address a = ip("10.0.0.1");
    assertThatThrownBy(() -> new ProbeResponse(1, 0, 7800, List.of(a, a, a, a)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1..3");
  }

  @Test
  void findsOursOnlyWithOurExid() {
    byte[] other = HexFormat.of().parseHex("fd0a123411000000000a");
    byte[] syn = TestPackets.syn("1.1.1.1", 1, "2.2.2.2", 2, other);
    Ipv4TcpPacket p = Ipv4TcpPacket.parse(syn).value();
    assertThat(codec.findOurs(p.options().value())).isEmpty();
    byte[] ours = TcpOptionInserter.insert(syn, codec.encodeRequest(new ProbeRequest(1, 0, 5))).packet();
    assertThat(codec.findOurs(Ipv4TcpPacket.parse(ours).value().options().value())).isPresent();
  }

  @Test
  void malformedOptionsGiveClearErrors() {
    assertThat(codec.decodeRequest(new byte[] {(byte) 253}).error()).contains("too short");
    assertThat(codec.decodeRequest(hex("fe0a575211000000000a")).error()).contains("kind 254");
    assertThat(codec.decodeRequest(hex("fd0b575211000000000a")).error()).contains("length byte 11");
    assertThat(codec.decodeRequest(hex("fd0a123411000000000a")).error()).contains("ExID 0x1234");
    assertThat(codec.decodeRequest(hex("fd0a575221000000000a")).error()).contains("unsupported version 2");
    assertThat(codec.decodeRequest(hex("fd0a575212000000000a")).error()).contains("type 2");
    assertThat(codec.decodeRequest(hex("fd08575211000000")).error()).contains("expected 10");
    assertThat(codec.decodeResponse(hex("fd0a575211000000000a")).error()).contains("type 1");
    assertThat(codec.decodeResponse(hex("fd08575212001e78")).error()).contains("positive multiple");
    assertThat(codec.decodeResponse(hex("fd0a575212001e780a0902")).error()).contains("length byte 10");
    assertThat(codec.decodeResponse(hex("fd0b575212001e780a090202")).error()).contains("length byte 11");
    assertThat(codec.decodeResponse(hex("fd0c5752120000000a090202")).error()).contains("port 0");
    assertThat(codec.decodeResponse(hex("fd0c575212001e78e0000001")).error()).contains("not a unicast");
    assertThat(codec.decodeResponse(hex("fd185752120000010a0000010a0000020a0000030a000004")).error())
        .contains("4 addresses");
  }

  @Test
  void everyCorruptionDecodesToAResultNeverAnException() {
    byte[] good = codec.encodeResponse(new ProbeResponse(1, 0, 1, List.of(loopback())));
    for (int len = 0; len <= good.length; len++) {
      byte[] cut = java.util.Arrays.copyOf(good, len);
      assertThat(codec.decodeResponse(cut).isOk()).isEqualTo(len == good.length);
      codec.decodeRequest(cut);
    }
    for (int i = 0; i < good.length; i++) {
      for (int v = 0; v < 256; v += 17) {
        byte[] m = good.clone();
        m[i] = (byte) v;
        codec.decodeResponse(m);
        kind76.decodeResponse(m);
        codec.decodeRequest(m);
      }
    }
  }

  @Test
  void formatValidation() {
    assertThatThrownBy(() -> OptionFormat.withoutExid(253)).hasMessageContaining("ExID");
    assertThatThrownBy(() -> new OptionFormat(1, 0)).hasMessageContaining("2..255");
    assertThat(new OptionFormat(254, 0x1234).headerLength()).isEqualTo(4);
  }

  private static Inet4Address loopback() {
    try {
      return ip("127.0.0.1");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static byte[] hex(String h) {
    return HexFormat.of().parseHex(h);
  }
}
