/**
 * The pinned PJRT plugins, {@code io/cohx/native/plugins.lock}: a resource outside any package
 * ("native" is a Java keyword), so the module system does not encapsulate it and the bindings read
 * it through their class loader. The module has no code and exports nothing.
 */
module io.cohx.plugins.lock {
}
