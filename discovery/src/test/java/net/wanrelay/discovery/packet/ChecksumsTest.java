package net.wanrelay.discovery.packet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ChecksumsTest {
  @Test
  void ipv4HeaderChecksumMatchesAKnownHeader() {
    // RFC 1071-style worked example: the classic header from Wikipedia's IPv4 checksum page.
    byte[] h = HexFormat.of().parseHex("450000730000400040110000c0a80001c0a800c7");
    assertThat(Checksums.ipv4Header(h, 0, 20)).isEqualTo(0xb861);
  }

  @Test
  void tcpChecksumAgreesWithTheReferenceForOddLengths() {
    byte[] p = TestPackets.packet("10.0.0.1", 1234, "10.0.0.2", 80, 0x18, new byte[0],
        new byte[0], "odd!!".getBytes());
    int ihl = 20;
    assertThat(Checksums.tcp(p, 0, ihl, p.length - ihl)).isZero(); // valid packet sums to zero
    p[ihl + 16] = 0;
    p[ihl + 17] = 0;
    assertThat(Checksums.tcp(p, 0, ihl, p.length - ihl)).isEqualTo(TestPackets.referenceTcpChecksum(p));
  }
}
