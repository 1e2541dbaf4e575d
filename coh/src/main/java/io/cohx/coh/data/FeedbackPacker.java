package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Turns one input record of a feedback dataset into its Chain of Hindsight sequences, with the
 * keys, key order and {@code fields} strings of the reference packer (docs/COH.md#templates). Without
 * {@code aux} there is one marker pair (the options' markers); with it, every feedback type is
 * emitted once per phrase pair of the dataset.
 */
public sealed interface FeedbackPacker permits DialoguePacker, WebGptPacker, SummaryPacker {

    /** The sequences of one record, or none with the reason it was skipped (e.g. a tie). */
    record Packed(List<CohSequence> sequences, String skipReason) {
        static Packed skipped(String reason) {
            return new Packed(List.of(), reason);
        }
    }

    /**
     * Packs {@code record}; {@code rng} is the record's own choice stream. Throws
     * {@link RecordFields.BadField} for a missing or mistyped field.
     */
    Packed pack(JsonNode record, SeededChoice rng);

    /**
     * Adds one answer to a sequence under construction: the preferred one ({@code positive}) or
     * the other, {@code first} when it opens the sequence (the second answer of pn/np follows it).
     */
    @FunctionalInterface
    interface AnswerBuilder {
        void add(boolean positive, boolean first, LinkedHashMap<String, String> entries, List<String> fields);
    }

    /**
     * The reference's loop: marker pairs (one, or the aux list) times types in dataset order,
     * each type its answers in order: p the preferred one, n the other, pn both preferred first,
     * np both the other first.
     */
    static List<CohSequence> chains(FeedbackDataset dataset, PackOptions o, AnswerBuilder answer) {
        var types = o.feedback().inOrder(dataset.typeOrder());
        var phrases = dataset.phrases();
        int pairs = o.feedback().aux() ? phrases.good().size() : 1;
        var out = new ArrayList<CohSequence>(pairs * types.size());
        for (int k = 0; k < pairs; k++) {
            String good = o.feedback().aux() ? phrases.good().get(k) : o.gptMarker();
            String bad = o.feedback().aux() ? phrases.bad().get(k) : o.gptBadMarker();
            for (FeedbackType type : types) {
                var entries = new LinkedHashMap<String, String>();
                entries.put(o.userFieldId(), o.userMarker());
                entries.put(o.gptFieldId(), good);
                entries.put(o.gptBadFieldId(), bad);
                var fields = new ArrayList<String>();
                boolean preferredFirst = type == FeedbackType.P || type == FeedbackType.PN;
                answer.add(preferredFirst, true, entries, fields);
                if (type == FeedbackType.PN || type == FeedbackType.NP) {
                    answer.add(!preferredFirst, false, entries, fields);
                }
                entries.put("fields", String.join(",", fields));
                out.add(new CohSequence(type, entries));
            }
        }
        return out;
    }
}
