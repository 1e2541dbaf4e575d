package io.cohx.models.tokenizer;

import java.util.Arrays;

/**
 * A map from long keys to int values without boxing, for the hot lookups of the tokenizers:
 * trie transitions (node, byte) and BPE merges (left id, right id). Open addressing with linear
 * probing; filled once at load time, then only read (safe to share between threads).
 */
final class LongIntMap {

    private static final long EMPTY = Long.MIN_VALUE;

    private long[] keys;
    private int[] values;
    private int size;
    private int mask;

    LongIntMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 + 1)) << 1;
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(keys, EMPTY);
        mask = cap - 1;
    }

    /** The value of {@code key}, or {@code missing} if absent. */
    int get(long key, int missing) {
        int h = mix(key) & mask;
        while (true) {
            long k = keys[h];
            if (k == key) return values[h];
            if (k == EMPTY) return missing;
            h = (h + 1) & mask;
        }
    }

    /** Stores {@code key → value} unless the key is present; returns whether it was added. */
    boolean putIfAbsent(long key, int value) {
        if (key == EMPTY) throw new IllegalArgumentException("reserved key");
        if ((size + 1) * 2 > keys.length) grow();
        int h = mix(key) & mask;
        while (true) {
            long k = keys[h];
            if (k == key) return false;
            if (k == EMPTY) {
                keys[h] = key;
                values[h] = value;
                size++;
                return true;
            }
            h = (h + 1) & mask;
        }
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) putIfAbsent(oldKeys[i], oldValues[i]);
        }
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
