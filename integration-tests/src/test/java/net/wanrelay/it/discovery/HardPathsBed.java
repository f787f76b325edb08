package net.wanrelay.it.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import net.wanrelay.it.discovery.DiscoveryBed.Exchange;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.Topology;

/** Configs and checks shared by the discovery tests of hard paths (stripping, restarts, three relays). */
final class HardPathsBed {
  static final String TRUNK = "route=\"trunk\"";
  static final String PASS = "route=\"passthrough\"";

  private HardPathsBed() {}

  /** A CP that intercepts the server port, with the given discovery settings (YAML flow map body). */
  static String cpConfig(String discovery) {
    return """
        node: { id: cp, admin: 127.0.0.1:9464, drain-timeout: 1s }
        trunk:
          key: "%s"
        intercept:
          tcp-ports: [%d]
          tproxy-listen: 0.0.0.0:7777
          transparent-source: true
          apply-rules: true
        discovery: { %s }
        """.formatted(DiscoveryBed.KEY, DiscoveryBed.SERVER_PORT, discovery);
  }

  /** An SP (trunk listener, answers probes) advertising {@code advertise}, with extra discovery settings. */
  static String spConfig(String id, String advertise, String allow, String discoveryExtra) {
    return """
        node: { id: %s, admin: 127.0.0.1:9464, drain-timeout: 1s }
        trunk:
          listen: 0.0.0.0:7800
          key: "%s"
          allow: [ %s ]
          compression: off
        intercept:
          transparent-source: true
          apply-rules: true
        discovery: { advertise: "%s"%s }
        """.formatted(id, DiscoveryBed.KEY, allow, advertise, discoveryExtra.isEmpty() ? "" : ", " + discoveryExtra);
  }

  static String subnet24(String address) {
    return address.substring(0, address.lastIndexOf('.')) + ".0/24";
  }

  /** One exchange whose bytes must arrive intact both ways (the client sees no error). */
  static Exchange intactExchange(Topology t, String server, int bytes, long seed) throws Exception {
    Exchange e = DiscoveryBed.exchange(t, server, bytes, seed);
    assertThat(e.echoedSha256()).as("server's SHA-256 of what the client sent (seed %d)", seed).isEqualTo(e.sentSha256());
    assertThat(e.replyIntact()).as("server -> client bytes intact (seed %d)", seed).isTrue();
    return e;
  }

  /** GET /api/pmt of the node's admin port. */
  static String pmt(Topology t, String node) {
    return t.call(node, () -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", 9464), 5000);
        s.setSoTimeout(5000);
        s.getOutputStream().write("GET /api/pmt HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int body = all.indexOf("\r\n\r\n");
        return body < 0 ? all : all.substring(body + 4);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** Saves output and metrics of every relay given (null ones skipped). */
  static void saveAll(Path dir, NsProcess... relays) {
    try {
      java.nio.file.Files.createDirectories(dir);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    for (NsProcess p : relays) {
      if (p == null) {
        continue;
      }
      try {
        String name = p.namespace().substring(p.namespace().lastIndexOf('-') + 1);
        DiscoveryBed.saveOutput(dir, name, p);
      } catch (IOException | RuntimeException e) {
        System.err.println("could not save output of " + p + ": " + e);
      }
    }
  }
}
