package io.cohx.models.generate;

import io.cohx.engine.ArrayType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.PartitionRules;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.models.CausalLm;
import io.cohx.pjrt.PjrtClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Where the inputs of the generation and scoring programs live: on one device, or over a
 * (dp, fsdp, mp) mesh with the training partition rules for the parameters (so tensor
 * parallelism is over mp), rows of a batch over dp × fsdp, and the KV cache split the same way
 * (rows over dp × fsdp, heads over mp). A split that does not divide a dimension is left out
 * (that dimension is kept whole) rather than refused, except for parameters, whose rules are the
 * training ones and whose errors name the tensor.
 *
 * @param mesh  null or a one-device mesh: everything on the client's first device
 * @param rows  the batch dimension of the per-row inputs and of the cache
 */
public record ServingLayout(Mesh mesh, CausalLm model, int rows) {

    public ServingLayout {
        if (mesh != null && mesh.size() == 1) {
            mesh = null;
        }
    }

    /** {@code builder} set to run on the mesh, inputs and outputs laid out by path (a no-op on one device). */
    Jit.Builder apply(Jit.Builder builder, Set<String> perRow) {
        if (mesh == null) {
            return builder;
        }
        java.util.function.Function<String, PartitionSpec> spec = path -> {
            if (path.startsWith("params.")) {
                return model.partitionRules().specFor(path.substring("params.".length()));
            }
            if (path.startsWith("cache.")) {
                return cache(path.substring("cache.".length()));
            }
            return perRow.contains(path) ? rowSpec() : PartitionSpec.REPLICATED;
        };
        return builder.mesh(mesh, spec, spec);
    }

    /** Rows over dp × fsdp when they divide the batch. */
    PartitionSpec rowSpec() {
        return rows % (mesh.axisSize("dp") * mesh.axisSize("fsdp")) == 0 ? PartitionRules.BATCH : PartitionSpec.REPLICATED;
    }

    /** A cache entry {@code [rows, length, heads, head_dim]}: rows like the batch, heads over mp when they divide. */
    private PartitionSpec cache(String path) {
        ArrayType t = model.cacheTypes(rows, 1, io.cohx.engine.DType.F32).get(path);
        List<String> rowAxes = rowSpec().isReplicated() ? List.of() : List.of("dp", "fsdp");
        List<String> headAxes = t.shape().dim(2) % mesh.axisSize("mp") == 0 ? List.of("mp") : List.of();
        return PartitionSpec.ofGroups(List.of(rowAxes, List.of(), headAxes, List.of()));
    }

    /**
     * The parameters where the programs want them: host arrays uploaded (sharded by the rules on a
     * mesh), device arrays used as they are when already in place, else resharded. Arrays made
     * here are added to {@code owned} for the caller to close.
     */
    public Tree<Object> place(PjrtClient client, Tree<?> params, List<DeviceArray> owned) {
        List<String> paths = params.paths();
        List<Object> values = new ArrayList<>();
        for (String p : paths) {
            Object v = params.get(p);
            Object placed;
            if (mesh == null) {
                placed = v instanceof NdArray a ? own(DeviceArray.put(client, a), owned) : v;
            } else {
                PartitionSpec want = model.partitionRules().specFor(p);
                placed = switch (v) {
                    case NdArray a -> own(DeviceArray.put(client, a, mesh, want, p), owned);
                    case DeviceArray d when d.isSharded() && d.mesh().equals(mesh)
                            && d.spec().canonical(d.type().shape().rank(), mesh).equals(want.canonical(d.type().shape().rank(), mesh)) -> d;
                    case DeviceArray d -> own(d.reshard(client, mesh, want, p), owned);
                    default -> throw new IllegalArgumentException("parameter '" + p + "' is a " + v.getClass().getSimpleName());
                };
            }
            values.add(placed);
        }
        return Tree.of(paths, values);
    }

    private static DeviceArray own(DeviceArray a, List<DeviceArray> owned) {
        owned.add(a);
        return a;
    }

    /** A fresh (zero) cache of {@code length} columns where the programs want it. */
    Tree<DeviceArray> zeroCache(PjrtClient client, int length, io.cohx.engine.DType dtype) {
        Tree<ArrayType> types = model.cacheTypes(rows, length, dtype);
        return types.mapWithPath((p, t) -> mesh == null ? DeviceArray.put(client, NdArray.zeros(t))
                : DeviceArray.put(client, NdArray.zeros(t), mesh, cache(p), "cache." + p));
    }
}
