package net.wanrelay.discovery.e2e;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import net.wanrelay.discovery.kernel.CommandRunner;

/**
 * client (10.77.1.2) - cp (10.77.1.1 | 10.77.2.1) - sp (10.77.2.2 | 10.77.3.1) - server (10.77.3.2),
 * four namespaces named {@code wrd-<random>-<role>}, removed on close and by a shutdown hook.
 */
final class NamespaceTopology implements AutoCloseable {
  final String prefix = uniquePrefix();
  final String client = prefix + "c";
  final String cp = prefix + "cp";
  final String sp = prefix + "sp";
  final String server = prefix + "s";
  private final List<String> created = new ArrayList<>();
  private final Thread hook = new Thread(this::removeQuietly, "wrd-cleanup");

  static boolean isRoot() {
    try {
      return CommandRunner.exec(List.of("id", "-u"), null).stdout().trim().equals("0");
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code wrd-<pid>-<random>-}: the pid tells a stale namespace from one of a live run. */
  static String uniquePrefix() {
    return "wrd-" + ProcessHandle.current().pid() + "-"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff)) + "-";
  }

  /**
   * Deletes namespaces left by earlier runs that died before cleaning up: those whose creating
   * JVM is gone (a concurrent run's namespaces stay).
   */
  static void removeStale() throws IOException {
    String list = CommandRunner.exec(List.of("ip", "netns", "list"), null).stdout();
    for (String line : list.split("\n")) {
      String ns = line.trim().split("\\s+")[0];
      if (!ns.startsWith("wrd-")) {
        continue;
      }
      String[] parts = ns.split("-");
      boolean ownerAlive = false;
      try {
        ownerAlive = parts.length > 1 && ProcessHandle.of(Long.parseLong(parts[1])).map(ProcessHandle::isAlive).orElse(false);
      } catch (NumberFormatException notOurs) {
        ownerAlive = false; // an older naming scheme: stale by now
      }
      if (!ownerAlive) {
        CommandRunner.exec(List.of("ip", "netns", "del", ns), null);
      }
    }
  }

  NamespaceTopology build() throws IOException {
    Runtime.getRuntime().addShutdownHook(hook);
    for (String ns : List.of(client, cp, sp, server)) {
      sh("ip", "netns", "add", ns);
      created.add(ns);
      in(ns, "ip", "link", "set", "lo", "up");
    }
    link(client, "eth0", "10.77.1.2/24", cp, "c0", "10.77.1.1/24");
    link(cp, "w0", "10.77.2.1/24", sp, "w0", "10.77.2.2/24");
    link(sp, "s0", "10.77.3.1/24", server, "eth0", "10.77.3.2/24");
    in(client, "ip", "route", "add", "default", "via", "10.77.1.1");
    in(cp, "ip", "route", "add", "10.77.3.0/24", "via", "10.77.2.2");
    in(sp, "ip", "route", "add", "10.77.1.0/24", "via", "10.77.2.1");
    in(server, "ip", "route", "add", "default", "via", "10.77.3.1");
    for (String ns : List.of(cp, sp)) {
      in(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1");
      for (String k : List.of("all", "default", "lo", "w0", ns.equals(cp) ? "c0" : "s0")) {
        in(ns, "sysctl", "-qw", "net.ipv4.conf." + k + ".rp_filter=0");
      }
    }
    return this;
  }

  private void link(String ns1, String if1, String addr1, String ns2, String if2, String addr2) throws IOException {
    sh("ip", "link", "add", "name", if1, "netns", ns1, "type", "veth", "peer", "name", if2, "netns", ns2);
    in(ns1, "ip", "addr", "add", addr1, "dev", if1);
    in(ns2, "ip", "addr", "add", addr2, "dev", if2);
    in(ns1, "ip", "link", "set", if1, "up");
    in(ns2, "ip", "link", "set", if2, "up");
  }

  static CommandRunner.Result sh(String... cmd) throws IOException {
    CommandRunner.Result r = CommandRunner.exec(List.of(cmd), null);
    if (!r.ok()) {
      throw new IOException(String.join(" ", cmd) + " failed: " + r.stderr().trim());
    }
    return r;
  }

  static CommandRunner.Result in(String ns, String... cmd) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    full.addAll(List.of(cmd));
    return sh(full.toArray(String[]::new));
  }

  private void removeQuietly() {
    for (String ns : created) {
      try {
        CommandRunner.exec(List.of("ip", "netns", "del", ns), null);
      } catch (IOException ignored) {
        // best effort
      }
    }
    created.clear();
  }

  @Override
  public void close() {
    removeQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // shutting down already
    }
  }
}
