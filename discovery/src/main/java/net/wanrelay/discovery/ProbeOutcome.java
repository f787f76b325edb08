package net.wanrelay.discovery;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.List;
import net.wanrelay.discovery.option.ProbeResponse;

/** What a probe found out. */
public sealed interface ProbeOutcome {
  /** An SP answered; the probe connection was closed. Use the trunk to one of {@code peers}. */
  record Peer(List<InetSocketAddress> peers, ProbeResponse response) implements ProbeOutcome {}

  /**
   * No SP answered and the server accepted: {@code channel} is connected to the server (from the
   * client's address when transparent), AUTO_READ off, ready to become the pass-through leg. The
   * caller owns it and must close it.
   */
  record NoPeer(Channel channel) implements ProbeOutcome {}

  /**
   * The SYN with the option got no answer but a plain SYN was accepted: the path strips or drops
   * the option. {@code channel} is the connected plain leg (caller owns it).
   */
  record Stripped(Channel channel) implements ProbeOutcome {}

  /** Neither the probe nor the plain retry got an answer. */
  record Timeout() implements ProbeOutcome {}

  /** The connection failed for another reason (refused, unreachable, bind failed). */
  record Failed(Throwable cause) implements ProbeOutcome {}
}
