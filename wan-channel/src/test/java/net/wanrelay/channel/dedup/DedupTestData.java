package net.wanrelay.channel.dedup;

import java.io.ByteArrayOutputStream;
import java.util.SplittableRandom;
import net.wanrelay.testsupport.Hashes;

/** Deterministic test inputs for the dedup tests. */
final class DedupTestData {
  private DedupTestData() {}

  static byte[] random(int size, long seed) {
    byte[] out = new byte[size];
    Hashes.fill(new SplittableRandom(seed), out);
    return out;
  }

  /**
   * {@code data} with {@code edits} local edits (overwrite, insert or delete of {@code editSize}
   * bytes, chosen at random) at random places.
   */
  static byte[] edited(byte[] data, int edits, int editSize, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    byte[] current = data;
    for (int i = 0; i < edits; i++) {
      int pos = random.nextInt(current.length - editSize);
      byte[] patch = random(editSize, random.nextLong());
      ByteArrayOutputStream out = new ByteArrayOutputStream(current.length + editSize);
      out.write(current, 0, pos);
      switch (random.nextInt(3)) {
        case 0: // overwrite
          out.write(patch, 0, editSize);
          out.write(current, pos + editSize, current.length - pos - editSize);
          break;
        case 1: // insert
          out.write(patch, 0, editSize);
          out.write(current, pos, current.length - pos);
          break;
        default: // delete
          out.write(current, pos + editSize, current.length - pos - editSize);
      }
      current = out.toByteArray();
    }
    return current;
  }
}
