/// A parsed Kubernetes REST path: `/api/v1/namespaces/ns/pods/p/log` and friends.
struct APIPath: Sendable, Equatable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?

    /// Parses a resource path; nil for anything else (discovery, openapi, unknown).
    init?(_ path: String) {
        var parts = path.split(separator: "/").map(String.init)
        if parts.first == "api", parts.count >= 3 {
            group = ""
            version = parts[1]
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 4 {
            group = parts[1]
            version = parts[2]
            parts.removeFirst(3)
        } else {
            return nil
        }
        namespace = nil
        // `namespaces/x/<resource>...` is a namespaced path unless it is the namespace's own subresource.
        if parts.count >= 3, parts[0] == "namespaces", !(group.isEmpty && parts.count == 3 && ["status", "finalize"].contains(parts[2])) {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard (1...3).contains(parts.count) else { return nil }
        resource = parts[0]
        name = parts.count > 1 ? parts[1] : nil
        subresource = parts.count > 2 ? parts[2] : nil
    }
}
