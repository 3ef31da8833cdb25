import KubeModels

/// Finds fields the server does not know, for `fieldValidation` (Strict / Warn / Ignore).
///
/// Custom resources are checked against their structural schema, all the way down. Built-in
/// kinds are checked at the top level and in `metadata` only (the simulator carries no full
/// built-in schemas; docs/simulator.md lists this gap).
enum FieldValidator {
    static let metadataFields: Set<String> = [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
    ]

    static let topLevelFields: [String: Set<String>] = [
        "ConfigMap": ["data", "binaryData", "immutable"],
        "Secret": ["data", "stringData", "type", "immutable"],
        "ServiceAccount": ["secrets", "imagePullSecrets", "automountServiceAccountToken"],
        "Event": [
            "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type", "eventTime",
            "series", "action", "related", "reportingComponent", "reportingInstance",
        ],
        "StorageClass": ["provisioner", "parameters", "reclaimPolicy", "mountOptions", "allowVolumeExpansion", "volumeBindingMode", "allowedTopologies"],
        "Role": ["rules"], "ClusterRole": ["rules", "aggregationRule"],
        "RoleBinding": ["subjects", "roleRef"], "ClusterRoleBinding": ["subjects", "roleRef"],
    ]

    static func allowedTopLevel(_ type: ResourceType) -> Set<String> {
        Set(["apiVersion", "kind", "metadata"]).union(topLevelFields[type.kind] ?? ["spec", "status"])
    }

    static func unknownFields(_ object: JSONValue, type: ResourceType) -> [String] {
        var unknown: [String] = []
        if let schema = type.schema {
            var schema = schema
            // The server, not the CRD author, defines these.
            schema[path: ["properties", "apiVersion"]] = ["type": "string"]
            schema[path: ["properties", "kind"]] = ["type": "string"]
            schema[path: ["properties", "metadata"]] = ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            walk(object, schema: schema, path: "", unknown: &unknown)
        } else {
            let allowed = allowedTopLevel(type)
            for key in (object.objectValue ?? [:]).keys.sorted() where !allowed.contains(key) { unknown.append(key) }
        }
        for key in (object["metadata"]?.objectValue ?? [:]).keys.sorted() where !metadataFields.contains(key) {
            unknown.append("metadata.\(key)")
        }
        return unknown
    }

    private static func walk(_ value: JSONValue, schema: JSONValue, path: String, unknown: inout [String]) {
        if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true { return }
        switch value {
        case .object(let fields):
            if let properties = schema["properties"]?.objectValue {
                for key in fields.keys.sorted() {
                    let child = path.isEmpty ? key : "\(path).\(key)"
                    if let sub = properties[key] {
                        walk(fields[key] ?? .null, schema: sub, path: child, unknown: &unknown)
                    } else if let additional = schema["additionalProperties"], additional != .bool(false) {
                        if additional.objectValue != nil { walk(fields[key] ?? .null, schema: additional, path: child, unknown: &unknown) }
                    } else {
                        unknown.append(child)
                    }
                }
            } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                for (key, child) in fields { walk(child, schema: additional, path: path.isEmpty ? key : "\(path).\(key)", unknown: &unknown) }
            }
        case .array(let items):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { walk(item, schema: itemSchema, path: "\(path)[\(index)]", unknown: &unknown) }
            }
        default: break
        }
    }

    /// Drops unknown fields, as the server does outside Strict mode.
    static func prune(_ object: inout JSONValue, type: ResourceType) {
        for field in unknownFields(object, type: type) {
            guard !field.contains("[") else { continue }
            let keys = field.split(separator: ".").map(String.init)
            object[path: keys] = nil
            if keys.count > 1 {
                var parent = object[path: Array(keys.dropLast())]
                parent?[keys[keys.count - 1]] = nil
                if let parent { object[path: Array(keys.dropLast())] = parent }
            }
        }
    }
}
