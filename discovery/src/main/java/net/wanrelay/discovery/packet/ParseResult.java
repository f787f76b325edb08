package net.wanrelay.discovery.packet;

import java.util.NoSuchElementException;
import java.util.function.Function;

/** A value or the reason it could not be read. Parsers return this instead of throwing. */
public sealed interface ParseResult<T> {
  static <T> ParseResult<T> ok(T value) {
    return new Ok<>(value);
  }

  static <T> ParseResult<T> error(String reason) {
    return new Error<>(reason);
  }

  boolean isOk();

  /** The value; throws {@link NoSuchElementException} with the reason when this is an error. */
  T value();

  /** The reason, or null for a value. */
  String error();

  default <R> ParseResult<R> map(Function<T, R> f) {
    return isOk() ? ok(f.apply(value())) : error(error());
  }

  default <R> ParseResult<R> flatMap(Function<T, ParseResult<R>> f) {
    return isOk() ? f.apply(value()) : error(error());
  }

  record Ok<T>(T value) implements ParseResult<T> {
    @Override
    public boolean isOk() {
      return true;
    }

    @Override
    public String error() {
      return null;
    }
  }

  record Error<T>(String error) implements ParseResult<T> {
    @Override
    public boolean isOk() {
      return false;
    }

    @Override
    public T value() {
      throw new NoSuchElementException(error);
    }
  }
}
