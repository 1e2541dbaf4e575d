/**
 * Chain of Hindsight: the data pipeline (records, feedback templates, packing, batches;
 * {@code io.cohx.coh.data}), the trainer ({@code io.cohx.coh.train}) and what a run writes to be
 * watched (metrics, loss plot, TensorBoard events; {@code io.cohx.coh.observe}). The generated
 * TensorBoard protobuf ({@code io.cohx.coh.observe.proto}) stays inside.
 */
module io.cohx.coh {
    requires transitive io.cohx.models;
    // Records are JsonNode in the packers' and readers' signatures.
    requires transitive com.fasterxml.jackson.databind;
    requires com.google.protobuf;
    requires org.knowm.xchart;
    requires java.desktop;
    requires java.net.http;
    // ExtendedOpenOption.DIRECT for checkpoint writes, looked up by name (OutputFiles).
    requires jdk.unsupported;

    exports io.cohx.coh.data;
    exports io.cohx.coh.observe;
    exports io.cohx.coh.train;

    // DataPosition (the resume point in checkpoints) is a record read and written by Jackson.
    opens io.cohx.coh.data to com.fasterxml.jackson.databind;
}
