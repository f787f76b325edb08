package net.wanrelay.it.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.time.Duration;
import java.util.Map;
import net.wanrelay.it.metrics.PrometheusText;
import net.wanrelay.it.metrics.RepoLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.ContainerState;
import org.testcontainers.containers.DockerComposeContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * Brings docker/docker-compose.yml up (the image is built from this checkout) and checks, from the
 * client container, that sessions cross the pair: client -> cproxy -> wanem (netem) -> sproxy -> server.
 * Needs a Docker engine and the docker-compose binary; without an engine every test is skipped.
 */
@Tag("docker")
class DockerTopologyTest {
  private static DockerComposeContainer<?> topology;

  private static final String NO_DOCKER = "SKIPPED: no Docker engine found (DockerClientFactory) or no docker-compose binary; "
      + "the compose topology test needs both";

  @BeforeAll
  static void up() {
    if (!dockerAvailable() || !composeInstalled()) {
      return; // every test skips itself in requireTopology(), so each shows up as skipped with the reason
    }
    topology = new DockerComposeContainer<>(new File(RepoLayout.dockerDir().toFile(), "docker-compose.yml"))
        .withLocalCompose(true)
        .withBuild(true)
        .withEnv(Map.of("WAN_DELAY", "25ms", "WAN_LOSS", "0.5%", "WAN_RATE", "100mbit"))
        .waitingFor("wanem_1", Wait.forHealthcheck())
        .waitingFor("cproxy_1", Wait.forHealthcheck())
        .waitingFor("sproxy_1", Wait.forHealthcheck())
        .withStartupTimeout(Duration.ofMinutes(15));
    topology.start();
  }

  @BeforeEach
  void requireTopology() {
    assumeTrue(topology != null, NO_DOCKER);
  }

  @AfterAll
  static void down() {
    if (topology != null) {
      topology.stop();
    }
  }

  private static boolean composeInstalled() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (new File(dir, "docker-compose").canExecute()) {
        return true;
      }
    }
    return false;
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  private static ContainerState service(String name) {
    return topology.getContainerByServiceName(name + "_1")
        .orElseThrow(() -> new AssertionError("compose service " + name + " is not running"));
  }

  private static ExecResult exec(String service, String... cmd) throws Exception {
    return service(service).execInContainer(cmd);
  }

  @Test
  void webPageCrossesThePairOverTheTrunk() throws Exception {
    ExecResult r = exec("client", "curl", "-fsS", "--max-time", "30", "--retry", "5", "--retry-all-errors",
        "http://10.9.1.2:8080/");
    assertThat(r.getExitCode()).as(r.getStderr()).isZero();
    assertThat(r.getStdout()).contains("wanrelay-test-page");
  }

  @Test
  void routedPathThroughWanemWorksWithoutTheTrunk() throws Exception {
    // cproxy's via: direct listener reaches nginx over the routes: cproxy -> wanem -> sproxy (forwarding) -> server.
    ExecResult direct = exec("client", "curl", "-fsS", "--max-time", "30", "--retry", "5", "--retry-all-errors",
        "http://10.9.1.2:8081/");
    assertThat(direct.getExitCode()).as(direct.getStderr()).isZero();
    assertThat(direct.getStdout()).contains("wanrelay-test-page");
    // The client's own packets take the same routed path (what transparent mode will intercept).
    ExecResult ping = exec("client", "ping", "-c", "3", "-W", "5", "10.9.3.2");
    assertThat(ping.getExitCode()).as(ping.getStdout() + ping.getStderr()).isZero();
  }

  @Test
  void tcpEchoOfRandomBytesComesBackIdentical() throws Exception {
    ExecResult r = exec("client", "sh", "-c",
        "head -c 300000 /dev/urandom > /tmp/sent"
            + " && socat -t 20 -T 60 - TCP:10.9.1.2:7007 < /tmp/sent > /tmp/got"
            + " && sha256sum /tmp/sent | cut -d' ' -f1 && sha256sum /tmp/got | cut -d' ' -f1 && wc -c < /tmp/got");
    assertThat(r.getExitCode()).as(r.getStderr()).isZero();
    String[] lines = r.getStdout().strip().split("\\s+");
    assertThat(lines).hasSize(3);
    assertThat(lines[1]).as("sha256 of the echo").isEqualTo(lines[0]);
    assertThat(Long.parseLong(lines[2])).isEqualTo(300_000L);
  }

  @Test
  void relaysCountTheSessionAndTheTrunkIsUp() throws Exception {
    ExecResult fetch = exec("client", "curl", "-fsS", "--max-time", "30", "http://10.9.1.2:8080/");
    assertThat(fetch.getExitCode()).as(fetch.getStderr()).isZero();
    // Prometheus' image has busybox wget and sits on the management network with both relays.
    PrometheusText cp = PrometheusText.parse(exec("prometheus", "wget", "-qO-", "http://cproxy:9464/metrics").getStdout());
    PrometheusText sp = PrometheusText.parse(exec("prometheus", "wget", "-qO-", "http://sproxy:9464/metrics").getStdout());
    // The CP names its peer "sp" (trunk.peers); the SP names the inbound peer by its node id "cp".
    assertThat(cp.sum("wanrelay_trunk_up", Map.of("peer", "sp"))).isEqualTo(1.0);
    assertThat(sp.sum("wanrelay_trunk_up", Map.of("peer", "cp"))).isEqualTo(1.0);
    assertThat(cp.sum("wanrelay_session_bytes_total", Map.of("route", "trunk", "direction", "server_to_client")))
        .isGreaterThanOrEqualTo(fetch.getStdout().length());
    assertThat(cp.sum("wanrelay_trunk_payload_bytes_total", Map.of("peer", "sp", "direction", "rx")))
        .isGreaterThanOrEqualTo(fetch.getStdout().length());
    assertThat(sp.sum("wanrelay_trunk_payload_bytes_total", Map.of("peer", "cp", "direction", "tx")))
        .isGreaterThanOrEqualTo(fetch.getStdout().length());
  }

  @Test
  void wanEmulatorShapesBothWanLegsWithNetem() throws Exception {
    ExecResult r = exec("wanem", "tc", "qdisc", "show");
    assertThat(r.getStdout().lines().filter(l -> l.contains("netem") && l.contains("delay 25")).count()).isEqualTo(2);
  }

  @Test
  void prometheusScrapesBothRelaysAndGrafanaHasTheDashboard() throws Exception {
    ExecResult up = exec("prometheus", "sh", "-c",
        "i=0; while [ $i -lt 30 ]; do i=$((i+1));"
            + " out=$(wget -qO- 'http://localhost:9090/api/v1/query?query=sum%28up%7Bjob%3D%22wanrelay%22%7D%29');"
            + " echo \"$out\" | grep -q '\"2\"]' && { echo \"$out\"; exit 0; }; sleep 2; done; echo \"$out\"; exit 1");
    assertThat(up.getExitCode()).as("both targets up: " + up.getStdout()).isZero();
    ExecResult dash = exec("grafana", "sh", "-c",
        "i=0; while [ $i -lt 30 ]; do i=$((i+1));"
            + " wget -qO- http://localhost:3000/api/dashboards/uid/wanrelay-overview && exit 0; sleep 2; done; exit 1");
    assertThat(dash.getExitCode()).isZero();
    assertThat(dash.getStdout()).contains("\"title\":\"wanrelay pair\"");
  }
}
