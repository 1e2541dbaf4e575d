package io.cohx.models.tokenizer;

import java.util.Arrays;

/**
 * An immutable map from byte strings to non-negative ints that answers lookups of a slice of a
 * larger array without copying it: BPE asks "is this span of the input a token?" millions of
 * times per second, and a {@code HashMap<String, Integer>} would allocate on every question.
 * Open addressing with linear probing over one array of keys.
 */
final class ByteSliceMap {

    private final byte[] keyBytes;
    private final int[] keyStart;
    private final int[] keyLength;
    private final int[] values;
    private final int[] slots; // index into keyStart/keyLength/values, or -1
    private final int mask;

    /** Builds a map; a later duplicate key keeps the first value, as SentencePiece and HF do. */
    ByteSliceMap(byte[][] keys, int[] vals) {
        int total = 0;
        for (byte[] k : keys) total += k.length;
        keyBytes = new byte[total];
        keyStart = new int[keys.length];
        keyLength = new int[keys.length];
        values = vals.clone();
        int pos = 0;
        for (int i = 0; i < keys.length; i++) {
            keyStart[i] = pos;
            keyLength[i] = keys[i].length;
            System.arraycopy(keys[i], 0, keyBytes, pos, keys[i].length);
            pos += keys[i].length;
        }
        int cap = Integer.highestOneBit(Math.max(4, keys.length * 2 + 1)) << 1;
        slots = new int[cap];
        Arrays.fill(slots, -1);
        mask = cap - 1;
        for (int i = 0; i < keys.length; i++) {
            int h = hash(keys[i], 0, keys[i].length) & mask;
            while (true) {
                int s = slots[h];
                if (s < 0) {
                    slots[h] = i;
                    break;
                }
                if (equalsKey(s, keys[i], 0, keys[i].length)) break;
                h = (h + 1) & mask;
            }
        }
    }

    /** The value of {@code bytes[from..to)}, or -1 if absent. */
    int get(byte[] bytes, int from, int to) {
        int h = hash(bytes, from, to) & mask;
        while (true) {
            int s = slots[h];
            if (s < 0) return -1;
            if (equalsKey(s, bytes, from, to)) return values[s];
            h = (h + 1) & mask;
        }
    }

    int get(byte[] key) {
        return get(key, 0, key.length);
    }

    private boolean equalsKey(int s, byte[] bytes, int from, int to) {
        int len = to - from;
        if (keyLength[s] != len) return false;
        return Arrays.equals(keyBytes, keyStart[s], keyStart[s] + len, bytes, from, to);
    }

    private static int hash(byte[] bytes, int from, int to) {
        int h = 0x811C9DC5;
        for (int i = from; i < to; i++) {
            h = (h ^ (bytes[i] & 0xFF)) * 0x01000193;
        }
        return h ^ (h >>> 15);
    }
}
