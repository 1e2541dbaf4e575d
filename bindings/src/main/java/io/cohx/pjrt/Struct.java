package io.cohx.pjrt;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The layout of one PJRT C struct as cohx sends it: its {@code *_STRUCT_SIZE} (offset of the last
 * field plus its size, trailing padding excluded, as the header defines it) and the byte offsets
 * of the fields cohx touches. Sizes are those of the newest header cohx binds (0.114), which
 * older plugins accept; {@code LayoutProbeTest} checks every entry against a real header.
 */
public record Struct(String name, long size, Map<String, Long> fields) {

    static Struct of(String name, long size, Object... fieldOffsets) {
        var map = new LinkedHashMap<String, Long>();
        for (int i = 0; i < fieldOffsets.length; i += 2) {
            map.put((String) fieldOffsets[i], ((Number) fieldOffsets[i + 1]).longValue());
        }
        return new Struct(name, size, Map.copyOf(map));
    }

    /** Byte offset of {@code field}; an unknown name is a bug in the binding. */
    public long off(String field) {
        Long off = fields.get(field);
        if (off == null) {
            throw new IllegalArgumentException("binding bug: " + name + " has no field '" + field + "' in cohx's layout table");
        }
        return off;
    }
}
