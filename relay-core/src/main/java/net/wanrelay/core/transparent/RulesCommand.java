package net.wanrelay.core.transparent;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import net.wanrelay.core.config.ConfigException;
import net.wanrelay.core.config.ConfigLoader;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.discovery.kernel.CommandRunner;
import net.wanrelay.discovery.kernel.KernelRuleSet;
import net.wanrelay.discovery.kernel.KernelRulesWriter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code wanrelay rules --print|--apply|--remove -c FILE}: the kernel rules the config needs. */
@Command(name = "rules", mixinStandardHelpOptions = true,
    description = "Print, apply or remove the kernel rules (nftables TPROXY, iptables NFQUEUE, policy routing) that the config's intercept section needs.")
public final class RulesCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, description = "YAML config file.")
  Path file;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Action action;

  static final class Action {
    @Option(names = "--print", description = "Print the rules as a shell script (no root needed).")
    boolean print;
    @Option(names = "--apply", description = "Apply the rules (root / CAP_NET_ADMIN); idempotent.")
    boolean apply;
    @Option(names = "--remove", description = "Remove every rule of ours (root / CAP_NET_ADMIN); idempotent.")
    boolean remove;
  }

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    RelayConfig config;
    try {
      config = ConfigLoader.load(file);
    } catch (ConfigException e) {
      err.println("config error: " + e.getMessage());
      return 2;
    }
    KernelRuleSet rules;
    try {
      rules = KernelRulesWriter.build(KernelRulesFromConfig.params(config));
    } catch (IllegalArgumentException e) {
      err.println("wanrelay rules: " + e.getMessage());
      return 2;
    }
    try {
      if (action.print) {
        out.print(rules.print());
      } else if (action.apply) {
        KernelRulesWriter.apply(rules, CommandRunner.local());
        out.println("kernel rules applied (nft table " + rules.nftTable() + ", "
            + rules.iptablesMangleRules().size() + " iptables rules)");
      } else {
        KernelRulesWriter.remove(rules, CommandRunner.local());
        out.println("kernel rules removed (nft table " + rules.nftTable() + ")");
      }
      out.flush();
      return 0;
    } catch (IOException e) {
      err.println("wanrelay rules: " + e.getMessage());
      return 1;
    }
  }
}
