/** Benchmarks, each a main class that prints JSON lines; nothing is exported. */
module io.cohx.bench {
    requires io.cohx.cli;
    requires io.cohx.coh;
    requires io.cohx.serve;
    requires com.fasterxml.jackson.databind;
    requires java.management;
    requires java.net.http;
    requires jdk.management;
}
