package net.wanrelay.core.trunk;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.function.BiFunction;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.channel.UdpFlow;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.core.udp.UdpLeg;
import net.wanrelay.core.udp.UdpLegFactory;

/**
 * A UDP flow carried as DATAGRAM frames on the trunk to one peer (fixed, or chosen per flow from
 * the client and target, e.g. by a peer group); replies hop back to the listener's loop.
 */
public final class TrunkUdpLegFactory implements UdpLegFactory {
  private final BiFunction<InetSocketAddress, InetSocketAddress, PeerLink> chooser;

  public TrunkUdpLegFactory(PeerLink link) {
    this((client, target) -> link);
  }

  public TrunkUdpLegFactory(BiFunction<InetSocketAddress, InetSocketAddress, PeerLink> chooser) {
    this.chooser = chooser;
  }

  @Override
  public UdpLeg open(EventLoop loop, InetSocketAddress client, InetSocketAddress target, UdpLeg.Replies replies) {
    PeerLink link = chooser.apply(client, target);
    UdpFlow flow = link.openUdp(target, client, new UdpFlow.Receiver() {
      @Override
      public void onDatagram(UdpFlow f, ByteBuf datagram) {
        loop.execute(() -> replies.reply(datagram));
      }

      @Override
      public void onClosed(UdpFlow f, ErrorCode reason) {
        loop.execute(() -> replies.closed(reason.name().toLowerCase(Locale.ROOT)));
      }
    });
    return new UdpLeg() {
      @Override
      public boolean send(ByteBuf payload) {
        if (flow.isClosed()) {
          payload.release();
          return false;
        }
        flow.send(payload);
        return true;
      }

      @Override
      public void close() {
        flow.close();
      }
    };
  }
}
