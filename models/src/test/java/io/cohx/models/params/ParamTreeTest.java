package io.cohx.models.params;

import io.cohx.models.config.GptjConfig;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ParamTreeTest {

    @Test
    void parameterCountsOfThePublishedModels() {
        // The published sizes: LLaMA-7B has 6,738,415,616 parameters, GPT-J-6B 6,050,882,784.
        assertEquals(6_738_415_616L, ParamTree.of(LlamaConfig.preset("7b")).numel());
        assertEquals(6_050_882_784L, ParamTree.of(GptjConfig.preset("6b")).numel());
        assertEquals(2 + 2 * 9 + 1, ParamTree.of(LlamaConfig.preset("debug")).size());
    }

    @Test
    void namesAndShapesFollowTheReference() {
        ParamTree t = ParamTree.of(LlamaConfig.preset("debug"));
        assertEquals("transformer.wte.embedding", t.params().getFirst().path());
        assertArrayEquals(new long[] {128, 256}, t.get("transformer.h.1.feed_forward.w1.kernel").shape());
        assertArrayEquals(new long[] {256, 128}, t.get("transformer.h.1.feed_forward.w2.kernel").shape());
        assertArrayEquals(new long[] {128, 32000}, t.get("lm_head.kernel").shape());
        ParamTree g = ParamTree.of(GptjConfig.preset("debug"));
        assertArrayEquals(new long[] {512}, g.get("transformer.h.0.mlp.fc_in.bias").shape());
        assertArrayEquals(new long[] {50400}, g.get("lm_head.bias").shape());
        ModelConfig tied = LlamaConfig.preset("debug").withUpdates(Map.of("tie_word_embeddings", true), "t");
        assertNull(ParamTree.of(tied).get("lm_head.kernel"));
    }

    @Test
    void hfNamesAreTheTransformersStateDictKeys() {
        HfNaming l = HfNaming.of(LlamaConfig.preset("debug"));
        assertEquals("model.layers.1.self_attn.q_proj.weight", l.byPath("transformer.h.1.attention.wq.kernel").hfName());
        assertEquals(HfNaming.Layout.TRANSPOSE_ROTARY, l.byPath("transformer.h.1.attention.wk.kernel").layout());
        assertEquals(HfNaming.Layout.TRANSPOSE, l.byPath("transformer.h.1.attention.wv.kernel").layout());
        assertEquals("model.layers.0.mlp.gate_proj.weight", l.byPath("transformer.h.0.feed_forward.w1.kernel").hfName());
        assertEquals("model.layers.0.mlp.down_proj.weight", l.byPath("transformer.h.0.feed_forward.w2.kernel").hfName());
        assertEquals("model.layers.0.post_attention_layernorm.weight", l.byPath("transformer.h.0.ffn_norm.kernel").hfName());
        assertEquals(HfNaming.Layout.SAME, l.byPath("transformer.h.0.ffn_norm.kernel").layout());
        assertEquals("model.norm.weight", l.byPath("transformer.ln_f.kernel").hfName());
        assertArrayEquals(new long[] {32000, 128}, l.byPath("lm_head.kernel").hfShape());
        HfNaming g = HfNaming.of(GptjConfig.preset("debug"));
        assertEquals("transformer.h.0.attn.q_proj.weight", g.byPath("transformer.h.0.attn.q_proj.kernel").hfName());
        assertEquals(HfNaming.Layout.TRANSPOSE, g.byPath("transformer.h.0.attn.q_proj.kernel").layout());
        assertEquals("transformer.h.0.ln_1.weight", g.byPath("transformer.h.0.ln_1.scale").hfName());
        assertEquals("transformer.h.0.mlp.fc_in.bias", g.byPath("transformer.h.0.mlp.fc_in.bias").hfName());
        assertEquals("transformer.ln_f.weight", g.byPath("transformer.ln_f.scale").hfName());
        assertEquals("lm_head.bias", g.byPath("lm_head.bias").hfName());
        var seen = new HashSet<String>();
        g.entries().forEach(e -> assertEquals(true, seen.add(e.hfName()), "unique " + e.hfName()));
        assertEquals(true, l.ignorable("model.layers.3.self_attn.rotary_emb.inv_freq"));
        assertEquals(true, l.ignorable("transformer.h.0.attn.masked_bias"));
    }
}
