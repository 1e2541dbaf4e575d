package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Packs OpenAI WebGPT comparison records ({@code question.full_text}, {@code quotes_<i>} with
 * lists {@code title} and {@code extract}, {@code answer_<i>}, {@code score_<i>}). The answer
 * with the higher score is the preferred one; ties are skipped, as in the reference. Quotes become
 * {@code quote_<i>}: a random task phrase, then "[n] title: ... content: ... " per quote; the
 * second answer of pn/np keeps its own quotes but not the question.
 */
final class WebGptPacker implements FeedbackPacker {

    private final PackOptions o;

    WebGptPacker(PackOptions options) {
        this.o = options;
    }

    @Override
    public Packed pack(JsonNode record, SeededChoice rng) {
        double s0 = RecordFields.number(record, "score_0");
        double s1 = RecordFields.number(record, "score_1");
        if (s0 == s1) {
            return Packed.skipped("tie (score_0 == score_1)");
        }
        int pos = s0 > s1 ? 0 : 1;
        return new Packed(FeedbackPacker.chains(FeedbackDataset.WEBGPT, o, (positive, first, entries, fields) ->
                add(record, positive ? pos : 1 - pos, positive, first, entries, fields, rng)), null);
    }

    private void add(JsonNode record, int idx, boolean positive, boolean withQuestion,
                     LinkedHashMap<String, String> entries, List<String> fields, SeededChoice rng) {
        var prompt = new StringBuilder();
        if (withQuestion) {
            JsonNode question = RecordFields.node(record, "", "question");
            String userKey = o.userDataId() + "_" + idx;
            entries.put(userKey, RecordFields.text(question, "question", "full_text"));
            prompt.append(o.userFieldId()).append('+').append(userKey);
        }
        String quotesName = "quotes_" + idx;
        JsonNode quotes = RecordFields.node(record, "", quotesName);
        JsonNode titles = RecordFields.array(quotes, quotesName, "title");
        if (!titles.isEmpty()) {
            JsonNode extracts = RecordFields.array(quotes, quotesName, "extract");
            var text = new StringBuilder(rng.choose(FeedbackDataset.WEBGPT.phrases().tasks()));
            int n = Math.min(titles.size(), extracts.size());
            for (int i = 0; i < n; i++) {
                text.append('[').append(i + 1).append("] title: ")
                        .append(element(titles, i, quotesName + ".title")).append(" content: ")
                        .append(element(extracts, i, quotesName + ".extract")).append(' ');
            }
            String quoteKey = "quote_" + idx;
            entries.put(quoteKey, text.toString());
            if (!prompt.isEmpty()) {
                prompt.append('+');
            }
            prompt.append(quoteKey);
        }
        if (!prompt.isEmpty()) {
            prompt.append('+');
        }
        String answerKey = (positive ? o.gptDataId() : o.gptBadDataId()) + "_" + idx;
        entries.put(answerKey, RecordFields.text(record, "", "answer_" + idx));
        fields.add("[" + prompt + (positive ? o.gptFieldId() : o.gptBadFieldId()) + "]");
        fields.add(answerKey);
        fields.add("<|eos|>");
    }

    private static String element(JsonNode list, int i, String name) {
        JsonNode n = list.get(i);
        if (!n.isTextual()) {
            throw new RecordFields.BadField(name, "element " + i + " of '" + name + "' is "
                    + n.getNodeType().name().toLowerCase() + ", expected a string");
        }
        return n.textValue();
    }
}
