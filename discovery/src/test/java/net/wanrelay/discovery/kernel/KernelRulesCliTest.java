package net.wanrelay.discovery.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KernelRulesCliTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return KernelRulesCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void printNeedsNoRootAndShowsEverything() {
    assertThat(run("print", "--role", "cp,sp", "--intercept", "80,443", "--intercept-udp", "5300", "--queues", "17,18,19",
        "--kind", "76", "--exid", "none")).isZero();
    String s = out.toString(StandardCharsets.UTF_8);
    assertThat(s).contains("tcp dport { 80, 443 } tproxy to :7777").contains("udp dport { 5300 } tproxy to :7777")
        .contains("tcp option @76,0,8 76 tproxy to :7801")
        .contains("--tcp-option 76").contains("--queue-num 17").contains("--queue-num 18").contains("--queue-num 19")
        .contains("ip rule add fwmark 0x1 lookup 100");
  }

  @Test
  void badInputIsAUsageError() {
    assertThat(run("print")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--role is required");
    assertThat(run("print", "--role", "cp", "--marks", "1,2")).isEqualTo(2);
    assertThat(run("print", "--role", "xp")).isEqualTo(2);
    assertThat(run("print", "--role", "cp", "--kind", "253", "--exid", "none")).isEqualTo(2);
    assertThat(run("print", "--role", "cp", "--intercept")).isEqualTo(2);
    assertThat(run("frobnicate", "--role", "cp")).isEqualTo(2);
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("ExID").contains("unknown command frobnicate");
  }
}
