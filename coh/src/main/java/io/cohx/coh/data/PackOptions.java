package io.cohx.coh.data;

/**
 * Everything that decides what {@code cohx pack} writes for a record: the feedback types, the
 * marker texts and the key names of the output objects (defaults as in the reference), and the
 * seed of the random task-phrase choice and of the shuffle.
 *
 * <p>The reference always named the marker keys {@code marker_user/marker_gpt/marker_gpt_bad}
 * while its {@code fields} strings used the configurable field ids, so changing an id gave files
 * that referenced missing keys; here the field ids are the key names, which is the same with the
 * defaults and consistent otherwise.
 */
public record PackOptions(
        FeedbackType.Selection feedback,
        String userMarker, String gptMarker, String gptBadMarker,
        String userFieldId, String gptFieldId, String gptBadFieldId,
        String userDataId, String gptDataId, String gptBadDataId,
        long seed) {

    public static final String DEFAULT_FEEDBACK = "p,n,pn,np,aux";

    public static PackOptions defaults() {
        return new PackOptions(FeedbackType.Selection.parse(DEFAULT_FEEDBACK),
                "User:", "A helpful answer:", "An unhelpful answer:",
                "marker_user", "marker_gpt", "marker_gpt_bad",
                "human", "gpt", "gpt_bad", 42);
    }

    public PackOptions withFeedback(String text) {
        return new PackOptions(FeedbackType.Selection.parse(text), userMarker, gptMarker, gptBadMarker,
                userFieldId, gptFieldId, gptBadFieldId, userDataId, gptDataId, gptBadDataId, seed);
    }

    public PackOptions withSeed(long newSeed) {
        return new PackOptions(feedback, userMarker, gptMarker, gptBadMarker,
                userFieldId, gptFieldId, gptBadFieldId, userDataId, gptDataId, gptBadDataId, newSeed);
    }
}
