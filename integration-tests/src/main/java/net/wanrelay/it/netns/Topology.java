package net.wanrelay.it.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import net.wanrelay.it.wan.WanControl;
import net.wanrelay.it.wan.WanEmulator;

/**
 * A chain of network namespaces joined by veth pairs, routed so that traffic from {@code client}
 * to {@code server} crosses {@code cproxy}, {@code wan} and {@code sproxy} (kernel forwarding in
 * each). In {@code wan}, a user-space emulator on two TUN devices adds delay, loss and rate limits
 * (see {@link WanEmulator}); {@link #wan()} changes them at run time.
 *
 * <p>Namespace names are {@code wrt-<pid>-<random>-<node>}, so parallel runs never clash; on
 * build, namespaces of earlier runs whose JVM is gone are removed (with the processes left in
 * them). {@link #close()} and a JVM shutdown hook remove everything this topology made.
 *
 * <p>Addresses: the i-th link (counting from the client) is 10.9.i.0/24, its client-side end .1,
 * its server-side end .2. Default chain: client 10.9.0.1, cproxy 10.9.0.2/10.9.1.1, wan
 * 10.9.1.2/10.9.2.1, sproxy 10.9.2.2/10.9.3.1, server 10.9.3.2. Use {@link #address(String)}
 * rather than literals: variants shift them.
 */
public final class Topology implements AutoCloseable {
  public static final String CLIENT = "client";
  public static final String CPROXY = "cproxy";
  public static final String WAN = "wan";
  public static final String MPROXY = "mproxy";
  public static final String SPROXY = "sproxy";
  public static final String SERVER = "server";
  public static final String SERVER2 = "server2";

