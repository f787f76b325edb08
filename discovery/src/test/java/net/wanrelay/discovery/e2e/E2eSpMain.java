package net.wanrelay.discovery.e2e;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import net.wanrelay.discovery.DiscoveryResponder;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeResponse;
import net.wanrelay.discovery.rules.PeeringRules;

/**
 * Child process in the SP namespace: discovery listener + SYN-ACK response writer.
 * Args: trunkAddress trunkPort discoveryPort listenerMark responseQueue [kind exid|none]. Stops when stdin closes.
 */
public final class E2eSpMain {
  private E2eSpMain() {}

  public static void main(String[] args) throws Exception {
    Inet4Address trunk = (Inet4Address) InetAddress.getByName(args[0]);
    int trunkPort = Integer.parseInt(args[1]);
    int discoveryPort = Integer.parseInt(args[2]);
    int mark = Integer.decode(args[3]);
    int queue = Integer.parseInt(args[4]);
    OptionFormat format = args.length > 6 ? E2eCpMain.format(args[5], args[6]) : OptionFormat.DEFAULT;
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    DiscoveryResponder.Config cfg = new DiscoveryResponder.Config(new InetSocketAddress(discoveryPort), mark,
        format, new ProbeResponse(1, 0, trunkPort, List.of(trunk)), new PeeringRules(List.of()));
    try (DiscoveryResponder r = new DiscoveryResponder(group, cfg, new SimpleMeterRegistry(), seen -> {
      System.out.println("PROBE " + seen.client().getAddress().getHostAddress() + " "
          + seen.server().getAddress().getHostAddress() + ":" + seen.server().getPort()
          + " version=" + seen.probe().version());
      System.out.flush();
    })) {
      r.startListener().startQueue(queue);
      System.out.println("READY");
      System.out.flush();
      while (System.in.read() >= 0) {
        // run until the parent closes stdin
      }
    } finally {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
