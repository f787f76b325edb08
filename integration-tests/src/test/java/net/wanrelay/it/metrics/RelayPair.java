package net.wanrelay.it.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A CP and an SP relay as {@code java -jar wanrelay.jar run -c} subprocesses on free loopback ports,
 * in front of a {@link LoopbackEchoServer}. Like the docker topology in miniature:
 * <pre>
 *   client -> CP listener "echo" (tcp) / "echo-udp" (udp) --trunk--> SP --> echo server
 *   client -> CP listener "dead" (tcp, via: direct) --> a closed port (a connect failure)
 * </pre>
 * With {@link Via#DIRECT} (the relay without a trunk) the CP listeners forward directly to
 * listeners on the SP, which forward directly to the echo server, so both relays still carry the
 * session.
 */
public final class RelayPair implements AutoCloseable {
  /** How the CP reaches the SP. */
  public enum Via { PEER, DIRECT }

  public static final String TRUNK_KEY = "wanrelay-it-metrics-key-000000";
  private static final Duration STARTUP = Duration.ofSeconds(60);

  private final Via via;
  private final Path dir;
  private final LoopbackEchoServer echo;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private final int spAdmin = freeTcpPort();
  private final int cpAdmin = freeTcpPort();
  private final int trunkPort = freeTcpPort();
  private final int cpTcp = freeTcpPort();
  private final int cpUdp = freeUdpPort();
  private final int cpDead = freeTcpPort();
  private final int cpPool = freeTcpPort();
  private final int spTcp = freeTcpPort();
  private final int spUdp = freeUdpPort();
  private final int closedPort = freeTcpPort();
  private final List<ManagedProcess> processes = new ArrayList<>();

  private RelayPair(Via via, Path dir, LoopbackEchoServer echo) {
    this.via = via;
    this.dir = dir;
    this.echo = echo;
  }

  /** The route mode under test: -Dwanrelay.it.via=peer|direct, default peer (the trunk). */
  public static Via viaFromSystemProperty() {
    return Via.valueOf(System.getProperty("wanrelay.it.via", "peer").toUpperCase(java.util.Locale.ROOT));
  }

  /** Writes both configs under {@code dir}, starts SP then CP and waits until both are healthy (and, with a trunk, connected). */
  public static RelayPair start(Via via, Path dir, LoopbackEchoServer echo) {
    RelayPair pair = new RelayPair(via, dir, echo);
    try {
      pair.startAll();
      return pair;
    } catch (RuntimeException | Error e) {
      pair.close();
      throw e;
    }
  }

  private void startAll() {
    Path jar = RepoLayout.privateRelayJar(dir);
    Path sp = write("sp.yaml", spConfig());
    Path cp = write("cp.yaml", cpConfig());
    ManagedProcess spProc = launch("sp", jar, sp);
    awaitHealthy(spProc, spAdmin);
    ManagedProcess cpProc = launch("cp", jar, cp);
    awaitHealthy(cpProc, cpAdmin);
    if (via == Via.PEER) {
      await(cpProc, "trunk from cp to sp up", () -> metrics(cpAdmin).sum("wanrelay_trunk_up", Map.of("peer", "sp")) >= 1);
    }
  }

  String spConfig() {
    StringBuilder y = new StringBuilder();
    y.append("node: { id: sp, admin: 127.0.0.1:").append(spAdmin).append(" }\n");
    if (via == Via.PEER) {
      y.append("listeners: []\n");
      y.append("trunk:\n");
      y.append("  listen: 127.0.0.1:").append(trunkPort).append('\n');
      y.append("  key: \"").append(TRUNK_KEY).append("\"\n");
      y.append("  allow: [ 127.0.0.0/8 ]\n");
    } else {
      y.append("listeners:\n");
      y.append(listener("echo", "tcp", spTcp, echo.tcpPort(), "direct"));
      y.append(listener("echo-udp", "udp", spUdp, echo.udpPort(), "direct"));
    }
    return y.toString();
  }

  String cpConfig() {
    StringBuilder y = new StringBuilder();
    y.append("node: { id: cp, admin: 127.0.0.1:").append(cpAdmin).append(" }\n");
    y.append("listeners:\n");
    if (via == Via.PEER) {
      y.append(listener("echo", "tcp", cpTcp, echo.tcpPort(), "peer:sp"));
      y.append(listener("echo-udp", "udp", cpUdp, echo.udpPort(), "peer:sp"));
    } else {
      y.append(listener("echo", "tcp", cpTcp, spTcp, "direct"));
      y.append(listener("echo-udp", "udp", cpUdp, spUdp, "direct"));
    }
    y.append(listener("dead", "tcp", cpDead, closedPort, "direct"));
    // The echo server as a one-member pool with a data-exchange health probe (upstream metrics).
    y.append("  - { name: echo-pool, protocol: tcp, listen: 127.0.0.1:").append(cpPool)
        .append(", target: \"pool:echo\", via: ").append(via == Via.PEER ? "peer:sp" : "direct").append(" }\n");
    y.append("pools:\n");
    y.append("  echo:\n");
    y.append("    members: [ 127.0.0.1:").append(echo.tcpPort()).append(" ]\n");
    y.append("    health: { interval: 1s, timeout: 2s, rise: 1, fall: 3, send: \"ping\\n\", expect: \"ping\" }\n");
    if (via == Via.PEER) {
      y.append("trunk:\n");
      y.append("  peers:\n");
      y.append("    - { name: sp, address: 127.0.0.1:").append(trunkPort)
          .append(", key: \"").append(TRUNK_KEY).append("\", connections: 1 }\n");
    }
    y.append("limits: { connect-timeout: 5s }\n");
    return y.toString();
  }

  private static String listener(String name, String protocol, int listen, int target, String via) {
    return "  - { name: " + name + ", protocol: " + protocol + ", listen: 127.0.0.1:" + listen
        + ", target: 127.0.0.1:" + target + ", via: " + via + " }\n";
  }

  private Path write(String name, String text) {
    try {
      return Files.writeString(dir.resolve(name), text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private ManagedProcess launch(String name, Path jar, Path config) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // Small and quick to start: the machine is shared; these relays carry a few hundred KiB.
    List<String> cmd = List.of(java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-jar", jar.toString(), "run", "-c", config.toString());
    ManagedProcess p = ManagedProcess.start(name, cmd, dir.resolve(name + ".log"));
    processes.add(p);
    return p;
  }

  private void awaitHealthy(ManagedProcess p, int adminPort) {
    await(p, p + " /healthz", () -> {
      try {
        return get(adminPort, "/healthz").statusCode() == 200;
      } catch (IOException e) {
        return false;
      }
    });
  }

  /** Polls {@code condition} until true; fails with the relay's log when it dies or time runs out. */
  public void await(ManagedProcess p, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      p.requireAlive();
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (UncheckedIOException notYet) {
        // admin port not answering yet
      }
      sleep(200);
    }
    throw new IllegalStateException("timed out waiting for " + what + "; " + p + " log tail:\n" + p.logTail());
  }

  public ManagedProcess cpProcess() {
    return processes.get(1);
  }

  public ManagedProcess spProcess() {
    return processes.get(0);
  }

  public Via via() {
    return via;
  }

  public int cpAdminPort() {
    return cpAdmin;
  }

  public int spAdminPort() {
    return spAdmin;
  }

  public String config(String name) {
    try {
      return Files.readString(dir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public PrometheusText metrics(int adminPort) {
    try {
      HttpResponse<String> r = get(adminPort, "/metrics");
      if (r.statusCode() != 200) {
        throw new IllegalStateException("GET /metrics on " + adminPort + " answered " + r.statusCode());
      }
      return PrometheusText.parse(r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private HttpResponse<String> get(int port, String path) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).GET().build();
    try {
      return http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** Sends {@code payload} through the CP's TCP echo listener, half-closes, returns everything echoed back. */
  public byte[] tcpEcho(byte[] payload) {
    return tcpEcho(cpTcp, payload);
  }

  /** The same through the CP's listener whose target is the one-member pool "echo". */
  public byte[] tcpEchoViaPool(byte[] payload) {
    return tcpEcho(cpPool, payload);
  }

  private byte[] tcpEcho(int port, byte[] payload) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
      s.setSoTimeout(30_000);
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      // Write from another thread: the echo comes back while we are still sending.
      Thread writer = new Thread(() -> {
        try {
          out.write(payload);
          s.shutdownOutput();
        } catch (IOException ignored) {
          // the read side reports the short echo
        }
      }, "tcp-echo-writer");
      writer.start();
      byte[] got = in.readAllBytes();
      writer.join(30_000);
      return got;
    } catch (IOException e) {
      throw new UncheckedIOException("tcp echo through cp 127.0.0.1:" + port, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Sends one datagram through the CP's UDP echo listener and returns the reply (retries lost ones). */
  public byte[] udpEcho(byte[] payload) {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      s.setSoTimeout(2000);
      InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), cpUdp);
      for (int attempt = 0; attempt < 5; attempt++) {
        s.send(new DatagramPacket(payload, payload.length, to));
        DatagramPacket reply = new DatagramPacket(new byte[65535], 65535);
        try {
          s.receive(reply);
          return Arrays.copyOfRange(reply.getData(), 0, reply.getLength());
        } catch (java.net.SocketTimeoutException lost) {
          // the flow may still be opening on the far side; send again
        }
      }
      throw new IllegalStateException("no UDP echo through cp 127.0.0.1:" + cpUdp + " after 5 tries");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Connects to the CP listener whose target is a closed port; returns what the client saw (-1: EOF). */
  public int connectToDeadTarget() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), cpDead), 5000);
      s.setSoTimeout(30_000);
      return s.getInputStream().read();
    } catch (java.net.SocketTimeoutException e) {
      throw new IllegalStateException("the relay kept a session to a closed port open for 30 s", e);
    } catch (IOException reset) {
      return -1; // a reset is as good as EOF: the relay closed the client
    }
  }

  @Override
  public void close() {
    // CP first, so the SP sees an orderly trunk close.
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).close();
    }
  }

  static int freeTcpPort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int freeUdpPort() {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
