package net.wanrelay.channel;

import java.time.Duration;

/**
 * Tunables of a trunk node; {@link #defaults()} suits a WAN, tests shrink the timers.
 * Immutable; use {@link #toBuilder()} to derive.
 */
public final class TrunkSettings {
  public final int maxFramePayload;
  public final int maxDataFrame;
  public final int initialWindow;
  public final int maxWindow;
  public final long linkBudget;
  public final int maxStreams;
  public final Duration heartbeatInterval;
  public final Duration heartbeatTimeout;
  public final Duration handshakeTimeout;
  public final Duration tcpUserTimeout;
  public final Duration connectTimeout;
  public final Duration reconnectMin;
  public final Duration reconnectMax;
  public final Duration udpIdleTimeout;
  public final int socketBuffer;
  public final int notSentLowat;
  public final int writeBufferLow;
  public final int writeBufferHigh;
  public final String congestionControl;
  public final boolean transparentSource;
  public final Duration resumeGrace;

  private TrunkSettings(Builder b) {
    maxFramePayload = b.maxFramePayload;
    maxDataFrame = b.maxDataFrame;
    initialWindow = b.initialWindow;
    maxWindow = b.maxWindow;
    linkBudget = b.linkBudget;
    maxStreams = b.maxStreams;
    heartbeatInterval = b.heartbeatInterval;
    heartbeatTimeout = b.heartbeatTimeout;
    handshakeTimeout = b.handshakeTimeout;
    tcpUserTimeout = b.tcpUserTimeout;
    connectTimeout = b.connectTimeout;
    reconnectMin = b.reconnectMin;
    reconnectMax = b.reconnectMax;
    udpIdleTimeout = b.udpIdleTimeout;
    socketBuffer = b.socketBuffer;
    notSentLowat = b.notSentLowat;
    writeBufferLow = b.writeBufferLow;
    writeBufferHigh = b.writeBufferHigh;
    congestionControl = b.congestionControl;
    transparentSource = b.transparentSource;
    resumeGrace = b.resumeGrace;
    if (resumeGrace.isNegative()) {
      throw new IllegalArgumentException("resumeGrace must not be negative");
    }
    if (maxDataFrame > maxFramePayload || initialWindow < maxDataFrame || maxWindow < initialWindow) {
      throw new IllegalArgumentException("need maxDataFrame <= maxFramePayload and initialWindow <= maxWindow");
    }
  }

  public static TrunkSettings defaults() {
    return new Builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxFramePayload = maxFramePayload;
    b.maxDataFrame = maxDataFrame;
    b.initialWindow = initialWindow;
    b.maxWindow = maxWindow;
    b.linkBudget = linkBudget;
    b.maxStreams = maxStreams;
    b.heartbeatInterval = heartbeatInterval;
    b.heartbeatTimeout = heartbeatTimeout;
    b.handshakeTimeout = handshakeTimeout;
    b.tcpUserTimeout = tcpUserTimeout;
    b.connectTimeout = connectTimeout;
    b.reconnectMin = reconnectMin;
    b.reconnectMax = reconnectMax;
    b.udpIdleTimeout = udpIdleTimeout;
    b.socketBuffer = socketBuffer;
    b.notSentLowat = notSentLowat;
    b.writeBufferLow = writeBufferLow;
    b.writeBufferHigh = writeBufferHigh;
    b.congestionControl = congestionControl;
    b.transparentSource = transparentSource;
    b.resumeGrace = resumeGrace;
    return b;
  }

  /** Builder with the production defaults. */
  public static final class Builder {
    private int maxFramePayload = 256 * 1024;
    private int maxDataFrame = 128 * 1024;
    private int initialWindow = 1024 * 1024;
    private int maxWindow = 16 * 1024 * 1024;
    private long linkBudget = 256L * 1024 * 1024;
    private int maxStreams = 8192;
    private Duration heartbeatInterval = Duration.ofSeconds(5);
    private Duration heartbeatTimeout = Duration.ofSeconds(15);
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private Duration tcpUserTimeout = Duration.ofSeconds(30);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration reconnectMin = Duration.ofMillis(200);
    private Duration reconnectMax = Duration.ofSeconds(15);
    private Duration udpIdleTimeout = Duration.ofSeconds(60);
    private int socketBuffer = 4 * 1024 * 1024;
    private int notSentLowat = 128 * 1024;
    private int writeBufferLow = 512 * 1024;
    private int writeBufferHigh = 1024 * 1024;
    private String congestionControl;
    private boolean transparentSource;
    private Duration resumeGrace = Duration.ofSeconds(30);

    /** Largest frame payload accepted from the peer (decoder limit). */
    public Builder maxFramePayload(int v) { maxFramePayload = v; return this; }
    /** Largest DATA payload this side sends. */
    public Builder maxDataFrame(int v) { maxDataFrame = v; return this; }
    /** Credit each new stream starts with. */
    public Builder initialWindow(int v) { initialWindow = v; return this; }
    /** Cap for the auto-tuned per-stream window. */
    public Builder maxWindow(int v) { maxWindow = v; return this; }
    /** Sum of receive windows one trunk connection may grant beyond the initial ones. */
    public Builder linkBudget(long v) { linkBudget = v; return this; }
    /** Concurrent streams accepted per connection; more get OPEN_FAIL(busy). */
    public Builder maxStreams(int v) { maxStreams = v; return this; }
    public Builder heartbeatInterval(Duration v) { heartbeatInterval = v; return this; }
    /** Silence longer than this closes the trunk socket. */
    public Builder heartbeatTimeout(Duration v) { heartbeatTimeout = v; return this; }
    public Builder handshakeTimeout(Duration v) { handshakeTimeout = v; return this; }
    /** TCP_USER_TIMEOUT on trunk sockets (epoll only); zero leaves the kernel default. */
    public Builder tcpUserTimeout(Duration v) { tcpUserTimeout = v; return this; }
    /** Trunk and server-leg connect timeout. */
    public Builder connectTimeout(Duration v) { connectTimeout = v; return this; }
    public Builder reconnectBackoff(Duration min, Duration max) { reconnectMin = min; reconnectMax = max; return this; }
    public Builder udpIdleTimeout(Duration v) { udpIdleTimeout = v; return this; }
    /** SO_SNDBUF and SO_RCVBUF of trunk sockets; 0 keeps kernel auto-tuning. */
    public Builder socketBuffer(int v) { socketBuffer = v; return this; }
    /** TCP_NOTSENT_LOWAT (epoll only); 0 leaves it unset. */
    public Builder notSentLowat(int v) { notSentLowat = v; return this; }
    /** Trunk channel write-buffer water marks: above high all streams pause reading. */
    public Builder writeBufferWaterMarks(int low, int high) { writeBufferLow = low; writeBufferHigh = high; return this; }
    /** TCP congestion control name for trunk sockets, e.g. "bbr"; null keeps the default. */
    public Builder congestionControl(String v) { congestionControl = v; return this; }
    /** SP: bind server legs to the original source (IP_TRANSPARENT, needs CAP_NET_ADMIN). */
    public Builder transparentSource(boolean v) { transparentSource = v; return this; }

    /**
     * How long streams of a lost trunk connection wait for a replacement connection to resume
     * them (replay buffers kept meanwhile); zero turns resumption off.
     */
    public Builder resumeGrace(Duration v) { resumeGrace = v; return this; }

    public TrunkSettings build() {
      return new TrunkSettings(this);
    }
  }
}
