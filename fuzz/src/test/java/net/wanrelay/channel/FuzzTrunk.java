package net.wanrelay.channel;

import net.wanrelay.channel.compress.CompressionSettings;
import net.wanrelay.channel.compress.Decompressor;
import net.wanrelay.channel.frame.Hello;

/** Builds the package-private trunk pieces for the fuzz tests (same package, test code only). */
public final class FuzzTrunk {
  private FuzzTrunk() {}

  /** An authenticated connection handler, as the handshake would install it. */
  public static TrunkConnection connection(boolean initiator, TrunkSettings settings, TrunkMetrics metrics,
      StreamAcceptor acceptor, CompressionSettings compression) {
    Hello remote = new Hello(PskHandshakeHandler.VERSION, PskHandshakeHandler.VERSION,
        initiator ? Hello.ROLE_ACCEPTOR : Hello.ROLE_INITIATOR, new byte[Hello.NONCE_LENGTH],
        Hello.CAP_LZ4 | Hello.CAP_ZSTD | Hello.CAP_UDP, settings.initialWindow, settings.maxStreams, "peer");
    return new TrunkConnection(settings, initiator, remote, metrics, metrics.peer("peer"), acceptor, compression,
        new Decompressor());
  }
}
