package net.wanrelay.it.wan;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** The control channel's parser, without TUN devices (the data path is never started). */
class WanEmulatorCommandTest {
  private final WanEmulator emulator = new WanEmulator(null, null, new PrintStream(new ByteArrayOutputStream()));

  @Test
  void setChangesOnlyTheNamedDirection() {
    assertThat(emulator.command("set c2s delay=25ms loss=1%"))
        .startsWith("OK c2s[delay=25000us jitter=0us loss=0.01")
        .contains("s2c[delay=0us");
    assertThat(emulator.command("set both rate=100mbit queue=500"))
        .contains("c2s[delay=25000us jitter=0us loss=0.01 rate=100000000bit queue=500]")
        .contains("s2c[delay=0us jitter=0us loss=0.0 rate=100000000bit queue=500]");
  }

  @Test
  void badCommandsAnswerErrAndChangeNothing() {
    String before = emulator.command("show");
    assertThat(emulator.command("set both delay=25ms bogus=1")).startsWith("ERR unknown setting 'bogus'");
    assertThat(emulator.command("set sideways delay=1ms")).startsWith("ERR direction must be");
    assertThat(emulator.command("set")).startsWith("ERR usage");
    assertThat(emulator.command("cut")).startsWith("ERR usage");
    assertThat(emulator.command("cut both soon")).startsWith("ERR bad duration");
    assertThat(emulator.command("strip-options maybe")).startsWith("ERR usage");
    assertThat(emulator.command("fly")).startsWith("ERR unknown command 'fly'");
    assertThat(emulator.command("")).startsWith("ERR");
    assertThat(emulator.command("show")).isEqualTo(before);
  }

  @Test
  void stripCutStatsAndQuit() {
    assertThat(emulator.command("strip-options on")).isEqualTo("OK strip-options on");
    assertThat(emulator.command("show")).contains("strip-options=on").endsWith("drop-options=off");
    assertThat(emulator.command("drop-options on")).isEqualTo("OK drop-options on");
    assertThat(emulator.command("show")).endsWith("drop-options=on");
    assertThat(emulator.command("drop-options sometimes")).startsWith("ERR usage: drop-options");
    assertThat(emulator.command("cut 2s")).isEqualTo("OK cut both 2s");
    assertThat(emulator.command("cut s2c off")).isEqualTo("OK cut s2c off");
    assertThat(emulator.command("stats")).startsWith("STATS c2s passed=0").contains(" s2c passed=0").contains("option_drops=0");
    assertThat(emulator.command("quit")).isNull();
  }
}
