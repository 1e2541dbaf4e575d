package io.cohx.engine.mesh;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How one array is laid over a mesh: for each array dimension, the mesh axes it is split over
 * (major to minor), or none (that dimension is whole on every device). A dimension listed by no
 * axis and axes listed by no dimension mean replication. {@code PartitionSpec.of("fsdp", "mp")}
 * splits rows over fsdp and columns over mp; {@link #REPLICATED} keeps everything whole.
 */
public record PartitionSpec(List<List<String>> dims) {

    /** Replicated on every device, whatever the rank. */
    public static final PartitionSpec REPLICATED = new PartitionSpec(List.of());

    public PartitionSpec {
        dims = dims.stream().map(List::copyOf).toList();
        var seen = new ArrayList<String>();
        for (var d : dims) {
            for (String a : d) {
                if (seen.contains(a)) {
                    throw new MeshException("partition spec " + dims + " uses mesh axis '" + a + "' twice");
                }
                seen.add(a);
            }
        }
    }

    /** One entry per dimension: an axis name, or null for "not split". */
    public static PartitionSpec of(String... axes) {
        return new PartitionSpec(Arrays.stream(axes).map(a -> a == null ? List.<String>of() : List.of(a)).toList());
    }

    /** One entry per dimension: the axes that dimension is split over (empty for none). */
    public static PartitionSpec ofGroups(List<List<String>> dims) {
        return new PartitionSpec(dims);
    }

    /** The axes dimension {@code d} is split over; none for dimensions past the spec. */
    public List<String> axes(int d) {
        return d < dims.size() ? dims.get(d) : List.of();
    }

    public boolean isReplicated() {
        return dims.stream().allMatch(List::isEmpty);
    }

    /** The Shardy sharding attribute for an array of {@code rank} on mesh {@code meshName}. */
    public String sdySharding(String meshName, int rank) {
        var parts = new ArrayList<String>();
        for (int d = 0; d < rank; d++) {
            parts.add("{" + String.join(", ", axes(d).stream().map(a -> "\"" + a + "\"").toList()) + "}");
        }
        return "#sdy.sharding<@" + meshName + ", [" + String.join(", ", parts) + "]>";
    }

    /**
     * Per-device dimensions of an array of {@code globalDims} on {@code mesh}; an error names the
     * tensor, the dimension, the axes and the sizes when a split does not divide evenly.
     */
    public long[] localDims(String tensor, long[] globalDims, Mesh mesh) {
        if (dims.size() > globalDims.length && dims.subList(globalDims.length, dims.size()).stream().anyMatch(x -> !x.isEmpty())) {
            throw new MeshException(tensor + ": partition spec " + this + " has more dimensions than the tensor's shape "
                    + Arrays.toString(globalDims));
        }
        long[] local = globalDims.clone();
        for (int d = 0; d < globalDims.length; d++) {
            int ways = ways(d, mesh);
            if (globalDims[d] % ways != 0) {
                throw new MeshException(tensor + ": dimension " + d + " of shape " + Arrays.toString(globalDims) + " has size "
                        + globalDims[d] + ", which mesh axes " + axes(d) + " (" + ways + " ways on mesh " + mesh
                        + ") do not divide; change --mesh-dim or the partition rule");
            }
            local[d] = globalDims[d] / ways;
        }
        return local;
    }

    /** How many ways dimension {@code d} is split. */
    public int ways(int d, Mesh mesh) {
        int w = 1;
        for (String a : axes(d)) {
            w *= mesh.axisSize(a);
        }
        return w;
    }

    /**
     * The same layout written canonically for an array of {@code rank} on {@code mesh}: axes of
     * size 1 dropped (splitting over them changes nothing) and trailing unsplit dimensions cut.
     * Two specs place the same data on the same devices exactly when their canonical forms are equal.
     */
    public PartitionSpec canonical(int rank, Mesh mesh) {
        var out = new ArrayList<List<String>>();
        for (int d = 0; d < rank; d++) {
            out.add(axes(d).stream().filter(a -> mesh.axisSize(a) > 1).toList());
        }
        while (!out.isEmpty() && out.getLast().isEmpty()) {
            out.removeLast();
        }
        return new PartitionSpec(out);
    }

    /** Which shard of dimension {@code d} the device at mesh coordinates {@code coords} holds. */
    public int shardIndex(int d, Mesh mesh, int[] coords) {
        int idx = 0;
        for (String a : axes(d)) {
            int ai = mesh.axisIndex(a);
            idx = idx * mesh.axisSizes()[ai] + coords[ai];
        }
        return idx;
    }

    @Override
    public String toString() {
        return "PS" + dims.stream().map(x -> x.isEmpty() ? "None" : x.size() == 1 ? x.getFirst() : x.toString()).toList();
    }
}
