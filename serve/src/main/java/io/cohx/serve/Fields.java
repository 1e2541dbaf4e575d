package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

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

    List<String> strings(String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            throw new BadRequest(field, "'" + field + "' is required (a list of strings)");
        }
        if (n.isTextual()) {
            return List.of(n.textValue());
        }
        if (!n.isArray()) {
            throw new BadRequest(field, "'" + field + "' must be a list of strings");
        }
        List<String> r = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isTextual()) {
                throw new BadRequest(field, "'" + field + "[" + i + "]' must be a string");
            }
            r.add(n.get(i).textValue());
        }
        return r;
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
        if (!n.isIntegralNumber() && !(n.isNumber() && n.doubleValue() == Math.rint(n.doubleValue()))) {
            throw new BadRequest(field, "'" + field + "' must be an integer");
        }
        long v = n.longValue();
        if (v < min || v > max) {
            throw new BadRequest(field, "'" + field + "' must be between " + min + " and " + max + ", got " + v);
        }
        return (int) v;
    }

    Long optionalLong(String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber()) {
            throw new BadRequest(field, "'" + field + "' must be an integer");
        }
        return n.longValue();
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
