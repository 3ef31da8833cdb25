import Foundation

/// Names a kind of object on the REST API: `/apis/<group>/<version>/<resource>`.
public struct GroupVersionResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var resource: String
    public var namespaced: Bool

    public init(group: String, version: String, resource: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.resource = resource
        self.namespaced = namespaced
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    /// The collection path, e.g. `/api/v1/namespaces/ns/pods` or `/apis/storage.k8s.io/v1/storageclasses`.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { path += "/namespaces/\(Self.escape(namespace))" }
        path += "/\(resource)"
        if let name { path += "/\(Self.escape(name))" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? segment
    }

    public static let namespaces = GroupVersionResource(group: "", version: "v1", resource: "namespaces", namespaced: false)
    public static let configMaps = GroupVersionResource(group: "", version: "v1", resource: "configmaps", namespaced: true)
    public static let secrets = GroupVersionResource(group: "", version: "v1", resource: "secrets", namespaced: true)
    public static let serviceAccounts = GroupVersionResource(group: "", version: "v1", resource: "serviceaccounts", namespaced: true)
    public static let events = GroupVersionResource(group: "", version: "v1", resource: "events", namespaced: true)
    public static let pods = GroupVersionResource(group: "", version: "v1", resource: "pods", namespaced: true)
    public static let persistentVolumes = GroupVersionResource(group: "", version: "v1", resource: "persistentvolumes", namespaced: false)
    public static let persistentVolumeClaims = GroupVersionResource(group: "", version: "v1", resource: "persistentvolumeclaims", namespaced: true)
    public static let deployments = GroupVersionResource(group: "apps", version: "v1", resource: "deployments", namespaced: true)
    public static let jobs = GroupVersionResource(group: "batch", version: "v1", resource: "jobs", namespaced: true)
    public static let storageClasses = GroupVersionResource(group: "storage.k8s.io", version: "v1", resource: "storageclasses", namespaced: false)
    public static let customResourceDefinitions = GroupVersionResource(
        group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", namespaced: false)
}
