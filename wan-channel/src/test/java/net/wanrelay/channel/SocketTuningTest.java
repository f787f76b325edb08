package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SocketTuningTest {
  @Test
  void trunkSocketsGetNodelayUserTimeoutAndTheRequestedCongestionControl() throws Exception {
    assumeTrue(Epoll.isAvailable(), "epoll only");
    String available = Files.readString(Path.of("/proc/sys/net/ipv4/tcp_available_congestion_control"));
    assumeTrue(available.contains("cubic"), "cubic available");
    EventLoopGroup group = Transports.newGroup(1);
    try (ServerSocket server = new ServerSocket(0, 5, java.net.InetAddress.getByName("127.0.0.1"))) {
      TrunkSettings s = TrunkSettings.builder().congestionControl("cubic").tcpUserTimeout(Duration.ofSeconds(7)).build();
      Channel ch = new Bootstrap().group(group).channelFactory(Transports.socketChannels(group))
          .handler(new ChannelInboundHandlerAdapter())
          .connect(new InetSocketAddress("127.0.0.1", server.getLocalPort())).sync().channel();
      SocketTuning.applyTrunk(ch, s);
      assertThat(ch.config().getOption(ChannelOption.TCP_NODELAY)).isTrue();
      assertThat(ch.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isEqualTo(7000);
      assertThat(SocketTuning.congestionControl(ch)).isEqualTo("cubic");
      if (available.contains("bbr")) {
        assertThat(SocketTuning.setCongestionControl(ch, "bbr")).isTrue();
        assertThat(SocketTuning.congestionControl(ch)).isEqualTo("bbr");
      }
      // An unknown algorithm is refused by the kernel: logged, the previous one stays.
      assertThat(SocketTuning.setCongestionControl(ch, "no-such-cc")).isFalse();
      assertThat(SocketTuning.congestionControl(ch)).isIn("cubic", "bbr");
      ch.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }
}
