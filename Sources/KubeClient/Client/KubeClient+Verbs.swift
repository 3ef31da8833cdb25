import Foundation
import KubeModels
import NIOHTTP1

/// What a list returned: the items and the resourceVersion to watch from.
public struct ObjectList: Sendable {
    public var items: [JSONValue]
    public var resourceVersion: String
}

public enum PatchType: String, Sendable {
    case json = "application/json-patch+json"
    case merge = "application/merge-patch+json"
    case strategic = "application/strategic-merge-patch+json"
}

public enum PropagationPolicy: String, Sendable {
    case background = "Background"
    case foreground = "Foreground"
    case orphan = "Orphan"
}

extension KubeClient {
    static func describe(_ verb: String, _ resource: GroupVersionResource, _ namespace: String?, _ name: String?) -> String {
        var text = "\(verb) \(resource)"
        if resource.namespaced, let namespace { text += " \(namespace)/" } else if name != nil { text += " " }
        if let name { text += name }
        return text
    }

    /// The API server's `gitVersion` from `/version` (e.g. `v1.33.2`): proves the server answers.
    public func serverVersion() async throws(KubeClientError) -> String {
        let subject = "get /version"
        let response = try await send(.GET, path: "/version", subject: subject, timeout: .seconds(15))
        return try json(response, subject: subject)["gitVersion"]?.stringValue ?? "unknown"
    }

    public func get(_ resource: GroupVersionResource, namespace: String? = nil, name: String) async throws(KubeClientError) -> JSONValue {
        let subject = Self.describe("get", resource, namespace, name)
        let response = try await send(.GET, path: resource.path(namespace: namespace, name: name), subject: subject)
        return try json(response, subject: subject)
    }

    /// Like `get`, but nil instead of a NotFound error.
    public func getIfPresent(_ resource: GroupVersionResource, namespace: String? = nil, name: String) async throws(KubeClientError) -> JSONValue? {
        do {
            return try await get(resource, namespace: namespace, name: name)
        } catch  where error.code == .notFound {
            return nil
        }
    }

    /// The object named `name`, read as a list narrowed to that name, or nil when there is none.
    /// RBAC authorizes such a list against `resourceNames`, so a least-privilege role that grants
    /// list/watch (for a shared informer) needs no `get` as well.
    public func listNamed(_ resource: GroupVersionResource, namespace: String? = nil, name: String) async throws(KubeClientError) -> JSONValue? {
        try await list(resource, namespace: namespace, fieldSelector: "metadata.name=\(name)").items.first
    }