  /** Prefix of every namespace this project's test bed creates. */
  public static final String PREFIX = "wrt-";
  /** wrt-PID-RANDOM-NODE for topologies, wrt-probe-PID for {@link Testbed}'s capability probe. */
  private static final Pattern OWNED = Pattern.compile("^" + PREFIX + "(?:probe-)?(\\d+)(?:-|$)");
  private static final Set<Topology> LIVE = ConcurrentHashMap.newKeySet();
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(LIVE).forEach(Topology::close), "wrt-teardown"));
  }

  private final String runId;
  private final List<String> nodes;
  private final List<Link> links;
  private final Map<String, Boolean> forwarders;
  private final List<NsProcess> processes = new CopyOnWriteArrayList<>();
  private volatile WanControl wan;
  private volatile boolean closed;

  /** One veth pair; {@code a} is the end nearer the client. */
  record Link(int index, String a, String b) {
    String address(String node) {
      if (node.equals(a)) {
        return "10.9." + index + ".1";
      }
      if (node.equals(b)) {
        return "10.9." + index + ".2";
      }
      throw new IllegalArgumentException(node + " is not on link " + this);
    }

    String other(String node) {
      return node.equals(a) ? b : a;
    }

    String subnet() {
      return "10.9." + index + ".0/24";
    }
  }

  private Topology(String runId, List<String> nodes, List<Link> links, Map<String, Boolean> forwarders) {
    this.runId = runId;
    this.nodes = List.copyOf(nodes);
    this.links = List.copyOf(links);
    this.forwarders = Map.copyOf(forwarders);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds topologies; the default is client, cproxy, wan (with emulator), sproxy, server. */
  public static final class Builder {
    private boolean sproxy = true;
    private boolean thirdRelay;
    private boolean secondServer;
    private boolean emulator = true;

    private Builder() {}

    /** No relay on the server side: wan routes straight to the server (no peer on the path). */
    public Builder withoutSproxy() {
      this.sproxy = false;
      return this;
    }

    /** A third relay, {@code mproxy}, between wan and sproxy. */
    public Builder withThirdRelay() {
      this.thirdRelay = true;
      return this;
    }

    /** A second server, {@code server2}, on its own link from the last relay before the server. */
    public Builder withSecondServer() {
      this.secondServer = true;
      return this;
    }

    /** Plain kernel forwarding in wan, no emulator process. */
    public Builder withoutWanEmulator() {
      this.emulator = false;
      return this;
    }

    /** Creates the namespaces, links, routes and (by default) the WAN emulator. */
    public Topology build() {
      Testbed.unavailableReason().ifPresent(r -> {
        throw new IllegalStateException("cannot build the namespace test bed: " + r);
      });
      List<String> chain = new ArrayList<>(List.of(CLIENT, CPROXY, WAN));
      if (thirdRelay) {
        chain.add(MPROXY);
      }
      if (sproxy) {
        chain.add(SPROXY);
      }
      chain.add(SERVER);
      List<Link> links = new ArrayList<>();
      for (int i = 0; i + 1 < chain.size(); i++) {
        links.add(new Link(i, chain.get(i), chain.get(i + 1)));
      }
      List<String> nodes = new ArrayList<>(chain);
      if (secondServer) {
        nodes.add(SERVER2);
        links.add(new Link(links.size(), chain.get(chain.size() - 2), SERVER2));
      }
      Map<String, Boolean> forwarders = new LinkedHashMap<>();
      for (String n : nodes) {
        forwarders.put(n, !(n.equals(CLIENT) || n.equals(SERVER) || n.equals(SERVER2)));
      }
      String runId = PREFIX + ProcessHandle.current().pid() + "-"
          + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
      Topology t = new Topology(runId, nodes, links, forwarders);
      LIVE.add(t);
      try {
        removeStale();
        t.create(emulator);
        return t;
      } catch (RuntimeException | Error e) {
        t.close();
        throw e;
      }
    }
  }

  private void create(boolean emulator) {
    for (String n : nodes) {
      Commands.run(List.of("ip", "netns", "add", namespace(n))).orThrow();
    }
    for (String n : nodes) {
      List<String> sysctl = new ArrayList<>(List.of("ip", "netns", "exec", namespace(n), "sysctl", "-qw",
          "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
          "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
          "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"));
      if (forwarders.get(n)) {
        sysctl.add("net.ipv4.ip_forward=1");
      }
      Commands.run(sysctl).orThrow();
    }
    for (Link l : links) {
      // Interfaces are named after the neighbour they lead to and made directly inside the
      // namespaces, so nothing appears in the host namespace, even for a moment.
      Commands.run(List.of("ip", "link", "add", l.b(), "netns", namespace(l.a()), "type", "veth",
          "peer", "name", l.a(), "netns", namespace(l.b()))).orThrow();
    }
    for (String n : nodes) {
      StringBuilder batch = new StringBuilder("link set lo up\n");
      for (Link l : linksOf(n)) {
        String dev = l.other(n);
        batch.append("addr add ").append(l.address(n)).append("/24 dev ").append(dev).append('\n');
        batch.append("link set ").append(dev).append(" up\n");
      }
      for (Link l : linksOf(n)) {
        String neighbour = l.other(n);
        for (String subnet : subnetsBehind(neighbour, n)) {
          batch.append("route add ").append(subnet).append(" via ").append(l.address(neighbour)).append('\n');
        }
      }
      Commands.run(List.of("ip", "-n", namespace(n), "-batch", "-"), batch.toString(), Commands.DEFAULT_TIMEOUT)
          .orThrow();
    }
    if (emulator) {
      startEmulator();
    }
  }

  /**
   * Two TUN devices in wan: packets arriving from the client side are policy-routed into
   * {@code tun-c2s}, the emulator reads them there and writes them into {@code tun-s2c}, from
   * where the kernel routes them on (main table) to the server side; the reverse direction
   * mirrors this.
   */
  private void startEmulator() {
    String ns = namespace(WAN);
    Link left = links.stream().filter(l -> l.b().equals(WAN)).findFirst().orElseThrow();
    List<Link> right = links.stream().filter(l -> l.a().equals(WAN)).toList();
    StringBuilder batch = new StringBuilder();
    for (String tun : List.of(WanEmulator.TUN_C2S, WanEmulator.TUN_S2C)) {
      batch.append("tuntap add dev ").append(tun).append(" mode tun\n");
      batch.append("link set ").append(tun).append(" txqueuelen 2000 up\n");
    }
    batch.append("route add default dev ").append(WanEmulator.TUN_C2S).append(" table 100\n");
    batch.append("rule add iif ").append(left.a()).append(" lookup 100 pref 100\n");
    batch.append("route add default dev ").append(WanEmulator.TUN_S2C).append(" table 101\n");
    for (Link r : right) {
      batch.append("rule add iif ").append(r.b()).append(" lookup 101 pref 101\n");
    }
    Commands.run(List.of("ip", "-n", ns, "-batch", "-"), batch.toString(), Commands.DEFAULT_TIMEOUT).orThrow();
    NsProcess p = spawnJava(WAN, WanEmulator.class.getName(), List.of());
    p.awaitLine(Pattern.compile("^READY\\b"), START_TIMEOUT);
    wan = new WanControl(p);
  }

  // ---- queries ----------------------------------------------------------------------------

  /** The run's unique prefix, e.g. {@code wrt-4711-9f3a}. */
  public String runId() {
    return runId;
  }

  public List<String> nodes() {
    return nodes;
  }

  /** The namespace name of {@code node} (for {@code ip netns exec}). */
  public String namespace(String node) {
    requireNode(node);
    return runId + "-" + node;
  }

  /** The node's address on its link towards the client (for end hosts, their only address). */
  public String address(String node) {
    List<Link> own = linksOf(node);
    return own.stream().filter(l -> l.b().equals(node)).findFirst().orElse(own.get(0)).address(node);
  }

  /** The node's address on the link it shares with {@code neighbour}. */
  public String address(String node, String neighbour) {
    return linksOf(node).stream().filter(l -> l.other(node).equals(neighbour)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(node + " and " + neighbour + " share no link"))
        .address(node);
  }

  public InetAddress inetAddress(String node) {
    try {
      return InetAddress.getByName(address(node));
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The WAN emulator's control handle; throws if this topology was built without it. */
  public WanControl wan() {
    if (wan == null) {
      throw new IllegalStateException("this topology has no WAN emulator");
    }
    return wan;
  }

  private List<Link> linksOf(String node) {
    requireNode(node);
    return links.stream().filter(l -> l.a().equals(node) || l.b().equals(node)).toList();
  }

  /** Subnets reachable through {@code node} when coming from {@code from} (the tree has no cycles). */
  private List<String> subnetsBehind(String node, String from) {
    List<String> out = new ArrayList<>();
    for (Link l : linksOf(node)) {
      String next = l.other(node);
      if (!next.equals(from)) {
        out.add(l.subnet());
        out.addAll(subnetsBehind(next, node));
      }
    }
    return out;
  }

  private void requireNode(String node) {
    if (!nodes.contains(node)) {
      throw new IllegalArgumentException("no node " + node + " in " + nodes);
    }
  }

  // ---- running things ---------------------------------------------------------------------

  /** Runs a shell command line ({@code sh -c}) in the node's namespace and waits for it. */
  public ExecResult exec(String node, String shellCommand) {
    return exec(node, List.of("sh", "-c", shellCommand), Commands.DEFAULT_TIMEOUT);
  }

  /** Runs a command in the node's namespace and waits at most {@code timeout}. */
  public ExecResult exec(String node, List<String> command, Duration timeout) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
    full.addAll(command);
    return Commands.run(full, null, timeout);
  }

  /** Sets a sysctl inside the node's namespace, e.g. {@code net.ipv4.tcp_congestion_control}. */
  public void sysctl(String node, String key, String value) {
    exec(node, List.of("sysctl", "-qw", key + "=" + value), Commands.DEFAULT_TIMEOUT).orThrow();
  }

  /** Starts a long-running command in the node's namespace; it is killed on {@link #close()}. */
  public NsProcess spawn(String node, List<String> command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
    full.addAll(command);
    try {
      Process p = new ProcessBuilder(full).start();
      NsProcess np = new NsProcess(namespace(node), Path.of(command.get(0)).getFileName().toString(), p);
      processes.add(np);
      return np;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + full, e);
    }
  }

  /** Starts {@code mainClass} in a child JVM on this JVM's class path, inside the node's namespace. */
  public NsProcess spawnJava(String node, String mainClass, List<String> args) {
    List<String> cmd = new ArrayList<>(javaCommand());
    cmd.add(mainClass);
    cmd.addAll(args);
    return spawn(node, cmd);
  }

  /** {@code java -cp <this JVM's class path> <small-heap flags>}, for child JVMs. */
  public static List<String> javaCommand() {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
        "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-Xss512k", "-XX:-UsePerfData");
  }

  /**
   * Runs {@code action} on a fresh thread that has entered the node's network namespace, and
   * returns its result. Sockets are bound to the namespace of the thread that creates them, so
   * create AND bind or connect them inside {@code action} (java.net.Socket creates its file
   * descriptor lazily); they may be used from any thread afterwards.
   */
  public <T> T call(String node, Callable<T> action) {
    String ns = namespace(node);
    CompletableFuture<T> result = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        enterNamespace(ns);
        result.complete(action.call());
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    }, "in-" + ns);
    t.setDaemon(true);
    t.start();
    try {
      return result.get(5, TimeUnit.MINUTES);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error er) {
        throw er;
      }
      throw new IllegalStateException("in " + ns + ": " + cause, cause);
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException("in " + ns + ": " + e, e);
    }
  }

  /** Moves the calling thread into namespace {@code ns} (only this thread; the JVM stays put). */
  public static void enterNamespace(String ns) {
    int fd = Libc.open("/var/run/netns/" + ns, Libc.O_RDONLY | Libc.O_CLOEXEC);
    try {
      Libc.setns(fd, Libc.CLONE_NEWNET);
    } finally {
      Libc.close(fd);
    }
  }

  // ---- teardown ---------------------------------------------------------------------------

  /** Kills what this topology started and removes its namespaces (idempotent). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (NsProcess p : processes) {
      p.close();
    }
    for (String n : nodes) {
      removeNamespace(runId + "-" + n);
    }
    LIVE.remove(this);
  }

  /** Names of namespaces that exist now and carry the project's prefix. */
  public static List<String> existingNamespaces() {
    ExecResult r = Commands.run(List.of("ip", "netns", "list"));
    List<String> out = new ArrayList<>();
    for (String line : r.stdout().split("\n")) {
      String name = line.strip().split("\\s+")[0];
      if (name.startsWith(PREFIX)) {
        out.add(name);
      }
    }
    return out;
  }

  /**
   * Removes namespaces of this project whose creating JVM no longer runs (its pid is in the
   * name), killing any processes left in them. Namespaces of live parallel runs are kept.
   */
  public static List<String> removeStale() {
    List<String> removed = new ArrayList<>();
    for (String ns : existingNamespaces()) {
      var m = OWNED.matcher(ns);
      if (!m.find()) {
        continue;
      }
      long pid = Long.parseLong(m.group(1));
      boolean ownerAlive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
      if (!ownerAlive) {
        removeNamespace(ns);
        removed.add(ns);
      }
    }
    return removed;
  }

  private static void removeNamespace(String ns) {
    if (!Files.exists(Path.of("/var/run/netns", ns))) {
      return;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
      ExecResult pids = Commands.run(List.of("ip", "netns", "pids", ns));
      List<String> alive = pids.stdout().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
      if (alive.isEmpty()) {
        break;
      }
      List<String> kill = new ArrayList<>(List.of("kill", "-9"));
      kill.addAll(alive);
      Commands.run(kill);
      sleepQuietly(50);
    }
    Commands.run(List.of("ip", "netns", "del", ns));
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "Topology" + nodes + "(" + runId + ")";
  }
}
