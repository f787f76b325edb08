package net.wanrelay.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MainTest {
  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.execute(args);
      return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "listeners: [ { name: a, listen: 127.0.0.1:1, target: 127.0.0.1:2, colour: red } ]|cfg.yaml:1:67: listeners[0].colour: unknown key",
      "listeners: [ { name: a, listen: 300.1.1.1:1, target: 127.0.0.1:2 } ]|cfg.yaml:1:33: listeners[0].listen: '300.1.1.1' is not a valid IPv4 address",
      "listeners: [ { name: a, listen: 127.0.0.1:99999, target: 127.0.0.1:2 } ]|cfg.yaml:1:33: listeners[0].listen: port 99999 out of range (1-65535)",
      "listeners: [ { name: a, listen: 127.0.0.1:1, target: 127.0.0.1:2 }, { name: a, listen: 127.0.0.1:3, target: 127.0.0.1:2 } ]|cfg.yaml:1:71: listeners[1].name: duplicate listener name 'a' (first at listeners[0])",
  })
  void badConfigGivesOneLineAndExitCode2(String yaml, String message) throws Exception {
    Path file = dir.resolve("cfg.yaml");
    Files.writeString(file, yaml + "\n");
    String shown = file.toString().replace("cfg.yaml", "");
    for (String command : new String[] {"check-config", "run"}) {
      Result r = run(command, "-c", file.toString());
      assertThat(r.code()).as(command).isEqualTo(2);
      assertThat(r.err().strip()).as(command).isEqualTo("config error: " + shown + message);
    }
  }

  @Test
  void validConfigChecksOk() throws Exception {
    Path file = dir.resolve("ok.yaml");
    Files.writeString(file, "listeners: [ { name: a, listen: 127.0.0.1:1, target: 127.0.0.1:2 } ]\n");
    Result r = run("check-config", "-c", file.toString());
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("ok (1 listeners)");
  }

  @Test
  void versionAndHelp() {
    assertThat(run("version").out()).startsWith("wanrelay ");
    for (String command : new String[] {"run", "check-config"}) {
      Result help = run(command, "--help");
      assertThat(help.code()).isZero();
      assertThat(help.out()).contains("Usage: wanrelay " + command).contains("--config");
    }
    Result missing = run("check-config");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("Missing required option");
  }
}
