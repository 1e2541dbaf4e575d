package io.cohx.coh.data;

import java.util.Collections;
import java.util.Map;
import java.util.SequencedMap;

/**
 * One packed Chain of Hindsight training sequence: the text pieces under their keys, in the order
 * the reference writes them, ending with the {@code fields} string that tells the TextProcessor
 * how to assemble them (docs/COH.md#templates). {@code type} says which feedback type made it.
 */
public record CohSequence(FeedbackType type, SequencedMap<String, String> entries) {

    public CohSequence {
        entries = Collections.unmodifiableSequencedMap(entries);
    }

    public String fields() {
        return entries.get("fields");
    }

    /** The JSON line (without newline) exactly as Python's {@code json.dumps} writes it. */
    public String toJson() {
        return PyJson.toJson(entries);
    }

    public Map<String, String> asMap() {
        return entries;
    }
}
