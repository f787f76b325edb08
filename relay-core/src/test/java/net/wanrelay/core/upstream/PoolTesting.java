package net.wanrelay.core.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import net.wanrelay.core.Relay;
import net.wanrelay.core.config.ConfigLoader;

/** Helpers shared by the pool, divert and admin tests. */
final class PoolTesting {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private PoolTesting() {}

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static Relay startRelay(String yaml) throws Exception {
    return new Relay(ConfigLoader.parse("test.yaml", yaml)).start();
  }

  static InetSocketAddress listener(Relay relay, String name) {
    return relay.tcpListeners().stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow().localAddress();
  }

  /** One session: connect, ask "who", return the answering server's name (or null if reset/closed). */
  static String who(InetSocketAddress address) throws IOException {
    try (Socket s = open(address)) {
      return ask(s, "who");
    } catch (java.net.SocketException e) {
      return null; // reset while connecting: the relay refused the session
    }
  }

  static Socket open(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    s.connect(address, 5000);
    s.setSoTimeout(10_000);
    return s;
  }

  /** Sends one line on an open socket and reads one line back (null at EOF or reset). */
  static String ask(Socket s, String line) throws IOException {
    try {
      s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
    } catch (java.net.SocketException e) {
      return null; // reset by the relay
    }
  }

  static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(20);
    }
  }

  static HttpResponse<String> http(Relay relay, String method, String path, String body, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.adminAddress().getPort() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static JsonNode getJson(Relay relay, String path) {
    HttpResponse<String> r = http(relay, "GET", path, null, null);
    if (r.statusCode() != 200) {
      throw new AssertionError(path + " -> " + r.statusCode() + " " + r.body());
    }
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** The admin API's view of one member of one pool. */
  static JsonNode member(Relay relay, String pool, LineServer server) {
    for (JsonNode p : getJson(relay, "/api/pools").get("pools")) {
      if (p.get("name").asText().equals(pool)) {
        for (JsonNode m : p.get("members")) {
          if (m.get("address").asText().equals(server.address())) {
            return m;
          }
        }
      }
    }
    throw new AssertionError("no member " + server.address() + " in pool " + pool);
  }

  static boolean healthy(Relay relay, String pool, LineServer server) {
    return member(relay, pool, server).get("healthy").asBoolean();
  }

  /** The value of one Prometheus sample line starting with {@code series} (0 if absent). */
  static double metric(Relay relay, String series) {
    for (String line : relay.metrics().scrape().split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return 0;
  }
}
