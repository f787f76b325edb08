package net.wanrelay.discovery.packet.fuzzregress;

import static org.assertj.core.api.Assertions.assertThat;

import net.wanrelay.discovery.packet.TcpOptionInserter;
import org.junit.jupiter.api.Test;

/** Found by fuzzing: inserting "01 02" (a NOP with a length byte) produced unparseable options. */
class InsertSingleByteKindTest {
  private static byte[] syn() {
    byte[] p = new byte[40];
    p[0] = 0x45;
    p[3] = 40; // IPv4 total length
    p[8] = 64;
    p[9] = 6; // TCP
    p[12] = 10; p[15] = 1; p[16] = 10; p[19] = 2;
    p[32] = 0x50; // data offset 5
    p[33] = 0x02; // SYN
    return p;
  }

  @Test
  void eolAndNopKindsAreRefused() {
    byte[] packet = syn();
    for (byte kind : new byte[] {0, 1}) {
      TcpOptionInserter.Result r = TcpOptionInserter.insert(packet, new byte[] {kind, 2});
      assertThat(r.changed()).isFalse();
      assertThat(r.packet()).isSameAs(packet);
      assertThat(r.reason()).contains("cannot carry a length");
    }
  }
}
