package io.cohx.coh.train;

import io.cohx.engine.MemoryReport;
import io.cohx.engine.RematPolicy;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dry run's arithmetic: the estimate from shapes, extrapolation over layers, sizes on the command line. */
class MemoryEstimateTest {
    // LLaMA 7B: 6.74e9 parameters (f32), AdamW's two f32 moments.
    static final MemoryEstimate.Dims LLAMA_7B = new MemoryEstimate.Dims(6_738_415_616L * 4, 2 * 6_738_415_616L * 4, 32, 4096, 11008, 32, 32000);

    static MemoryEstimate.Layout layout(RematPolicy remat, int lossChunk, int attentionChunk) {
        return new MemoryEstimate.Layout(8, 2048, 2, 1, 8, 1, remat, lossChunk, attentionChunk, false);
    }

    @Test
    void stateIsSplitOverFsdpAndActivationsFollowTheRematPolicy() {
        var plain = MemoryEstimate.of(LLAMA_7B, layout(RematPolicy.EVERYTHING_SAVEABLE, 0, 0));
        assertEquals(6_738_415_616L * 4 / 8, plain.parameters());
        assertEquals(2 * plain.parameters(), plain.optimizerState());
        assertEquals(plain.parameters(), plain.gradients());
        // One row of 2048 tokens per device, 32 layers, bf16: p·(6h + 4h + 4i)·T·L + 8·a·S·T·L.
        double tokens = 2048;
        double expected = 32 * tokens * (2 * (10 * 4096 + 4 * 11008) + 8 * 32 * 2048.0);
        assertEquals(expected, plain.activations(), 1);
        assertEquals(2 * tokens * 32000 * 4, plain.logits(), 1);

        long previous = Long.MAX_VALUE;
        for (RematPolicy p : new RematPolicy[] {RematPolicy.EVERYTHING_SAVEABLE, RematPolicy.DOTS_SAVEABLE,
                RematPolicy.DOTS_WITH_NO_BATCH_DIMS_SAVEABLE, RematPolicy.NOTHING_SAVEABLE}) {
            long a = MemoryEstimate.of(LLAMA_7B, layout(p, 0, 0)).activations();
            assertTrue(a < previous, p + " keeps less than the policy before it: " + a + " vs " + previous);
            previous = a;
        }
    }

    @Test
    void chunksShrinkTheLogitsAndTheScores() {
        var plain = MemoryEstimate.of(LLAMA_7B, layout(RematPolicy.NOTHING_SAVEABLE, 0, 0));
        var chunked = MemoryEstimate.of(LLAMA_7B, layout(RematPolicy.NOTHING_SAVEABLE, 256, 256));
        assertEquals(plain.logits() / 8, chunked.logits(), 1);
        assertTrue(chunked.activations() < plain.activations());
        assertEquals(plain.peak() - chunked.peak(), plain.logits() - chunked.logits() + plain.activations() - chunked.activations());
    }

    @Test
    void extrapolationAddsWhatTheSecondLayerAdded() {
        var one = new MemoryReport("train_step", 8, Map.of("params.a", 100L, "params.b", 10L, "opt.m", 200L, "lr", 4L), 314, 310, 300, 1000, 500, 7);
        var two = new MemoryReport("train_step", 8, Map.of("params.a", 150L, "params.b", 10L, "opt.m", 300L, "lr", 4L), 464, 460, 450, 1400, 650, 9);
        MemoryReport r = DryRun.extrapolate(one, two, 5);
        assertEquals(110 + 4 * 50, r.inputBytesUnder("params"));
        assertEquals(200 + 4 * 100, r.inputBytesUnder("opt"));
        assertEquals(4, r.inputBytesUnder("lr"));
        assertEquals(1000 + 4 * 400, r.temporaries());
        assertEquals(500 + 4 * 150, r.peak());
        assertEquals(314 + 4 * 150, r.arguments());
    }

    @Test
    void sizesOnTheCommandLine() {
        assertEquals(16L << 30, DryRun.parseSize("16GiB", "--device-memory"));
        assertEquals(80_000_000_000L, DryRun.parseSize("80GB", "--device-memory"));
        assertEquals(512L << 20, DryRun.parseSize("512m", "--device-memory"));
        assertEquals(1234, DryRun.parseSize("1234", "--device-memory"));
        var e = assertThrows(IllegalArgumentException.class, () -> DryRun.parseSize("lots", "--device-memory"));
        assertTrue(e.getMessage().startsWith("--device-memory 'lots'"), e.getMessage());
    }
}
