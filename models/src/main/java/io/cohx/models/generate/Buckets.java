package io.cohx.models.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * The lengths programs are compiled for: powers of two from {@code min} up to {@code max}, and
 * {@code max} itself. A batch is padded to the smallest bucket that holds it, so a server
 * compiles a handful of programs however its requests vary.
 */
public record Buckets(List<Integer> sizes) {

    public Buckets {
        sizes = List.copyOf(sizes);
        if (sizes.isEmpty()) {
            throw new IllegalArgumentException("no bucket sizes");
        }
    }

    public static Buckets powersOfTwo(int min, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("the largest length must be >= 1, got " + max);
        }
        List<Integer> s = new ArrayList<>();
        for (int n = Math.max(1, min); n < max; n *= 2) {
            s.add(n);
        }
        s.add(max);
        return new Buckets(s);
    }

    public int max() {
        return sizes.getLast();
    }

    /** The smallest size >= {@code n}; an error if none is. */
    public int fit(int n) {
        for (int s : sizes) {
            if (s >= n) {
                return s;
            }
        }
        throw new IllegalArgumentException("length " + n + " exceeds the largest compiled length " + max());
    }
}
