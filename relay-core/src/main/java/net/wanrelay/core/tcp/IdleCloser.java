package net.wanrelay.core.tcp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;

/** Ends an idle session: records the outcome and closes the client (the leg follows). */
public final class IdleCloser extends ChannelInboundHandlerAdapter {
  private final TcpSession session;

  public IdleCloser(TcpSession session) {
    this.session = session;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      session.end(Outcome.IDLE_TIMEOUT);
      ctx.close();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }
}