    /// Lists every matching object, following `continue` tokens page by page.
    public func list(
        _ resource: GroupVersionResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        pageSize: Int = 500
    ) async throws(KubeClientError) -> ObjectList {
        let subject = Self.describe("list", resource, namespace, nil)
        var items: [JSONValue] = []
        var token: String?
        var resourceVersion = ""
        repeat {
            var query: [(String, String)] = [("limit", String(pageSize))]
            if let labelSelector { query.append(("labelSelector", labelSelector)) }
            if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
            if let token { query.append(("continue", token)) }
            let page = try json(try await send(.GET, path: resource.path(namespace: namespace), query: query, subject: subject), subject: subject)
            items += page["items"]?.arrayValue ?? []
            token = page[path: ["metadata", "continue"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if resourceVersion.isEmpty { resourceVersion = page[path: ["metadata", "resourceVersion"]]?.stringValue ?? "" }
        } while token != nil
        return ObjectList(items: items, resourceVersion: resourceVersion)
    }

    @discardableResult
    public func create(
        _ resource: GroupVersionResource, namespace: String? = nil, object: JSONValue, fieldManager: String = "longhorn-dr", dryRun: Bool = false
    ) async throws(KubeClientError) -> JSONValue {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? object[path: ["metadata", "generateName"]]?.stringValue
        let subject = Self.describe("create", resource, namespace, name)
        var query = [("fieldManager", fieldManager), ("fieldValidation", "Strict")]
        if dryRun { query.append(("dryRun", "All")) }
        let response = try await send(.POST, path: resource.path(namespace: namespace), query: query, body: object.encoded(), subject: subject)
        return try json(response, subject: subject)
    }

    /// Replaces an object; with `metadata.resourceVersion` set, a concurrent change is a Conflict error.
    @discardableResult
    public func update(
        _ resource: GroupVersionResource, namespace: String? = nil, object: JSONValue, subresource: String? = nil, fieldManager: String = "longhorn-dr"
    ) async throws(KubeClientError) -> JSONValue {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let subject = Self.describe("update", resource, namespace, name) + (subresource.map { "/\($0)" } ?? "")
        let response = try await send(
            .PUT, path: resource.path(namespace: namespace, name: name, subresource: subresource),
            query: [("fieldManager", fieldManager), ("fieldValidation", "Strict")], body: object.encoded(), subject: subject)
        return try json(response, subject: subject)
    }

    @discardableResult
    public func patch(
        _ resource: GroupVersionResource, namespace: String? = nil, name: String, type: PatchType, patch: JSONValue,
        subresource: String? = nil, fieldManager: String = "longhorn-dr"
    ) async throws(KubeClientError) -> JSONValue {
        let subject = Self.describe("patch", resource, namespace, name) + (subresource.map { "/\($0)" } ?? "")
        let response = try await send(
            .PATCH, path: resource.path(namespace: namespace, name: name, subresource: subresource),
            query: [("fieldManager", fieldManager), ("fieldValidation", "Strict")], body: patch.encoded(), contentType: type.rawValue, subject: subject)
        return try json(response, subject: subject)
    }

    /// Server-side apply: the object is this manager's whole intent for the fields it sets.
    @discardableResult
    public func apply(
        _ resource: GroupVersionResource, namespace: String? = nil, object: JSONValue, fieldManager: String = "longhorn-dr", force: Bool = false
    ) async throws(KubeClientError) -> JSONValue {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let subject = Self.describe("apply", resource, namespace, name)
        let response = try await send(
            .PATCH, path: resource.path(namespace: namespace, name: name),
            query: [("fieldManager", fieldManager), ("fieldValidation", "Strict"), ("force", force ? "true" : "false")],
            body: object.encoded(), contentType: "application/apply-patch+yaml", subject: subject)
        return try json(response, subject: subject)
    }

    /// Deletes an object. With `waitUntilGone`, returns only once the object has disappeared
    /// (finalizers done), watching rather than polling.
    public func delete(
        _ resource: GroupVersionResource, namespace: String? = nil, name: String, propagation: PropagationPolicy = .background,
        waitUntilGone timeout: Duration? = nil
    ) async throws(KubeClientError) {
        let subject = Self.describe("delete", resource, namespace, name)
        let options: JSONValue = ["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": .string(propagation.rawValue)]
        let response = try await send(.DELETE, path: resource.path(namespace: namespace, name: name), body: options.encoded(), subject: subject)
        if response.status == 404 { return }
        _ = try json(response, subject: subject)
        if let timeout {
            _ = try await waitFor(resource, namespace: namespace, name: name, timeout: timeout, until: "deleted") { $0 == nil }
        }
    }

    /// Plain-text logs of a pod's container.
    public func logs(namespace: String, pod: String, container: String? = nil, tailLines: Int? = nil) async throws(KubeClientError) -> String {
        let subject = "logs pod \(namespace)/\(pod)"
        var query: [(String, String)] = []
        if let container { query.append(("container", container)) }
        if let tailLines { query.append(("tailLines", String(tailLines))) }
        let response = try await send(
            .GET, path: GroupVersionResource.pods.path(namespace: namespace, name: pod, subresource: "log"),
            query: query, accept: "text/plain", subject: subject)
        guard (200..<300).contains(response.status) else {
            throw KubeClientError.from(status: response.status, body: response.body, subject: subject)
        }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// Decodes a JSON object into a typed model holding only the fields we use.
    public static func decode<T: Decodable>(_ type: T.Type, from object: JSONValue) throws(KubeClientError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: object.encoded())
        } catch {
            throw KubeClientError(
                .decoding, subject: "\(object["kind"]?.stringValue ?? "object") \(object[path: ["metadata", "name"]]?.stringValue ?? "")",
                detail: "does not have the expected shape: \(error)", cause: error)
        }
    }
}
