package net.wanrelay.discovery.syn;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeOptionCodec;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.TcpOptionInserter;
import net.wanrelay.discovery.packet.TestPackets;
import org.junit.jupiter.api.Test;

class SavedSynReaderTest {
  private final ProbeOptionCodec codec = new ProbeOptionCodec(OptionFormat.DEFAULT);

  private static ByteBuffer asKernelReturnsIt(byte[] headers) {
    ByteBuffer b = ByteBuffer.allocate(SocketOptions.SAVED_SYN_BUFFER);
    b.put(headers);
    b.position(0); // the kernel's buffer comes back with all 512 bytes remaining
    return b;
  }

  @Test
  void readsTheProbeFromASavedSynOf512Bytes() {
    byte[] syn = TestPackets.syn("10.9.1.2", 40000, "10.9.3.2", 80, TestPackets.LINUX_SYN_OPTIONS);
    byte[] probed = TcpOptionInserter.insert(syn, codec.encodeRequest(new ProbeRequest(1, 0, 0xc0ffeeL))).packet();
    Ipv4TcpPacket p = SavedSynReader.parse(asKernelReturnsIt(probed)).value();
    assertThat(p.length()).isEqualTo(72);
    assertThat(SavedSynReader.probeOf(p, codec).value()).isEqualTo(new ProbeRequest(1, 0, 0xc0ffeeL));
  }

  @Test
  void kernelSampleFromKernelPathDoc() {
    // the 68-byte SYN seen on this kernel, option area as in KERNEL-PATH.md (ExID 0x5752, 4 data bytes)
    byte[] opts = HexFormat.of().parseHex("020405b40402080a0000000100000000010303" + "0a" + "fd0857520" + "0c0ffee");
    byte[] syn = TestPackets.syn("10.9.1.2", 40000, "10.9.3.2", 80, opts);
    Ipv4TcpPacket p = SavedSynReader.parse(asKernelReturnsIt(syn)).value();
    assertThat(p.length()).isEqualTo(68);
    // a foreign experiment layout under our ExID is reported, not accepted
    assertThat(SavedSynReader.probeOf(p, codec).error()).contains("unsupported version 0");
  }

  @Test
  void noProbeAndGarbageAreErrors() {
    byte[] syn = TestPackets.syn("10.9.1.2", 40000, "10.9.3.2", 80, TestPackets.LINUX_SYN_OPTIONS);
    assertThat(SavedSynReader.probeOf(SavedSynReader.parse(ByteBuffer.wrap(syn)).value(), codec).error())
        .contains("no probe option");
    assertThat(SavedSynReader.parse(ByteBuffer.allocate(0)).error()).contains("no saved SYN");
    assertThat(SavedSynReader.parse(ByteBuffer.allocate(512)).isOk()).isFalse();
  }

  @Test
  void nonEpollChannelGivesAClearError() {
    EmbeddedChannel ch = new EmbeddedChannel();
    assertThat(SavedSynReader.readSavedSyn(ch).error()).contains("TCP_SAVED_SYN");
    ch.finishAndReleaseAll();
  }
}
