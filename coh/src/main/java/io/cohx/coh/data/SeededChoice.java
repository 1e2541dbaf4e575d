package io.cohx.coh.data;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The seeded random choices of {@code cohx pack}: which task phrase goes before a post or the
 * quotes, and the order of the shuffled files. The reference used Python's unseeded global
 * {@code random}; we define our own generator so runs repeat and so the reference
 * reimplementation ({@code tools/reference/pack_reference.py}) can mirror it draw for draw.
 *
 * <p>A stream is keyed by a string (e.g. {@code "42:summary:train:17"} for record 17 of the
 * summary train split with seed 42): its state starts at the 64-bit FNV-1a hash of the key's UTF-8
 * bytes and advances as SplitMix64; {@link #choose} takes the unsigned draw modulo the list size.
 * Keying by record (not one global stream) keeps a record's choices independent of the others.
 */
final class SeededChoice {

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private long state;

    SeededChoice(String key) {
        long h = FNV_OFFSET;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * FNV_PRIME;
        }
        state = h;
    }

    /** The stream for record {@code index} (0-based, in reading order) of one dataset split. */
    static SeededChoice forRecord(long seed, String dataset, String split, long index) {
        return new SeededChoice(seed + ":" + dataset + ":" + split + ":" + index);
    }

    long state() {
        return state;
    }

    void setState(long newState) {
        state = newState;
    }

    long next() {
        long z = (state += 0x9e3779b97f4a7c15L);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Uniform-enough index in [0, n) (the modulo bias is below 2^-50 for our list sizes). */
    int nextIndex(int n) {
        return (int) Long.remainderUnsigned(next(), n);
    }

    <T> T choose(List<T> items) {
        return items.get(nextIndex(items.size()));
    }

    /** Fisher-Yates from the top, as the reference script mirrors it. */
    void shuffle(int[] order) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = nextIndex(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
