package net.wanrelay.core.transparent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.EventLoopGroup;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import net.wanrelay.core.config.ConfigLoader;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.cli.Main;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.net.Transport;
import net.wanrelay.core.tcp.SessionLimiter;
import net.wanrelay.discovery.kernel.KernelRuleParams.Role;
import net.wanrelay.discovery.kernel.KernelRulesWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransparentConfigTest {
  private static final String KEY = "a-shared-secret-of-16+-chars";

  private static final String CP = """
      node: { id: cp }
      trunk: { key: "%s" }
      intercept:
        tcp-ports: [80, 443]
        tproxy-listen: 0.0.0.0:7777
        in-path-rules:
          - { dst: 10.9.0.0/16, port: 22, action: pass-through }
      """.formatted(KEY);

  private static final String SP = """
      node: { id: sp }
      trunk: { listen: 0.0.0.0:7800, key: "%s", allow: [10.9.3.0/24] }
      intercept:
        peering-rules:
          - { src: 192.0.2.0/24, action: pass-through }
          - { action: accept }
      discovery: { option-kind: 76, advertise: 10.9.2.2:7800 }
      """.formatted(KEY);

  @TempDir Path dir;

  private static RelayConfig parse(String yaml) throws Exception {
    return ConfigLoader.parse("t.yaml", yaml);
  }

  @Test
  void rolesComeFromInterceptPortsAndTheTrunkListener() throws Exception {
    assertThat(KernelRulesFromConfig.roles(parse(CP))).containsExactly(Role.CP);
    assertThat(KernelRulesFromConfig.roles(parse(SP))).containsExactly(Role.SP);
    RelayConfig udpOnly = parse("node: { id: x }\nintercept: { udp-ports: [53] }\n");
    assertThat(KernelRulesFromConfig.roles(udpOnly)).containsExactly(Role.CP);
    assertThat(KernelRulesWriter.build(KernelRulesFromConfig.params(udpOnly)).print())
        .contains("udp dport { 53 } tproxy to :7777").contains("meta l4proto udp socket transparent 1")
        .contains("--mark 0x77").doesNotContain("tcp dport");
    assertThatThrownBy(() -> KernelRulesFromConfig.roles(parse("node: { id: x }\nintercept: { tcp-ports: [] }\n")))
        .hasMessageContaining("neither client-side");
  }

  @Test
  void kernelRulesFollowTheConfig() throws Exception {
    String cp = KernelRulesWriter.build(KernelRulesFromConfig.params(parse(CP))).print();
    assertThat(cp).contains("tcp dport { 80, 443 } tproxy to :7777")
        .contains("--mark 0x77").contains("--queue-num 7").contains("--tcp-option 253 ").contains("--queue-num 9")
        .doesNotContain("discovery listener");
    String sp = KernelRulesWriter.build(KernelRulesFromConfig.params(parse(SP))).print();
    assertThat(sp).contains("ip saddr 192.0.2.0/24 tcp flags & (syn|ack) == syn accept")
        .contains("tcp option @76,0,8 76 tproxy to :7801").contains("--queue-num 8")
        .doesNotContain("intercept\"");
  }

  @Test
  void rulesCommandPrintsTheScript() throws Exception {
    Path cfg = dir.resolve("cp.yaml");
    Files.writeString(cfg, CP);
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      code = Main.execute("rules", "--print", "-c", cfg.toString());
    } finally {
      System.setOut(old);
    }
    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("#!/bin/sh").contains("tproxy to :7777");
    assertThat(Main.execute("rules", "-c", cfg.toString())).as("one of --print/--apply/--remove is required").isEqualTo(2);
  }

  @Test
  void spMustAdvertiseAUnicastIpv4Address() throws Exception {
    assertThat(TransparentMode.answer(parse(SP)).peers()).extracting(Object::toString).containsExactly("/10.9.2.2:7800");
    RelayConfig wildcard = parse(SP.replace("discovery: { option-kind: 76, advertise: 10.9.2.2:7800 }", ""));
    assertThatThrownBy(() -> TransparentMode.answer(wildcard)).hasMessageContaining("set discovery.advertise");
  }

  @Test
  void startFailsWithAMessageNamingWhatIsMissing() throws Exception {
    Transport nio = Transport.nio();
    EventLoopGroup g = nio.newGroup(1);
    try {
      TransparentContext ctx = new TransparentContext(parse(CP), nio, g, g, new RelayMetrics(), new SessionLimiter(10),
          Optional.empty());
      assertThatThrownBy(() -> TransparentMode.start(ctx))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("transparent mode (intercept:) cannot start, missing:")
          .hasMessageContaining("epoll transport")
          .hasMessageContaining("explicit mode");
    } finally {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
