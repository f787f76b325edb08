package net.wanrelay.core.config;

/** A configuration problem, reported as one line naming the file, line, column and key. */
public final class ConfigException extends Exception {
  public ConfigException(String message) {
    super(message);
  }
}
