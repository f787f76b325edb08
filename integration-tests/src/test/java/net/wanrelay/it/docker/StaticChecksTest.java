package net.wanrelay.it.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.wanrelay.it.metrics.RepoLayout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/check-static.sh passes on the committed files and fails, naming the problem, on copies
 * broken one way at a time.
 */
class StaticChecksTest {
  private static final Path SCRIPT = RepoLayout.dockerDir().resolve("check-static.sh");

  @TempDir Path tmp;

  record Result(int exit, String output) {}

  @TempDir static Path jarDir;
  /** A private copy: relay-core may be rebuilt (and its jar briefly absent) while these tests run. */
  private static Path jar;

  @BeforeAll
  static void toolsPresent() {
    for (String tool : new String[] {"docker-compose", "promtool"}) {
      assumeTrue(onPath(tool), "SKIPPED: " + tool + " not installed (apt-get install -y docker-compose prometheus)");
    }
  }

  private static synchronized Path jar() {
    if (jar == null) {
      jar = RepoLayout.privateRelayJar(jarDir);
    }
    return jar;
  }

  @Test
  void committedTopologyPassesEveryCheckIncludingTheRelaysOwnConfigCheck() throws Exception {
    Result r = run(RepoLayout.dockerDir(), Map.of("WANRELAY_JAR", jar().toString()));
    assertThat(r.output()).contains("ok: docker-compose config -q", "ok: promtool check config",
        "ok: check-config cproxy.yaml", "ok: check-config sproxy.yaml",
        "ok: check-config cproxy.yaml with its transparent stanza uncommented",
        "ok: check-config sproxy.yaml with its transparent stanza uncommented", "all checks passed");
    assertThat(r.exit()).as(r.output()).isZero();
  }

  @Test
  void scrapeTargetThatIsNotAServiceFails() throws Exception {
    Path copy = copyOfDockerDir();
    replace(copy.resolve("prometheus/prometheus.yml"), "\"sproxy:9464\"", "\"sproxy-typo:9464\"");
    Result r = run(copy, Map.of("WANRELAY_JAR", "/nonexistent.jar"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output()).contains("host 'sproxy-typo' is not a compose service");
  }

  @Test
  void dashboardThatDoesNotParseFails() throws Exception {
    Path copy = copyOfDockerDir();
    Files.writeString(copy.resolve("grafana/dashboards/wanrelay.json"), "{ \"panels\": [ ");
    Result r = run(copy, Map.of("WANRELAY_JAR", "/nonexistent.jar"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output()).contains("wanrelay.json does not parse as JSON");
  }

  @Test
  void missingBindMountSourceFails() throws Exception {
    Path copy = copyOfDockerDir();
    Files.delete(copy.resolve("wanem/wanem.sh"));
    Result r = run(copy, Map.of("WANRELAY_JAR", "/nonexistent.jar"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output()).contains("service wanem: bind-mount source ./wanem/wanem.sh does not exist");
  }

  @Test
  void composeFileWithAnUnknownServiceKeyFails() throws Exception {
    Path copy = copyOfDockerDir();
    replace(copy.resolve("docker-compose.yml"), "    command: [ \"sh\", \"/usr/local/bin/wanem.sh\" ]",
        "    commandd: [ \"sh\", \"/usr/local/bin/wanem.sh\" ]");
    Result r = run(copy, Map.of("WANRELAY_JAR", "/nonexistent.jar"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output()).contains("docker-compose config rejects", "commandd");
  }

  @Test
  void serviceOnAnUndeclaredNetworkFails() throws Exception {
    Path copy = copyOfDockerDir();
    replace(copy.resolve("docker-compose.yml"), "    networks:\n      wan-a: { ipv4_address: 10.9.2.3 }",
        "    networks:\n      no-such-network: { ipv4_address: 10.9.2.3 }");
    Result r = run(copy, Map.of("WANRELAY_JAR", "/nonexistent.jar"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output()).contains("service wanem: network no-such-network is not declared");
  }

  @Test
  void relayConfigsAreCheckedByTheRelayItselfIncludingTheCommentedTransparentStanza() throws Exception {
    Path copy = copyOfDockerDir();
    Files.writeString(copy.resolve("relay/sproxy.yaml"), "no-such-key: 1\n", java.nio.file.StandardOpenOption.APPEND);
    replace(copy.resolve("relay/cproxy.yaml"), "#     - { action: pass-through }", "#     - { action: teleport }");
    Result r = run(copy, Map.of("WANRELAY_JAR", jar().toString()));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output()).contains(
        "ok: check-config cproxy.yaml\n",
        "rejects " + copy.resolve("relay/cproxy.yaml") + " with its commented transparent stanza uncommented", "teleport",
        "check-config rejects " + copy.resolve("relay/sproxy.yaml"), "no-such-key");
  }

  /** A copy of docker/ next to a copy of the parent, so the compose build context (..) exists. */
  private Path copyOfDockerDir() throws IOException {
    Path src = RepoLayout.dockerDir();
    Path dst = tmp.resolve("repo/docker");
    try (Stream<Path> files = Files.walk(src)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path to = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    return dst;
  }

  private static void replace(Path file, String from, String to) throws IOException {
    String text = Files.readString(file);
    assertThat(text).as("fixture text in %s", file).contains(from);
    Files.writeString(file, text.replace(from, to));
  }

  private static Result run(Path dockerDir, Map<String, String> env) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), dockerDir.toString()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("check-static.sh did not finish in 120 s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
