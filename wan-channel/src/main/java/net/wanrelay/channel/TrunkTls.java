package net.wanrelay.channel;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.File;
import javax.net.ssl.SSLException;

/**
 * Optional TLS 1.3 wrapper for trunk connections, mutual certificates, JDK provider. The PSK
 * handshake still runs inside TLS, so a stolen certificate alone does not open a trunk.
 *
 * @param server context for accepted peers (requires a client certificate), or null
 * @param client context for outbound links (presents our certificate), or null
 */
public record TrunkTls(SslContext server, SslContext client) {
  /**
   * Builds both contexts from PEM files: this node's certificate chain and PKCS#8 key, and the
   * CA that signs the peers' certificates. Outbound links verify the peer certificate against
   * the CA (hostname verification is off: trunk peers are often addressed by IP).
   */
  public static TrunkTls fromPem(File certChain, File privateKey, File trustedCa) throws SSLException {
    SslContext server = SslContextBuilder.forServer(certChain, privateKey)
        .sslProvider(SslProvider.JDK).protocols("TLSv1.3")
        .trustManager(trustedCa).clientAuth(ClientAuth.REQUIRE)
        .build();
    SslContext client = SslContextBuilder.forClient()
        .sslProvider(SslProvider.JDK).protocols("TLSv1.3")
        .keyManager(certChain, privateKey).trustManager(trustedCa)
        .endpointIdentificationAlgorithm(null) // peers are pinned by the CA, not by host name
        .build();
    return new TrunkTls(server, client);
  }
}
