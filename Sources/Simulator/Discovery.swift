import KubeModels

/// Discovery documents in both shapes: aggregated (kubectl 1.26+) and legacy (typed clients).
enum Discovery {
    static func legacyVersions() -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"]],
        ]
    }

    static func groupVersions(_ types: [ResourceType]) -> [(group: String, versions: [String])] {
        var groups: [String: Set<String>] = [:]
        for type in types where !type.group.isEmpty { groups[type.group, default: []].insert(type.version) }
        return groups.keys.sorted().map { ($0, groups[$0]!.sorted()) }
    }

    static func legacyGroups(_ types: [ResourceType]) -> JSONValue {
        let groups: [JSONValue] = groupVersions(types).map { group, versions in
            let list: [JSONValue] = versions.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }
            return ["name": .string(group), "versions": .array(list), "preferredVersion": list[0]]
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    static func resourceList(_ types: [ResourceType], group: String, version: String) -> JSONValue {
        var resources: [JSONValue] = []
        for type in types.sorted(by: { $0.resource < $1.resource }) {
            var entry: JSONValue = [
                "name": .string(type.resource), "singularName": .string(type.singular), "namespaced": .bool(type.namespaced),
                "kind": .string(type.kind), "verbs": .array(type.verbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
            resources.append(entry)
            for sub in type.subresources {
                let (kind, verbs) = subresourceShape(sub, type)
                resources.append([
                    "name": .string("\(type.resource)/\(sub)"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(kind), "verbs": .array(verbs.map { .string($0) }),
                ])
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(resources)]
    }

    static func subresourceShape(_ sub: String, _ type: ResourceType) -> (String, [String]) {
        switch sub {
        case "exec": ("PodExecOptions", ["create", "get"])
        case "log": ("Pod", ["get"])
        case "scale": ("Scale", ["get", "patch", "update"])
        case "finalize": ("Namespace", ["update"])
        default: (type.kind, ["get", "patch", "update"])
        }
    }

    static func aggregated(_ types: [ResourceType], core: Bool) -> JSONValue {
        let selected = types.filter { $0.group.isEmpty == core }
        var byGroup: [String: [ResourceType]] = [:]
        for type in selected { byGroup[type.group, default: []].append(type) }
        let items: [JSONValue] = byGroup.keys.sorted().map { group in
            var versions: [String: [ResourceType]] = [:]
            for type in byGroup[group] ?? [] { versions[type.version, default: []].append(type) }
            let versionEntries: [JSONValue] = versions.keys.sorted().map { version in
                let resources: [JSONValue] = (versions[version] ?? []).sorted { $0.resource < $1.resource }.map { type in
                    var entry: JSONValue = [
                        "resource": .string(type.resource),
                        "responseKind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
                        "scope": .string(type.namespaced ? "Namespaced" : "Cluster"),
                        "singularResource": .string(type.singular),
                        "verbs": .array(type.verbs.map { .string($0) }),
                    ]
                    if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
                    if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
                    if !type.subresources.isEmpty {
                        entry["subresources"] = .array(
                            type.subresources.map { sub in
                                let (kind, verbs) = subresourceShape(sub, type)
                                return [
                                    "subresource": .string(sub),
                                    "responseKind": [
                                        "group": .string(sub == "exec" || sub == "log" ? "" : type.group), "version": .string(type.version),
                                        "kind": .string(kind),
                                    ],
                                    "verbs": .array(verbs.map { .string($0) }),
                                ]
                            })
                    }
                    return entry
                }
                return ["version": .string(version), "freshness": "Current", "resources": .array(resources)]
            }
            return ["metadata": ["name": .string(group)], "versions": .array(versionEntries)]
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:], "items": .array(items)]
    }
}

/// The smallest OpenAPI v3 documents with which kubectl create/apply work and send
/// `fieldValidation=Strict`: a PATCH operation per kind carrying its group-version-kind and the
/// `fieldValidation` parameter. The server then enforces strictness itself.
enum OpenAPIDocuments {
    static func key(group: String, version: String) -> String { group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)" }

    static func index(_ types: [ResourceType]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for type in types {
            let key = key(group: type.group, version: type.version)
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash(key, types))")]
        }
        return ["paths": .object(paths)]
    }

    /// Changes when the set of kinds in a group-version changes, so kubectl's cache refreshes.
    static func hash(_ key: String, _ types: [ResourceType]) -> String {
        let names = types.filter { self.key(group: $0.group, version: $0.version) == key }.map(\.kind).sorted().joined(separator: ",")
        var value: UInt64 = 1_469_598_103_934_665_603
        for byte in names.utf8 { value = (value ^ UInt64(byte)) &* 1_099_511_628_211 }
        return String(value, radix: 16, uppercase: true)
    }

    static func document(_ key: String, types: [ResourceType]) -> JSONValue? {
        let selected = types.filter { self.key(group: $0.group, version: $0.version) == key }
        guard !selected.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        for type in selected {
            let prefix = "/\(key)" + (type.namespaced ? "/namespaces/{namespace}" : "")
            let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            let parameters: [JSONValue] = [
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
                ["name": "dryRun", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
            ]
            let operation: JSONValue = [
                "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch", "parameters": .array(parameters),
                "responses": ["200": ["description": "OK"]],
            ]
            paths["\(prefix)/\(type.resource)/{name}"] = ["patch": operation]
            let schemaName = "\(type.group.isEmpty ? "io.k8s.api.core" : type.group).\(type.version).\(type.kind)"
            var schema: JSONValue = type.schema ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            schema["x-kubernetes-group-version-kind"] = .array([gvk])
            schemas[schemaName] = schema
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string(APIHandler.serverVersion.gitVersion)],
            "paths": .object(paths), "components": ["schemas": .object(schemas)],
        ]
    }
}
