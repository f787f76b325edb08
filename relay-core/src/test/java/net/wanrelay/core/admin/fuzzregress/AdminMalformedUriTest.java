package net.wanrelay.core.admin.fuzzregress;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpMethod;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import net.wanrelay.core.admin.AdminServer;
import net.wanrelay.core.net.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Found by fuzz/AdminHttpFuzzTest: a bad percent escape in the query reached the route handler as an
 * IllegalArgumentException (500 plus a WARN stack trace per request), and one in the path closed the
 * connection without an answer. Both are the client's fault: 400 with a JSON reason.
 */
class AdminMalformedUriTest {
  private final Transport transport = Transport.nio();
  private final AtomicInteger handlerCalls = new AtomicInteger();
  private EventLoopGroup group;
  private AdminServer server;

  @BeforeEach
  void start() throws InterruptedException {
    group = transport.newGroup(1);
    server = new AdminServer(new InetSocketAddress("127.0.0.1", 0), () -> "", () -> true);
    server.addRoute(HttpMethod.GET, "/api/echo", req -> {
      handlerCalls.incrementAndGet();
      return AdminServer.ApiResponse.ok("{\"q\":\"" + req.requiredParam("q") + "\"}");
    });
    server.start(transport, group);
  }

  @AfterEach
  void stop() {
    server.stop();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void badEscapeInQueryIs400NotAnInternalError() throws Exception {
    String response = exchange("GET /api/echo?q=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 400").contains("malformed URI");
    assertThat(handlerCalls).hasValue(0);
  }

  @Test
  void badEscapeInPathIs400NotASilentClose() throws Exception {
    String response = exchange("GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 400").contains("malformed URI");
  }

  @Test
  void wellFormedQueryStillReachesTheRoute() throws Exception {
    String response = exchange("GET /api/echo?q=%41b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 200").endsWith("{\"q\":\"Ab\"}");
    assertThat(handlerCalls).hasValue(1);
  }

  private String exchange(String request) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(server.localAddress(), 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
