package io.cohx.models.config;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The map form a config record gets from its components: keys, kinds, renamed keys and nested objects. */
class ConfigRecordTest {
    record Scaling(String type, double factor) {}

    record Sample(int numHeads, Integer nInner, @ConfigKey("head_dim") Integer explicitHeadDim, double ropeTheta, boolean tieWordEmbeddings,
                  String rematPolicy, Scaling ropeScaling) {}

    static final ConfigRecord<Sample> FORM = new ConfigRecord<>(Sample.class, "sample", "Sample", Set.of("use_cache"),
            Map.of("rope_scaling", new ConfigRecord.Codec(
                    v -> v == null ? null : Map.of("type", ((Scaling) v).type(), "factor", ((Scaling) v).factor()),
                    (v, source) -> {
                        if (v == null) {
                            return null;
                        }
                        Map<?, ?> m = (Map<?, ?>) v;
                        if (!(m.get("factor") instanceof Number f)) {
                            throw new ConfigException(source + ": rope_scaling needs a factor");
                        }
                        return new Scaling((String) m.get("type"), f.doubleValue());
                    })));

    @Test
    void keysFollowTheComponentsInOrder() {
        var s = new Sample(4, null, 64, 10000.0, false, "nothing_saveable", new Scaling("linear", 2));
        Map<String, Object> m = FORM.toMap(s);
        assertEquals(List.of("model_type", "num_heads", "n_inner", "head_dim", "rope_theta", "tie_word_embeddings", "remat_policy",
                "rope_scaling"), List.copyOf(m.keySet()));
        assertEquals(Map.of("type", "linear", "factor", 2.0), m.get("rope_scaling"));
        assertEquals(s, FORM.fromMap(new LinkedHashMap<>(m), "test"));
    }

    @Test
    void updatesAreCoercedByKindAndUnknownKeysNamed() {
        var s = new Sample(4, null, null, 10000.0, false, "nothing_saveable", null);
        var u = FORM.updated(s, Map.of("num_heads", "8", "n_inner", "none", "head_dim", 32, "tie_word_embeddings", "yes",
                "rope_scaling", "{\"type\": \"linear\", \"factor\": 4}", "use_cache", true), "--update-model-config");
        assertEquals(new Sample(8, null, 32, 10000.0, true, "nothing_saveable", new Scaling("linear", 4)), u);
        var e = assertThrows(ConfigException.class, () -> FORM.updated(s, Map.of("num_haeds", 8), "f.json"));
        assertTrue(e.getMessage().startsWith("unknown key 'num_haeds' in f.json; did you mean 'num_heads'?"), e.getMessage());
        var bad = assertThrows(ConfigException.class, () -> FORM.updated(s, Map.of("rope_scaling", Map.of("type", "linear")), "f.json"));
        assertEquals("f.json: rope_scaling needs a factor", bad.getMessage());
        var kind = assertThrows(ConfigException.class, () -> FORM.updated(s, Map.of("rope_theta", "fast"), "f.json"));
        assertTrue(kind.getMessage().contains("'rope_theta' in f.json: 'fast' is not a number"), kind.getMessage());
    }
}
