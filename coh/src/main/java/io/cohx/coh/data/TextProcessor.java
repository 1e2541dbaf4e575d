package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizer.SpecialTokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns one JSON example into tokens and loss masks, exactly as the reference TextProcessor
 * (docs/COH.md#textprocessor). The field list comes from {@code fields} or, per example, from the key named
 * by {@code fieldsFromExample}; for each comma-separated field: {@code [...]} means loss mask 0
 * (else 1); {@code <|bos|>}/{@code <|eos|>} emit the tokenizer's bos/eos id; anything else is
 * {@code a+b+c}, the texts of those keys joined by {@code subfieldSeparator}, with
 * {@code prependText} before the first field's text, tokenized without bos/eos. Finally, with
 * {@code addEosToken}, one eos with mask 1 is appended.
 */
public final class TextProcessor {

    /**
     * The reference's configuration keys; {@link #feedback()} and {@link #text} are the two uses.
     * {@code specialTokens} says what text spelling a control token (say {@code </s>} inside a
     * scraped answer) becomes: {@link SpecialTokens#LITERAL} by default, so data never injects
     * bos/eos or chat markup into a sequence (those come only from the {@code <|bos|>}/{@code <|eos|>}
     * fields); {@link SpecialTokens#PARSE} for data that is already rendered chat text.
     */
    public record Config(String fields, String fieldsFromExample, String subfieldSeparator, boolean addEosToken,
                         String prependText, SpecialTokens specialTokens) {

        public Config {
            if (fields.isEmpty() == fieldsFromExample.isEmpty()) {
                throw new DataException("TextProcessor: set exactly one of fields ('" + fields
                        + "') and fields_from_example ('" + fieldsFromExample + "')");
            }
        }

        public Config(String fields, String fieldsFromExample, String subfieldSeparator, boolean addEosToken,
                      String prependText) {
            this(fields, fieldsFromExample, subfieldSeparator, addEosToken, prependText, SpecialTokens.LITERAL);
        }

        /** The same configuration with special tokens in the text handled as {@code specials} says. */
        public Config withSpecialTokens(SpecialTokens specials) {
            return new Config(fields, fieldsFromExample, subfieldSeparator, addEosToken, prependText, specials);
        }

        /** Packed CoH sequences: the field list is each example's {@code fields} key. */
        public static Config feedback() {
            return new Config("", "fields", " ", true, "");
        }

        /** Plain text under {@code key} (pretraining data). */
        public static Config text(String key) {
            return new Config(key, "", " ", true, "");
        }
    }

    /** One field after parsing: its mask and either a special id or the keys to join. */
    private record Field(float mask, int specialId, String[] keys) {
    }

    /** The tokens and loss masks of one example. */
    public record Encoded(int[] tokens, float[] masks) {
    }

    private final Tokenizer tokenizer;
    private final Config config;
    private final List<Field> fixedFields;
    private String cachedSpec;
    private List<Field> cachedFields;

    public TextProcessor(Tokenizer tokenizer, Config config) {
        this.tokenizer = tokenizer;
        this.config = config;
        this.fixedFields = config.fields().isEmpty() ? null : parse(config.fields());
    }

    public Config config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    private List<Field> parse(String spec) {
        var out = new ArrayList<Field>();
        for (String raw : PyText.split(spec, ",")) {
            String field = raw;
            float mask = 1f;
            if (field.startsWith("[") && field.endsWith("]") && field.length() >= 2) {
                field = field.substring(1, field.length() - 1);
                mask = 0f;
            }
            switch (field) {
                case "<|bos|>" -> out.add(new Field(mask, special(tokenizer.bosId(), "bos", spec), null));
                case "<|eos|>" -> out.add(new Field(mask, special(tokenizer.eosId(), "eos", spec), null));
                default -> out.add(new Field(mask, -1, PyText.split(field, "+").toArray(String[]::new)));
            }
        }
        return out;
    }

    private static int special(int id, String name, String spec) {
        if (id < 0) {
            throw new DataException("fields '" + spec + "' ask for <|" + name + "|> but the tokenizer has no " + name
                    + " token");
        }
        return id;
    }

    /**
     * Encodes {@code example}. A missing key or a non-string value is a {@link DataException}
     * naming the key and the field list; callers add the file and line.
     */
    public Encoded encode(JsonNode example) {
        List<Field> fields = fixedFields;
        if (fields == null) {
            JsonNode spec = example.get(config.fieldsFromExample());
            if (spec == null || !spec.isTextual()) {
                throw new DataException("missing field '" + config.fieldsFromExample() + "' (the list of fields to"
                        + " assemble; is this a file written by cohx pack?)");
            }
            if (!spec.textValue().equals(cachedSpec)) {
                cachedSpec = spec.textValue();
                cachedFields = parse(cachedSpec);
            }
            fields = cachedFields;
        }
        int[] tokens = new int[64];
        float[] masks = new float[64];
        int n = 0;
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            int[] ids;
            if (f.keys() == null) {
                ids = new int[] {f.specialId()};
            } else {
                String text = join(example, f.keys());
                ids = tokenizer.encode(i == 0 ? config.prependText() + text : text, config.specialTokens());
            }
            if (n + ids.length + 1 > tokens.length) {
                int size = Math.max(tokens.length * 2, n + ids.length + 1);
                tokens = Arrays.copyOf(tokens, size);
                masks = Arrays.copyOf(masks, size);
            }
            System.arraycopy(ids, 0, tokens, n, ids.length);
            Arrays.fill(masks, n, n + ids.length, f.mask());
            n += ids.length;
        }
        if (config.addEosToken()) {
            tokens[n] = special(tokenizer.eosId(), "eos", "add_eos_token");
            masks[n] = 1f;
            n++;
        }
        return new Encoded(Arrays.copyOf(tokens, n), Arrays.copyOf(masks, n));
    }

    private String join(JsonNode example, String[] keys) {
        if (keys.length == 1) {
            return value(example, keys[0]);
        }
        var sb = new StringBuilder();
        for (int k = 0; k < keys.length; k++) {
            if (k > 0) {
                sb.append(config.subfieldSeparator());
            }
            sb.append(value(example, keys[k]));
        }
        return sb.toString();
    }

    private static String value(JsonNode example, String key) {
        JsonNode v = example.get(key);
        if (v == null || !v.isTextual()) {
            throw new DataException((v == null ? "missing field '" + key + "'" : "field '" + key + "' is "
                    + v.getNodeType().name().toLowerCase() + ", expected a string")
                    + (example.has("fields") ? " (named in fields '" + example.get("fields").asText() + "')" : ""));
        }
        return v.textValue();
    }
}
