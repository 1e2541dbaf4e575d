package io.cohx.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tracing errors name the op, the operand types and the caller's source line. */
class ErrorMessageTest {

    private static EngineException traceError(java.util.function.Function<Tree<Tensor>, Tree<Tensor>> f, Tree<ArrayType> in) {
        return assertThrows(EngineException.class, () -> Program.trace("bad", in, f));
    }

    @Test
    void shapeMismatchNamesOpShapesAndCallSite() {
        var e = traceError(t -> Tree.of("y", t.get("a").add(t.get("b"))),
                Tree.of("a", ArrayType.of(DType.F32, 2, 3), "b", ArrayType.of(DType.F32, 4)));
        String m = e.getMessage();
        assertTrue(m.startsWith("add:"), m);
        assertTrue(m.contains("f32[2,3]") && m.contains("f32[4]"), m);
        assertTrue(m.contains("ErrorMessageTest.shapeMismatchNamesOpShapesAndCallSite/lambda(ErrorMessageTest.java:"), m);
    }

    @Test
    void dotContractionMismatch() {
        var e = traceError(t -> Tree.of("y", t.get("a").matmul(t.get("b"))),
                Tree.of("a", ArrayType.of(DType.F32, 2, 3), "b", ArrayType.of(DType.F32, 4, 5)));
        String m = e.getMessage();
        assertTrue(m.startsWith("dot_general:") && m.contains("f32[2,3]") && m.contains("f32[4,5]") && m.contains("ErrorMessageTest.java:"), m);
    }

    @Test
    void dtypeMismatchSaysHowToFix() {
        var e = traceError(t -> Tree.of("y", t.get("a").mul(t.get("b"))),
                Tree.of("a", ArrayType.of(DType.F32, 2), "b", ArrayType.of(DType.BF16, 2)));
        assertTrue(e.getMessage().contains("f32[2] and bf16[2]") && e.getMessage().contains("convert"), e.getMessage());
    }

    @Test
    void reshapeAndConcatAndGradOfIntegers() {
        var e = traceError(t -> Tree.of("y", t.get("a").reshape(4, 2)), Tree.of("a", ArrayType.of(DType.F32, 2, 3)));
        assertTrue(e.getMessage().startsWith("reshape:") && e.getMessage().contains("f32[2,3]"), e.getMessage());
        var c = traceError(t -> Tree.of("y", Shapes.concatenate(0, t.get("a"), t.get("b"))),
                Tree.of("a", ArrayType.of(DType.F32, 2, 3), "b", ArrayType.of(DType.F32, 2, 4)));
        assertTrue(c.getMessage().startsWith("concatenate:") && c.getMessage().contains("f32[2,4]"), c.getMessage());
        var g = traceError(t -> Autodiff.grad(p -> p.get("i").convert(DType.F32).sum(), t),
                Tree.of("i", ArrayType.of(DType.S32, 3)));
        assertTrue(g.getMessage().contains("'i'") && g.getMessage().contains("s32[3]") && g.getMessage().contains("floating"), g.getMessage());
    }

    @Test
    void noTraceActive() {
        var e = assertThrows(EngineException.class, () -> Constants.scalar(1, DType.F32));
        assertTrue(e.getMessage().contains("no graph is being traced"), e.getMessage());
    }
}
