package net.wanrelay.discovery.kernel;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.wanrelay.discovery.kernel.KernelRuleParams.Role;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.rules.Cidr;

/**
 * {@code print | apply | remove | check} for the discovery kernel rules, e.g.
 * {@code java -cp discovery.jar net.wanrelay.discovery.kernel.KernelRulesCli print --role cp,sp --intercept 80,443}.
 * {@code print} and {@code check} need no root. relay-core's CLI may call {@link #run} directly.
 */
public final class KernelRulesCli {
  private KernelRulesCli() {}

  static final String USAGE = """
      usage: KernelRulesCli print|apply|remove|check [options]
        --role cp|sp|cp,sp            roles of this relay (required except for check)
        --intercept 80,443            CP: TCP ports to intercept (TPROXY)
        --intercept-udp 53,5300       CP: UDP ports to intercept (TPROXY to the same port)
        --tproxy-port 7777            CP: the transparent listener of intercepted connections
        --discovery-port 7801         SP: the discovery listener
        --kind 253 --exid 0x5752      option kind and ExID (--exid none for kinds like 76)
        --marks 0x1,0x77,0x78         local, probe and listener marks
        --queues 7,8,9                probe SYN, SP SYN-ACK and CP SYN-ACK queues
        --table wanrelay --comment wanrelay   names of what we add
        --route-table 100             table for local delivery of marked packets
        --peering-pass-through 192.0.2.0/24,...   SP: sources not intercepted
        --netns NAME                  apply/remove inside a network namespace
      """;

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command; returns the exit code (0 ok, 1 failed, 2 usage). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0) {
      err.print(USAGE);
      return 2;
    }
    String command = args[0];
    KernelRuleParams p = new KernelRuleParams();
    String netns = null;
    int kind = OptionFormat.DEFAULT_KIND;
    Integer exid = OptionFormat.DEFAULT_EXID;
    try {
      for (int i = 1; i < args.length; i++) {
        String opt = args[i];
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(opt + " needs a value");
        }
        String v = args[++i];
        switch (opt) {
          case "--role" -> {
            for (String r : v.split(",")) {
              p.roles.add(Role.valueOf(r.trim().toUpperCase(java.util.Locale.ROOT)));
            }
          }
          case "--intercept" -> p.interceptTcpPorts(ints(v));
          case "--intercept-udp" -> p.interceptUdpPorts(ints(v));
          case "--tproxy-port" -> p.interceptTproxyPort(Integer.parseInt(v));
          case "--discovery-port" -> p.discoveryPort(Integer.parseInt(v));
          case "--kind" -> kind = Integer.parseInt(v);
          case "--exid" -> exid = v.equalsIgnoreCase("none") ? null : Integer.decode(v);
          case "--marks" -> {
            List<Integer> m = ints(v);
            expect(m, 3, opt);
            p.localMark(m.get(0)).probeMark(m.get(1)).listenerMark(m.get(2));
          }
          case "--queues" -> {
            List<Integer> q = ints(v);
            expect(q, 3, opt);
            p.queues(q.get(0), q.get(1), q.get(2));
          }
          case "--table" -> p.names(v, p.comment);
          case "--comment" -> p.names(p.nftTable, v);
          case "--route-table" -> p.routeTable(Integer.parseInt(v));
          case "--peering-pass-through" -> p.peeringPassThroughSources(
              Arrays.stream(v.split(",")).map(String::trim).map(Cidr::parse).toList());
          case "--netns" -> netns = v;
          default -> throw new IllegalArgumentException("unknown option " + opt);
        }
      }
      p.format(exid == null ? OptionFormat.withoutExid(kind) : new OptionFormat(kind, exid));
    } catch (IllegalArgumentException e) { // NumberFormatException included
      err.println("error: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    if (command.equals("check")) {
      KernelSupport.Report r = KernelSupport.check();
      out.print(r.summary());
      return r.discoveryAvailable() ? 0 : 1;
    }
    if (p.roles.isEmpty()) {
      err.println("error: --role is required");
      return 2;
    }
    KernelRuleSet rules = KernelRulesWriter.build(p);
    CommandRunner runner = netns == null ? CommandRunner.local() : CommandRunner.inNamespace(netns);
    try {
      switch (command) {
        case "print" -> out.print(rules.print());
        case "apply" -> KernelRulesWriter.apply(rules, runner);
        case "remove" -> KernelRulesWriter.remove(rules, runner);
        default -> {
          err.println("error: unknown command " + command);
          err.print(USAGE);
          return 2;
        }
      }
      return 0;
    } catch (IOException e) {
      err.println("error: " + e.getMessage());
      return 1;
    }
  }

  private static List<Integer> ints(String v) {
    List<Integer> out = new ArrayList<>();
    for (String s : v.split(",")) {
      out.add(Integer.decode(s.trim()));
    }
    return out;
  }

  private static void expect(List<Integer> l, int n, String opt) {
    if (l.size() != n) {
      throw new IllegalArgumentException(opt + " takes " + n + " comma-separated values");
    }
  }
}
