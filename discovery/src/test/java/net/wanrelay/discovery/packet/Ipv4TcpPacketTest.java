package net.wanrelay.discovery.packet;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Ipv4TcpPacketTest {
  private final byte[] syn = TestPackets.syn("10.9.1.2", 40000, "10.9.3.2", 80, TestPackets.LINUX_SYN_OPTIONS);

  @Test
  void readsAddressesPortsFlagsAndOptions() {
    Ipv4TcpPacket p = Ipv4TcpPacket.parse(syn).value();
    assertThat(p.sourceSocket()).isEqualTo(new InetSocketAddress("10.9.1.2", 40000));
    assertThat(p.destinationSocket()).isEqualTo(new InetSocketAddress("10.9.3.2", 80));
    assertThat(p.isSyn()).isTrue();
    assertThat(p.isSynAck()).isFalse();
    assertThat(p.tcpHeaderLength()).isEqualTo(40);
    assertThat(p.length()).isEqualTo(60);
    assertThat(p.checksumsValid()).isTrue();
    assertThat(p.options().value().options()).hasSize(5);
  }

  @Test
  void parsesFromAByteBufferWithoutMovingIt() {
    ByteBuffer bb = ByteBuffer.allocate(100);
    bb.put(syn).flip();
    assertThat(Ipv4TcpPacket.parse(bb).value().destinationPort()).isEqualTo(80);
    assertThat(bb.position()).isZero();
  }

  @Test
  void dropsTrailingBytesPastTotalLength() {
    byte[] padded = Arrays.copyOf(syn, syn.length + 6);
    assertThat(Ipv4TcpPacket.parse(padded).value().length()).isEqualTo(60);
  }

  @Test
  void headersOnlyTakesLengthsFromTheHeadersNotTheBuffer() {
    byte[] big = Arrays.copyOf(syn, 512); // what TCP_SAVED_SYN hands back
    Ipv4TcpPacket p = Ipv4TcpPacket.parseHeaders(big, 0, big.length).value();
    assertThat(p.length()).isEqualTo(60);
    assertThat(p.headersOnly()).isTrue();
  }

  @Test
  void handlesIpOptions() {
    byte[] ipOpts = {(byte) 0x94, 0x04, 0x00, 0x00}; // router alert
    byte[] p = TestPackets.packet("10.0.0.1", 1, "10.0.0.2", 2, 0x02, ipOpts, TestPackets.LINUX_SYN_OPTIONS, new byte[0]);
    Ipv4TcpPacket parsed = Ipv4TcpPacket.parse(p).value();
    assertThat(parsed.ipHeaderLength()).isEqualTo(24);
    assertThat(parsed.destinationPort()).isEqualTo(2);
    assertThat(parsed.checksumsValid()).isTrue();
  }

  @Test
  void rejectsTruncatedPackets() {
    for (int len : new int[] {0, 10, 19, 20, 39, 59}) {
      ParseResult<Ipv4TcpPacket> r = Ipv4TcpPacket.parse(syn, 0, len);
      assertThat(r.isOk()).as("length %d", len).isFalse();
      assertThat(r.error()).contains("truncated");
    }
  }

  @Test
  void rejectsNonIpv4NonTcpAndFragments() {
    byte[] v6 = syn.clone();
    v6[0] = 0x60;
    assertThat(Ipv4TcpPacket.parse(v6).error()).contains("not IPv4");
    byte[] udp = syn.clone();
    udp[9] = 17;
    assertThat(Ipv4TcpPacket.parse(udp).error()).contains("not TCP");
    byte[] frag = syn.clone();
    frag[6] = 0x20; // more fragments
    assertThat(Ipv4TcpPacket.parse(frag).error()).contains("fragment");
  }

  @Test
  void rejectsBadHeaderLengths() {
    byte[] shortIhl = syn.clone();
    shortIhl[0] = 0x44;
    assertThat(Ipv4TcpPacket.parse(shortIhl).error()).contains("below 20");
    byte[] doff = syn.clone();
    doff[32] = (byte) 0xf0; // 60-byte TCP header in a 60-byte packet
    assertThat(Ipv4TcpPacket.parse(doff).error()).contains("runs past");
    byte[] smallDoff = syn.clone();
    smallDoff[32] = 0x40;
    assertThat(Ipv4TcpPacket.parse(smallDoff).error()).contains("below 20");
  }

  @Test
  void rejectsMalformedOptionsInside() {
    byte[] p = syn.clone();
    p[41] = 0x00; // MSS length byte 0
    assertThat(Ipv4TcpPacket.parse(p).error()).contains("bad TCP options");
  }

  @Test
  void survivesEveryTruncationAndByteFlipWithoutThrowing() {
    for (int len = 0; len <= syn.length; len++) {
      Ipv4TcpPacket.parse(syn, 0, len);
      Ipv4TcpPacket.parseHeaders(syn, 0, len);
    }
    for (int i = 0; i < syn.length; i++) {
      for (int v : new int[] {0x00, 0xff, 0x01, 0x7f}) {
        byte[] m = syn.clone();
        m[i] = (byte) v;
        ParseResult<Ipv4TcpPacket> r = Ipv4TcpPacket.parse(m);
        assertThat(r.isOk() || r.error() != null).isTrue();
        TcpOptionInserter.insert(m, new byte[] {(byte) 253, 4, 0x57, 0x52});
      }
    }
  }
}
