package net.wanrelay.discovery.packet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class TcpOptionsTest {
  private static ParseResult<TcpOptions> parse(String hex) {
    byte[] b = HexFormat.of().parseHex(hex);
    return TcpOptions.parse(b, 0, b.length);
  }

  @Test
  void readsALinuxSynOptionList() {
    byte[] b = TestPackets.LINUX_SYN_OPTIONS;
    TcpOptions o = TcpOptions.parse(b, 0, b.length).value();
    assertThat(o.options()).extracting(TcpOption::kind).containsExactly(2, 4, 8, 1, 3);
    assertThat(o.usedLength()).isEqualTo(20);
    assertThat(o.find(TcpOption.MSS).orElseThrow().data()).containsExactly(0x05, 0xb4);
    assertThat(o.find(TcpOption.WINDOW_SCALE).orElseThrow().data()).containsExactly(7);
  }

  @Test
  void stopsAtEndOfList() {
    TcpOptions o = parse("020405b40000ffff").value();
    assertThat(o.options()).hasSize(1);
    assertThat(o.usedLength()).isEqualTo(4);
  }

  @Test
  void emptyAreaHasNoOptions() {
    assertThat(parse("").value().options()).isEmpty();
  }

  @Test
  void rejectsMissingLengthByte() {
    assertThat(parse("0101fd").error()).contains("no length byte");
  }

  @Test
  void rejectsLengthBelowTwo() {
    assertThat(parse("fd01aaaa").error()).contains("invalid length 1");
    assertThat(parse("fd00aaaa").error()).contains("invalid length 0");
  }

  @Test
  void rejectsOptionRunningPastTheArea() {
    assertThat(parse("020805b4").error()).contains("runs past");
  }

  @Test
  void rejectsAreaOverFortyBytes() {
    assertThat(TcpOptions.parse(new byte[44], 0, 44).error()).contains("exceeds 40");
  }
}
