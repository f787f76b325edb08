package net.wanrelay.core.transparent;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code wanrelay rules --print|--apply|--remove -c FILE}: the kernel rules the config needs. */
@Command(name = "rules", mixinStandardHelpOptions = true,
    description = "Print, apply or remove the kernel rules (nftables TPROXY, iptables NFQUEUE, policy routing) that the config's intercept section needs.")
public final class RulesCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, description = "YAML config file.")
  Path file;

  @Override
  public Integer call() {
    System.err.println("wanrelay rules: transparent mode is not available in this build");
    return 1;
  }
}
