package net.wanrelay.channel.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Hostile token sequences: the decoder either copes or throws DedupException, never anything else. */
class DedupDecoderFuzzTest {
  @Test
  void randomTokenSequencesOnlyEverFailWithTheClearException() {
    SplittableRandom random = new SplittableRandom(7);
    Fingerprinter f = new Fingerprinter();
    byte[][] chunks = new byte[6][];
    Fingerprint[] fps = new Fingerprint[6];
    for (int i = 0; i < chunks.length; i++) {
      chunks[i] = DedupTestData.random(100 + random.nextInt(3000), i);
      fps[i] = f.of(chunks[i]);
    }
    int failures = 0;
    long output = 0;
    for (int round = 0; round < 400; round++) {
      ChunkStore store = ChunkStore.inMemory(1 << 20);
      if (random.nextBoolean()) {
        store.put(fps[0], chunks[0]);
      }
      DedupDecoder decoder = new DedupDecoder(store, 65536, 64 * 1024);
      List<DedupToken> replies = new ArrayList<>();
      long[] bytes = new long[1];
      DedupDecoder.Output out = new DedupDecoder.Output() {
        @Override
        public void data(byte[] b, int off, int len) {
          bytes[0] += len;
        }

        @Override
        public void reply(DedupToken token) {
          replies.add(token);
        }
      };
      try {
        for (int i = 0; i < 30; i++) {
          int k = random.nextInt(chunks.length);
          byte[] c = chunks[k];
          DedupToken t;
          switch (random.nextInt(7)) {
            case 0 -> t = new DedupToken.Literal(fps[k], 0, c);
            case 1 -> t = new DedupToken.Literal(fps[random.nextInt(fps.length)], random.nextInt(3), c);
            case 2 -> t = new DedupToken.Ref(fps[k], random.nextBoolean() ? c.length : 1 + random.nextInt(5000));
            case 3 -> t = new DedupToken.Raw(DedupTestData.random(1 + random.nextInt(40000), i));
            case 4 -> t = new DedupToken.Supply(fps[k], random.nextBoolean() ? c : chunks[random.nextInt(chunks.length)]);
            case 5 -> t = new DedupToken.Ask(fps[k]);
            default -> t = new DedupToken.Ack(random.nextLong(3));
          }
          decoder.accept(t, out);
        }
      } catch (DedupException expected) {
        failures++;
      }
      output += bytes[0];
      assertThat(replies).allMatch(r -> r instanceof DedupToken.Ask);
    }
    assertThat(failures).isPositive();
    assertThat(output).isPositive();
  }
}
