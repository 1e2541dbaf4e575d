package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Typed access to the fields of one input record, failing with the dotted name of the field
 * that is missing or of the wrong type; the reader adds the file and line to the message.
 */
final class RecordFields {

    private RecordFields() {
    }

    /** A field problem of one record; the reader turns it into a message with file:line. */
    static final class BadField extends RuntimeException {
        final String field;

        BadField(String field, String problem) {
            super(problem, null, false, false);
            this.field = field;
        }
    }

    static JsonNode node(JsonNode parent, String parentName, String name) {
        JsonNode n = parent.get(name);
        String full = parentName.isEmpty() ? name : parentName + "." + name;
        if (n == null || n.isMissingNode()) {
            throw new BadField(full, "missing field '" + full + "'");
        }
        return n;
    }

    static String text(JsonNode parent, String parentName, String name) {
        JsonNode n = node(parent, parentName, name);
        if (!n.isTextual()) {
            String full = parentName.isEmpty() ? name : parentName + "." + name;
            throw new BadField(full, "field '" + full + "' is " + n.getNodeType().name().toLowerCase()
                    + ", expected a string");
        }
        return n.textValue();
    }

    static JsonNode array(JsonNode parent, String parentName, String name) {
        JsonNode n = node(parent, parentName, name);
        if (!n.isArray()) {
            String full = parentName.isEmpty() ? name : parentName + "." + name;
            throw new BadField(full, "field '" + full + "' is " + n.getNodeType().name().toLowerCase()
                    + ", expected a list");
        }
        return n;
    }

    static double number(JsonNode parent, String name) {
        JsonNode n = node(parent, "", name);
        if (!n.isNumber()) {
            throw new BadField(name, "field '" + name + "' is " + n.getNodeType().name().toLowerCase()
                    + ", expected a number");
        }
        return n.doubleValue();
    }
}
