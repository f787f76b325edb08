package net.wanrelay.it.wan;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SynOptionStripperTest {
  /** MSS, SACK-permitted, timestamps, NOP, window scale: what a Linux SYN carries. */
  static final byte[] LINUX_OPTIONS = {
      2, 4, 0x05, (byte) 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
  /** Experimental option 253 with ExID 0x5752 and four bytes of data (RFC 6994). */
  static final byte[] PROBE = {(byte) 253, 8, 0x57, 0x52, 1, 2, 3, 4};

  /** An IPv4 TCP segment 10.9.0.1:40000 -> 10.9.3.2:80 with a valid checksum. */
  static byte[] segment(int flags, byte[] options, byte[] payload) {
    int optLen = (options.length + 3) / 4 * 4;
    int tcpLen = 20 + optLen + payload.length;
    byte[] p = new byte[20 + tcpLen];
    p[0] = 0x45;
    p[2] = (byte) (p.length >> 8);
    p[3] = (byte) p.length;
    p[6] = 0x40; // DF
    p[8] = 64;
    p[9] = 6;
    System.arraycopy(new byte[] {10, 9, 0, 1, 10, 9, 3, 2}, 0, p, 12, 8);
    int t = 20;
    p[t] = (byte) (40000 >> 8);
    p[t + 1] = (byte) 40000;
    p[t + 3] = 80;
    p[t + 7] = 1; // sequence number
    p[t + 12] = (byte) ((20 + optLen) / 4 << 4);
    p[t + 13] = (byte) flags;
    p[t + 14] = (byte) 0xff;
    p[t + 15] = (byte) 0xff;
    System.arraycopy(options, 0, p, t + 20, options.length);
    Arrays.fill(p, t + 20 + options.length, t + 20 + optLen, (byte) 1);
    System.arraycopy(payload, 0, p, t + 20 + optLen, payload.length);
    int sum = SynOptionStripper.tcpChecksum(p, 20, p.length);
    p[t + 16] = (byte) (sum >> 8);
    p[t + 17] = (byte) sum;
    return p;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] b : parts) {
      out.writeBytes(b);
    }
    return out.toByteArray();
  }

  static boolean checksumValid(byte[] p) {
    return SynOptionStripper.tcpChecksum(p, 20, p.length) == 0;
  }

  @Test
  void unknownOptionInSynBecomesNopsAndTheChecksumStaysValid() {
    byte[] p = segment(0x02, concat(LINUX_OPTIONS, PROBE), new byte[0]);
    assertThat(checksumValid(p)).isTrue();
    byte[] before = p.clone();
    assertThat(SynOptionStripper.strip(p, p.length)).isEqualTo(1);
    assertThat(Arrays.copyOfRange(p, 40, 60)).isEqualTo(LINUX_OPTIONS); // known options untouched
    assertThat(Arrays.copyOfRange(p, 60, 68)).containsOnly(1);
    assertThat(checksumValid(p)).isTrue();
    assertThat(Arrays.copyOfRange(p, 0, 36)).isEqualTo(Arrays.copyOfRange(before, 0, 36)); // headers and ports
  }

  @Test
  void dropModeRecognisesSynsWithAnUnknownOptionWithoutChangingThem() {
    byte[] probeSyn = segment(0x02, concat(LINUX_OPTIONS, PROBE), new byte[0]);
    byte[] copy = probeSyn.clone();
    assertThat(SynOptionStripper.hasUnknownOption(probeSyn, probeSyn.length)).isTrue();
    assertThat(probeSyn).isEqualTo(copy);
    byte[] responseSynAck = segment(0x12, concat(PROBE, new byte[] {2, 4, 5, (byte) 0xb4}), new byte[0]);
    assertThat(SynOptionStripper.hasUnknownOption(responseSynAck, responseSynAck.length)).isTrue();
    byte[] plainSyn = segment(0x02, LINUX_OPTIONS, new byte[0]);
    assertThat(SynOptionStripper.hasUnknownOption(plainSyn, plainSyn.length)).isFalse();
    byte[] dataWithOption = segment(0x10, PROBE, new byte[] {1, 2});
    assertThat(SynOptionStripper.hasUnknownOption(dataWithOption, dataWithOption.length)).as("not a SYN").isFalse();
    byte[] malformed = segment(0x02, new byte[] {(byte) 253, 0, 1, 1}, new byte[0]);
    assertThat(SynOptionStripper.hasUnknownOption(malformed, malformed.length)).isFalse();
  }

  @Test
  void synAckIsStrippedToo() {
    byte[] p = segment(0x12, concat(PROBE, new byte[] {2, 4, 5, (byte) 0xb4}), new byte[0]);
    assertThat(SynOptionStripper.strip(p, p.length)).isEqualTo(1);
    assertThat(Arrays.copyOfRange(p, 40, 48)).containsOnly(1);
    assertThat(Arrays.copyOfRange(p, 48, 52)).containsExactly(2, 4, 5, (byte) 0xb4);
    assertThat(checksumValid(p)).isTrue();
  }

  @Test
  void oddLengthPayloadKeepsAValidChecksum() {
    byte[] p = segment(0x02, PROBE, new byte[] {9, 8, 7});
    assertThat(SynOptionStripper.strip(p, p.length)).isEqualTo(1);
    assertThat(checksumValid(p)).isTrue();
  }

  @Test
  void segmentsWithoutSynAndLinuxSynsAreLeftAlone() {
    byte[] ack = segment(0x10, PROBE, new byte[] {1, 2});
    byte[] copy = ack.clone();
    assertThat(SynOptionStripper.strip(ack, ack.length)).isZero();
    assertThat(ack).isEqualTo(copy);
    byte[] syn = segment(0x02, LINUX_OPTIONS, new byte[0]);
    byte[] synCopy = syn.clone();
    assertThat(SynOptionStripper.strip(syn, syn.length)).isZero();
    assertThat(syn).isEqualTo(synCopy);
  }

  @Test
  void malformedOptionListsAreLeftAlone() {
    for (byte[] bad : new byte[][] {
        {(byte) 253, 0, 1, 1},        // length 0 would loop forever
        {(byte) 253, 1, 1, 1},        // length below 2
        {(byte) 253, 12, 1, 1},       // runs past the header
        {1, 1, 1, (byte) 253}}) {     // kind without a length byte
      byte[] p = segment(0x02, bad, new byte[0]);
      byte[] copy = p.clone();
      assertThat(SynOptionStripper.strip(p, p.length)).as(Arrays.toString(bad)).isZero();
      assertThat(p).isEqualTo(copy);
    }
  }

  @Test
  void notIpv4TcpOrTruncatedOrFragmentIsLeftAlone() {
    byte[] udp = segment(0x02, PROBE, new byte[0]);
    udp[9] = 17;
    assertThat(SynOptionStripper.strip(udp, udp.length)).isZero();
    byte[] truncated = segment(0x02, PROBE, new byte[0]);
    assertThat(SynOptionStripper.strip(truncated, 30)).isZero();
    byte[] fragment = segment(0x02, PROBE, new byte[0]);
    fragment[6] = 0x20; // more fragments
    assertThat(SynOptionStripper.strip(fragment, fragment.length)).isZero();
    assertThat(SynOptionStripper.strip(new byte[3], 3)).isZero();
  }
}
