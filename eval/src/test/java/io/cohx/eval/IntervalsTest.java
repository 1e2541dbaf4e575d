package io.cohx.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IntervalsTest {

    @Test
    void wilsonMatchesTheFormulaAtKnownPoints() {
        // 81 of 100: centre (0.81 + z²/200)/(1 + z²/100), half-width z*sqrt(0.81*0.19/100 + z²/40000)/(1 + z²/100)
        Estimate e = Intervals.wilson(81, 100);
        assertEquals(0.81, e.value(), 1e-15);
        assertEquals(0.7222, e.low(), 1e-4);
        assertEquals(0.8749, e.high(), 1e-4);
        // 0 of 10 and 10 of 10 stay inside [0, 1] and are not degenerate
        assertEquals(0, Intervals.wilson(0, 10).low(), 1e-15);
        assertEquals(0.2775, Intervals.wilson(0, 10).high(), 1e-4);
        assertEquals(1, Intervals.wilson(10, 10).high(), 1e-15);
        assertTrue(Double.isNaN(Intervals.wilson(0, 0).value()));
    }

    @Test
    void bootstrapIsSeededAndBracketsTheMean() {
        double[] v = new double[200];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 2; // mean 0.5, sd 0.5 -> standard error ~0.035
        }
        Estimate a = Intervals.bootstrapMean(v);
        Estimate b = Intervals.bootstrapMean(v);
        assertEquals(a, b, "same input, same interval");
        assertEquals(0.5, a.value(), 1e-15);
        assertEquals(0.5 - 1.96 * 0.0354, a.low(), 0.01);
        assertEquals(0.5 + 1.96 * 0.0354, a.high(), 0.01);
        Estimate flat = Intervals.bootstrapMean(new double[] {2, 2, 2});
        assertEquals(2, flat.low(), 0);
        assertEquals(2, flat.high(), 0);
        // A ratio of sums weighs every denominator unit equally: (1 + 9) / (1 + 3)
        assertEquals(2.5, Intervals.bootstrapRatio(new double[] {1, 9}, new double[] {1, 3}).value(), 1e-15);
    }
}
