package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Packs OpenAI summarize-from-feedback comparison records ({@code info.post},
 * {@code summaries[i].text}, {@code choice} = index of the preferred summary). The prompt is a
 * random task phrase followed by the post; the second summary of pn/np repeats only the marker.
 *
 * <p>One deliberate difference: records of news articles have {@code info.post} null and the
 * text in {@code info.article}; the reference wrote the string "None" as the post, we use the
 * article. Reddit-post records pack identically.
 */
final class SummaryPacker implements FeedbackPacker {

    private final PackOptions o;

    SummaryPacker(PackOptions options) {
        this.o = options;
    }

    @Override
    public Packed pack(JsonNode record, SeededChoice rng) {
        JsonNode choice = RecordFields.node(record, "", "choice");
        if (!choice.canConvertToInt() || (choice.asInt() != 0 && choice.asInt() != 1)) {
            throw new RecordFields.BadField("choice", "field 'choice' is " + choice + ", expected 0 or 1");
        }
        int pos = choice.asInt();
        return new Packed(FeedbackPacker.chains(FeedbackDataset.SUMMARY, o, (positive, first, entries, fields) ->
                add(record, positive ? pos : 1 - pos, positive, first, entries, fields, rng)), null);
    }

    static String post(JsonNode record) {
        JsonNode info = RecordFields.node(record, "", "info");
        JsonNode post = info.get("post");
        if ((post == null || post.isNull()) && info.hasNonNull("article")) {
            return RecordFields.text(info, "info", "article");
        }
        return RecordFields.text(info, "info", "post");
    }

    private void add(JsonNode record, int idx, boolean positive, boolean withPost,
                     LinkedHashMap<String, String> entries, List<String> fields, SeededChoice rng) {
        String prompt = "";
        if (withPost) {
            String userKey = o.userDataId() + "_" + idx;
            entries.put(userKey, rng.choose(FeedbackDataset.SUMMARY.phrases().tasks()) + post(record));
            prompt = o.userFieldId() + "+" + userKey + "+";
        }
        JsonNode summaries = RecordFields.array(record, "", "summaries");
        if (summaries.size() <= idx) {
            throw new RecordFields.BadField("summaries", "field 'summaries' has " + summaries.size()
                    + " entries, expected 2");
        }
        String answer = PyText.lstrip(RecordFields.text(summaries.get(idx), "summaries[" + idx + "]", "text"));
        String answerKey = (positive ? o.gptDataId() : o.gptBadDataId()) + "_" + idx;
        entries.put(answerKey, answer);
        fields.add("[" + prompt + (positive ? o.gptFieldId() : o.gptBadFieldId()) + "]");
        fields.add(answerKey);
        fields.add("<|eos|>");
    }
}
