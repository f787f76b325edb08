package net.wanrelay.core.udp;

import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;

/** Opens the far side of a new UDP flow, on the listener's event loop. */
@FunctionalInterface
public interface UdpLegFactory {
  UdpLeg open(EventLoop loop, InetSocketAddress client, InetSocketAddress target, UdpLeg.Replies replies);
}
