package net.wanrelay.it.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import net.wanrelay.it.metrics.ManagedProcess;
import net.wanrelay.it.metrics.PrometheusText;
import net.wanrelay.it.metrics.RepoLayout;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compose topology without Docker: one network namespace per container of
 * docker/docker-compose.yml (client, cproxy, wanem, sproxy, server), joined by veth pairs with the
 * compose file's addresses and subnets, running the docker/ files themselves: the relay configs
 * through docker/entrypoint.sh (its WANRELAY_ROUTES from the compose file), wanem.sh, echo.sh,
 * client.sh, the compose sysctls. Differences, because they need what this host lacks: no netem (this
 * kernel has no sch_netem; a stand-in {@code tc} records wanem's calls), and the page is served by
 * python's http.server instead of nginx. Needs root; skipped otherwise.
 */
class ComposeTopologyNetnsTest {
  private static final List<String> NODES = List.of("client", "cproxy", "wanem", "sproxy", "server");

  @TempDir static Path tmp;
  private static final String RUN = "wrd" + (ProcessHandle.current().pid() % 100000);
  private static final List<ManagedProcess> processes = new ArrayList<>();
  private static final List<String> namespaces = new ArrayList<>();
  private static JsonNode compose;
  private static Path docker;

  @BeforeAll
  static void up() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "SKIPPED: network namespaces need root");
    for (String tool : List.of("ip", "socat", "curl", "python3")) {
      assumeTrue(run("sh", "-c", "command -v " + tool).exit == 0, "SKIPPED: " + tool + " not installed");
    }
    assumeTrue(run("sh", "-c", "command -v docker-compose").exit == 0, "SKIPPED: docker-compose not installed");
    docker = RepoLayout.dockerDir();
    // docker-compose itself resolves the anchors, merges, ${VAR:-default}s and relative paths.
    Exec config = run("docker-compose", "-f", docker.resolve("docker-compose.yml").toString(), "config");
    must(config);
    compose = new ObjectMapper(new YAMLFactory()).readTree(config.out);
    for (String node : NODES) {
      Exec made = run("ip", "netns", "add", ns(node));
      assumeTrue(made.exit == 0, "SKIPPED: cannot create network namespaces: " + made.out);
      namespaces.add(ns(node));
      sh(node, "ip link set lo up");
    }
    wireNetworks();
    for (String node : NODES) {
      compose.path("services").path(node).path("sysctls").fields()
          .forEachRemaining(e -> sh(node, "sysctl -qw " + e.getKey() + "=" + e.getValue().asText()));
    }
    startServices();
  }

  /** Each traffic network of the compose file joins exactly two of the nodes: a veth pair with their addresses. */
  private static void wireNetworks() {
    int link = 0;
    for (var net = compose.path("networks").fields(); net.hasNext(); ) {
      var n = net.next();
      String subnet = n.getValue().path("ipam").path("config").get(0).path("subnet").asText();
      String prefix = subnet.substring(subnet.indexOf('/'));
      Map<String, String> members = new LinkedHashMap<>();
      for (String node : NODES) {
        JsonNode addr = compose.path("services").path(node).path("networks").path(n.getKey()).path("ipv4_address");
        if (!addr.isMissingNode()) {
          members.put(node, addr.asText());
        }
      }
      if (members.isEmpty() || n.getKey().equals("mgmt")) {
        continue; // management network: Prometheus and Grafana are not part of the replica
      }
      assertThat(members).as("members of network %s", n.getKey()).hasSize(2);
      List<String> ends = new ArrayList<>(members.keySet());
      String a = "v" + link + "a";
      String b = "v" + link + "b";
      link++;
      must(run("ip", "link", "add", a, "netns", ns(ends.get(0)), "type", "veth", "peer", "name", b, "netns", ns(ends.get(1))));
      sh(ends.get(0), "ip addr add " + members.get(ends.get(0)) + prefix + " dev " + a + " && ip link set " + a + " up");
      sh(ends.get(1), "ip addr add " + members.get(ends.get(1)) + prefix + " dev " + b + " && ip link set " + b + " up");
    }
  }

  private static void startServices() throws Exception {
    Path jar = Files.copy(RepoLayout.relayJar(), tmp.resolve("wanrelay.jar"));
    // wanem without netem: a stand-in tc that records its arguments.
    Path shim = Files.createDirectories(tmp.resolve("shim"));
    Path tcLog = tmp.resolve("tc.log");
    Files.writeString(shim.resolve("tc"), "#!/bin/sh\necho \"$*\" >> " + tcLog + "\n");
    Files.setPosixFilePermissions(shim.resolve("tc"), PosixFilePermissions.fromString("rwxr-xr-x"));

    spawn("server", List.of("/usr/bin/python3", "-m", "http.server", "80", "--bind", "0.0.0.0", "--directory",
        hostPath("server", "/usr/share/nginx/html/index.html").getParent().toString()), Map.of());
    spawn("server", command("server-echo"), Map.of());
    spawn("wanem", command("wanem"), environment("wanem", Map.of("PATH", shim + ":" + System.getenv("PATH"))));
    spawn("client", command("client"), Map.of());
    for (String relay : List.of("sproxy", "cproxy")) {
      List<String> cmd = new ArrayList<>(List.of("sh", docker.resolve("entrypoint.sh").toString(),
          "run", "-c", hostPath(relay, "/etc/wanrelay/relay.yaml").toString()));
      spawn(relay, cmd, environment(relay, Map.of("WANRELAY_KEEP_ROOT", "1", "WANRELAY_JAR", jar.toString())));
    }
    await("cproxy's trunk to sp up", () -> metrics("cproxy").sum("wanrelay_trunk_up", Map.of("peer", "sp")) == 1);
    await("wanem's routes", () -> sh("wanem", "ip route").out.contains("10.9.3.0/24 via 10.9.4.2"));
    await("server echo and page", () -> sh("server", "ip route").out.contains("10.9.1.0/24 via 10.9.3.3")
        && sh("server", "curl -fsS -o /dev/null http://10.9.3.2/ && echo ok | socat -t 2 - TCP:10.9.3.2:7").exit == 0);
    await("client's default route", () -> sh("client", "ip route").out.contains("default via 10.9.1.2"));
    assertThat(Files.readString(tcLog)).as("wanem's tc calls").contains("netem delay 25ms loss 0.5% rate 100mbit");
  }

  @AfterAll
  static void down() {
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).close();
    }
    for (String ns : namespaces) {
      run("ip", "netns", "del", ns);
    }
  }

  @Test
  void pageCrossesThePairOverTheTrunkAndTheRoutedPath() {
    Exec trunk = sh("client", "curl -fsS --max-time 20 http://10.9.1.2:8080/");
    assertThat(trunk.exit).as(trunk.out).isZero();
    assertThat(trunk.out).contains("wanrelay-test-page");
    Exec direct = sh("client", "curl -fsS --max-time 20 http://10.9.1.2:8081/");
    assertThat(direct.exit).as(direct.out).isZero();
    assertThat(direct.out).contains("wanrelay-test-page");
    PrometheusText cp = metrics("cproxy");
    assertThat(cp.sum("wanrelay_sessions_total", Map.of("route", "trunk", "outcome", "completed"))).isGreaterThanOrEqualTo(1);
    assertThat(cp.sum("wanrelay_sessions_total", Map.of("route", "direct", "outcome", "completed"))).isGreaterThanOrEqualTo(1);
    assertThat(metrics("sproxy").sum("wanrelay_trunk_payload_bytes_total", Map.of("peer", "cp", "direction", "tx")))
        .isGreaterThanOrEqualTo(trunk.out.length());
  }

  @Test
  void poolListenerSkipsTheMissingMemberAndServesThePage() {
    // docker/relay/cproxy.yaml: pool "web" = [10.9.3.5:80 (no such host), 10.9.3.2:80], primary-backup.
    await("pool web: 10.9.3.2:80 healthy", () -> metrics("cproxy")
        .sum("wanrelay_upstream_health", Map.of("pool", "web", "address", "10.9.3.2:80")) == 1);
    Exec r = sh("client", "curl -fsS --max-time 20 http://10.9.1.2:8082/");
    assertThat(r.exit).as(r.out).isZero();
    assertThat(r.out).contains("wanrelay-test-page");
    PrometheusText cp = metrics("cproxy");
    assertThat(cp.sum("wanrelay_upstream_health", Map.of("pool", "web", "address", "10.9.3.5:80"))).isZero();
    assertThat(cp.sum("wanrelay_upstream_probes_total", Map.of("pool", "web", "address", "10.9.3.5:80", "result", "fail")))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void tcpEchoOverTheTrunkIsByteExact() throws Exception {
    byte[] payload = new byte[300_000];
    Hashes.fill(new SplittableRandom(3), payload);
    Path sent = Files.write(tmp.resolve("sent.bin"), payload);
    // The same bytes to the same echo service, once over the routed path (no relay) and once over the trunk.
    for (String target : List.of("10.9.3.2:7", "10.9.1.2:7007")) {
      Path got = tmp.resolve("got-" + target.replace(':', '-') + ".bin");
      Exec r = sh("client", "socat -t 20 -T 60 - TCP:" + target + " < " + sent + " > " + got);
      assertThat(r.exit).as(r.out).isZero();
      byte[] echoed = Files.readAllBytes(got);
      assertThat(echoed.length).as("bytes echoed via %s", target).isEqualTo(payload.length);
      assertThat(Hashes.sha256Hex(echoed)).as("sha256 of the echo via %s", target).isEqualTo(Hashes.sha256Hex(payload));
    }
  }

  @Test
  void udpEchoOverTheTrunk() {
    Exec r = sh("client", "echo wanrelay-udp-netns | socat -t 3 - UDP:10.9.1.2:7008");
    assertThat(r.exit).as(r.out).isZero();
    assertThat(r.out).contains("wanrelay-udp-netns");
  }

  @Test
  void clientTrafficToTheServerLanIsRoutedThroughBothRelays() {
    // No relay listener involved: client -> cproxy (forwarding) -> wanem -> sproxy (forwarding) -> server.
    assertThat(sh("client", "ip route get 10.9.3.2").out).contains("via 10.9.1.2");
    Exec r = sh("client", "curl -fsS --max-time 20 http://10.9.3.2/");
    assertThat(r.exit).as(r.out).isZero();
    assertThat(r.out).contains("wanrelay-test-page");
  }

  // ---- compose file access ----

  /** The service's command, with container paths mapped to the bind-mounted files under docker/. */
  private static List<String> command(String service) {
    List<String> cmd = new ArrayList<>();
    for (JsonNode part : compose.path("services").path(service).path("command")) {
      String arg = part.asText();
      cmd.add(arg.startsWith("/") ? hostPath(service, arg).toString() : arg);
    }
    assertThat(cmd).as("command of %s", service).isNotEmpty();
    return cmd;
  }

  /** The host file bind-mounted at {@code containerPath} in {@code service}. */
  private static Path hostPath(String service, String containerPath) {
    for (JsonNode vol : compose.path("services").path(service).path("volumes")) {
      String[] parts = vol.asText().split(":");
      if (parts[1].equals(containerPath)) {
        return Path.of(parts[0]);
      }
    }
    throw new AssertionError(service + " mounts nothing at " + containerPath);
  }

  /** The service's environment (as docker-compose resolved it) plus {@code extra}. */
  private static Map<String, String> environment(String service, Map<String, String> extra) {
    Map<String, String> env = new LinkedHashMap<>();
    compose.path("services").path(service).path("environment").fields()
        .forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
    env.putAll(extra);
    return env;
  }

  // ---- namespaces and processes ----

  private static String ns(String node) {
    return RUN + "-" + node;
  }

  private static void spawn(String node, List<String> command, Map<String, String> env) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns(node), "env"));
    env.forEach((k, v) -> full.add(k + "=" + v));
    full.addAll(command);
    processes.add(ManagedProcess.start(node + ":" + String.join(" ", command), full,
        tmp.resolve(node + "-" + processes.size() + ".log")));
  }

  private static PrometheusText metrics(String relay) {
    Exec r = sh(relay, "curl -fsS --max-time 5 http://127.0.0.1:9464/metrics");
    if (r.exit != 0) {
      throw new IllegalStateException(relay + " /metrics: " + r.out);
    }
    return PrometheusText.parse(r.out);
  }

  private static void await(String what, BooleanSupplier done) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      for (ManagedProcess p : processes) {
        p.requireAlive();
      }
      try {
        if (done.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException notYet) {
        // not up yet
      }
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    StringBuilder logs = new StringBuilder();
    processes.forEach(p -> logs.append("\n--- ").append(p).append('\n').append(p.logTail()));
    throw new AssertionError("timed out waiting for " + what + logs);
  }

  record Exec(int exit, String out) {}

  private static Exec sh(String node, String script) {
    return run("ip", "netns", "exec", ns(node), "sh", "-c", script);
  }

  private static void must(Exec r) {
    assertThat(r.exit).as(r.out).isZero();
  }

  private static Exec run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Exec(-1, "timed out: " + String.join(" ", command));
      }
      return new Exec(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Exec(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Exec(-1, e.toString());
    }
  }
}
