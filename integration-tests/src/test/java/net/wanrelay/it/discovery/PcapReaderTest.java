package net.wanrelay.it.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class PcapReaderTest {
  private static final byte[] IP = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 9, 0, 1, 10, 9, 3, 2};

  /** A pcap file as tcpdump writes it on a little-endian machine, with the given frames. */
  private static byte[] file(ByteOrder order, int magic, int linkType, byte[]... frames) {
    int size = 24;
    for (byte[] f : frames) {
      size += 16 + f.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).order(order);
    b.putInt(magic).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(262144).putInt(linkType);
    int t = 0;
    for (byte[] f : frames) {
      b.putInt(1_700_000_000).putInt(++t * 1000).putInt(f.length).putInt(f.length).put(f);
    }
    return b.array();
  }

  private static byte[] ethernet(int etherType, byte[] payload) {
    byte[] f = new byte[14 + payload.length];
    f[12] = (byte) (etherType >> 8);
    f[13] = (byte) etherType;
    System.arraycopy(payload, 0, f, 14, payload.length);
    return f;
  }

  @Test
  void readsIpv4FramesOfAnEthernetCaptureAndSkipsOthers() {
    byte[] arp = ethernet(0x0806, new byte[28]);
    byte[] pcap = file(ByteOrder.LITTLE_ENDIAN, 0xa1b2c3d4, 1, ethernet(0x0800, IP), arp, ethernet(0x0800, IP));
    List<PcapReader.Frame> frames = PcapReader.ipv4Frames(pcap);
    assertThat(frames).hasSize(2);
    assertThat(frames.get(0).ipPacket()).isEqualTo(IP);
    assertThat(frames.get(1).timestampMicros() - frames.get(0).timestampMicros()).isEqualTo(2000);
  }

  @Test
  void bigEndianNanosecondRawIpCapture() {
    byte[] pcap = file(ByteOrder.BIG_ENDIAN, 0xa1b23c4d, 101, IP);
    List<PcapReader.Frame> frames = PcapReader.ipv4Frames(pcap);
    assertThat(frames).hasSize(1);
    assertThat(frames.get(0).ipPacket()).isEqualTo(IP);
    assertThat(frames.get(0).timestampMicros()).isEqualTo(1_700_000_000_000_000L + 1);
  }

  @Test
  void truncatedOrForeignFilesAreErrors() {
    byte[] pcap = file(ByteOrder.LITTLE_ENDIAN, 0xa1b2c3d4, 1, ethernet(0x0800, IP));
    assertThatThrownBy(() -> PcapReader.ipv4Frames(java.util.Arrays.copyOf(pcap, pcap.length - 3)))
        .hasMessageContaining("claims");
    assertThatThrownBy(() -> PcapReader.ipv4Frames(java.util.Arrays.copyOf(pcap, 30))).hasMessageContaining("truncated");
    assertThatThrownBy(() -> PcapReader.ipv4Frames(new byte[10])).hasMessageContaining("global header");
    assertThatThrownBy(() -> PcapReader.ipv4Frames(file(ByteOrder.LITTLE_ENDIAN, 0x12345678, 1))).hasMessageContaining("magic");
    assertThatThrownBy(() -> PcapReader.ipv4Frames(file(ByteOrder.LITTLE_ENDIAN, 0xa1b2c3d4, 276))).hasMessageContaining("link type");
  }
}
