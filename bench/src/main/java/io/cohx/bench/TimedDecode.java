package io.cohx.bench;

import io.cohx.models.generate.Generator;
import java.util.List;

/**
 * One batch of rows generated once to compile, then three times timed: the best of the three and
 * the tokens a run made.
 */
record TimedDecode(long bestNanos, long tokens) {

    static TimedDecode run(Generator gen, List<Generator.Request> rows) {
        gen.generate(rows); // compile
        long best = Long.MAX_VALUE;
        long tokens = 0;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            var out = gen.generate(rows);
            best = Math.min(best, System.nanoTime() - t0);
            tokens = out.stream().mapToLong(r -> r.tokens().length).sum();
        }
        return new TimedDecode(best, tokens);
    }
}
