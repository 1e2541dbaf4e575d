package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** Reads typed fields of a JSON request body; anything missing or of the wrong type is a {@link BadRequest} naming the field. */
final class Fields {
    private final ObjectNode body;

    Fields(JsonNode body) {
        if (!(body instanceof ObjectNode o)) {
            throw new BadRequest(null, "the request body must be a JSON object");
        }
        this.body = o;
    }

    ObjectNode node() {
        return body;
    }

    boolean has(String field) {
        return body.hasNonNull(field);
    }

    JsonNode get(String field) {
        return body.get(field);
    }

    String string(String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            throw new BadRequest(field, "'" + field + "' is required (a string)");
        }
        if (!n.isTextual()) {
            throw new BadRequest(field, "'" + field + "' must be a string, got " + n.getNodeType().name().toLowerCase());
        }
        return n.textValue();
    }

    String string(String field, String otherwise) {
        return has(field) ? string(field) : otherwise;
    }

    /** A list of strings (the original endpoints take lists, one entry per row: a lone string is refused). */
    List<String> strings(String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            throw new BadRequest(field, "'" + field + "' is required (a list of strings)");
        }
        if (!n.isArray()) {
            throw new BadRequest(field, "'" + field + "' must be a list of strings, got " + kind(n)
                    + (n.isTextual() ? "; put it in a list: [\"...\"]" : ""));
        }
        List<String> r = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isTextual()) {
                throw new BadRequest(field, "'" + field + "[" + i + "]' must be a string, got " + kind(n.get(i)));
            }
            r.add(n.get(i).textValue());
        }
        return r;
    }

    /** A string or a list of strings (OpenAI's {@code stop}). */
    List<String> stringOrList(String field) {
        JsonNode n = body.get(field);
        return n != null && n.isTextual() ? List.of(n.textValue()) : strings(field);
    }

    double number(String field, double otherwise, double min, double max) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        if (!n.isNumber()) {
            throw new BadRequest(field, "'" + field + "' must be a number");
        }
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) {
            throw new BadRequest(field, "'" + field + "' must be between " + fmt(min) + " and " + fmt(max) + ", got " + fmt(v));
        }
        return v;
    }

    int integer(String field, int otherwise, int min, int max) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        return (int) whole(field, n, min, max);
    }

    Long optionalLong(String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        return whole(field, n, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** An integral JSON number within [min, max], checked exactly (so 2^63 is out of range, not a wrapped negative). */
    private static long whole(String field, JsonNode n, long min, long max) {
        if (!n.isNumber()) {
            throw new BadRequest(field, "'" + field + "' must be an integer, got " + kind(n));
        }
        BigDecimal v = n.decimalValue();
        if (v.signum() != 0 && v.stripTrailingZeros().scale() > 0) {
            throw new BadRequest(field, "'" + field + "' must be an integer, got " + n.asText());
        }
        if (v.compareTo(BigDecimal.valueOf(min)) < 0 || v.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw new BadRequest(field, "'" + field + "' must be between " + min + " and " + max + ", got " + v.toBigInteger());
        }
        return v.longValueExact();
    }

    private static String kind(JsonNode n) {
        return n.isTextual() ? "a string" : n.isNumber() ? "a number" : n.isBoolean() ? "true/false" : n.isArray() ? "a list"
                : n.isObject() ? "an object" : "null";
    }

    boolean bool(String field, boolean otherwise) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        if (!n.isBoolean()) {
            throw new BadRequest(field, "'" + field + "' must be true or false");
        }
        return n.booleanValue();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
