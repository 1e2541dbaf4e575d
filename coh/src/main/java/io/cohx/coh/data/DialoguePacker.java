package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Packs Anthropic HH-RLHF records ({@code chosen}, {@code rejected}: whole dialogues of
 * "\n\nHuman: ..." / "\n\nAssistant: ..." turns). Turn k's human text goes under
 * {@code human_<2k>} and its assistant text under {@code gpt_<2k+1>} (or {@code gpt_bad_...}),
 * each assistant turn as a masked {@code [marker_user+human_i+marker]} field, the answer and
 * {@code <|eos|>}.
 *
 * <p>One deliberate difference: a "Human:" part with no "Assistant:" (the reference appended the
 * human text twice, so it became a loss-bearing "assistant" answer) here yields the human turn and
 * no answer. Every well-formed HH-RLHF dialogue packs identically.
 */
public final class DialoguePacker implements FeedbackPacker {

    private final PackOptions o;

    DialoguePacker(PackOptions options) {
        this.o = options;
    }

    /** A human turn and the assistant's reply to it (null when the dialogue has none). */
    public record Turn(String human, String assistant) {
    }

    /** The turns of an HH-RLHF dialogue, split and stripped as the packer does (evaluation scores the same turns). */
    public static List<Turn> turns(String dialogue) {
        var parts = PyText.split(dialogue, "Human:");
        var turns = new ArrayList<Turn>(parts.size());
        for (int i = 1; i < parts.size(); i++) {
            var message = PyText.split(parts.get(i), "Assistant:");
            turns.add(new Turn(PyText.strip(message.get(0)),
                    message.size() > 1 ? PyText.strip(message.get(1)) : null));
        }
        return turns;
    }

    @Override
    public Packed pack(JsonNode record, SeededChoice rng) {
        var chosen = turns(RecordFields.text(record, "", "chosen"));
        var rejected = turns(RecordFields.text(record, "", "rejected"));
        return new Packed(FeedbackPacker.chains(FeedbackDataset.DIALOGUE, o, (positive, first, entries, fields) ->
                add(positive ? chosen : rejected, positive, entries, fields)), null);
    }

    private void add(List<Turn> turns, boolean positive, LinkedHashMap<String, String> entries,
                     List<String> fields) {
        String dataId = positive ? o.gptDataId() : o.gptBadDataId();
        String marker = positive ? o.gptFieldId() : o.gptBadFieldId();
        for (int k = 0; k < turns.size(); k++) {
            Turn turn = turns.get(k);
            String userKey = o.userDataId() + "_" + (2 * k);
            entries.put(userKey, turn.human());
            if (turn.assistant() == null) {
                continue;
            }
            String answerKey = dataId + "_" + (2 * k + 1);
            entries.put(answerKey, turn.assistant());
            fields.add("[" + o.userFieldId() + "+" + userKey + "+" + marker + "]");
            fields.add(answerKey);
            fields.add("<|eos|>");
        }
    }
}
