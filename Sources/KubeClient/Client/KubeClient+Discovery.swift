import KubeModels
import NIOHTTP1

extension KubeClient {
    /// The resource serving `kind` in `apiVersion`, from the server's discovery document
    /// (`/api/v1` or `/apis/GROUP/VERSION`), as kubectl maps a manifest's kind; nil when the
    /// server does not serve that kind (a CRD not installed yet). Subresources are skipped.
    public func resource(apiVersion: String, kind: String) async throws(KubeClientError) -> GroupVersionResource? {
        let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts.first ?? "v1")
        let path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        let subject = "discover \(kind).\(apiVersion)"
        let response = try await send(.GET, path: path, subject: subject)
        if response.status == 404 { return nil }
        let list = try json(response, subject: subject)
        for entry in list["resources"]?.arrayValue ?? [] {
            guard entry["kind"]?.stringValue == kind, let name = entry["name"]?.stringValue, !name.contains("/") else { continue }
            return GroupVersionResource(group: group, version: version, resource: name, namespaced: entry["namespaced"]?.boolValue ?? true)
        }
        return nil
    }
}
