import Foundation

/// One `metadata.managedFields[]` entry: which manager owns which fields, through which operation.
public struct ManagedFieldsEntry: Sendable, Hashable {
    public enum Operation: String, Sendable, Hashable {
        case apply = "Apply"
        case update = "Update"
    }

    public var manager: String
    public var operation: Operation
    public var apiVersion: String
    /// RFC 3339 time of the last change to this manager's set.
    public var time: String?
    public var subresource: String?
    public var fields: FieldSet

    public init(
        manager: String, operation: Operation, apiVersion: String, time: String? = nil, subresource: String? = nil,
        fields: FieldSet
    ) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    /// Whether two entries belong to the same manager identity. Apply entries are one per manager
    /// (and subresource); Update entries are also split by apiVersion, as the apiserver keys them.
    func sameIdentity(as other: ManagedFieldsEntry) -> Bool {
        manager == other.manager && operation == other.operation && (subresource ?? "") == (other.subresource ?? "")
            && (operation == .apply || apiVersion == other.apiVersion)
    }

    /// How conflict messages name the manager: `"other"`, or `"kubectl-edit" using v1` for Update.
    public var printedManager: String {
        var text = KubeStatus.goQuoted(manager)
        if let subresource, !subresource.isEmpty { text += " with subresource \(KubeStatus.goQuoted(subresource))" }
        if operation == .update { text += " using \(apiVersion)" }
        return text
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "manager": .string(manager), "operation": .string(operation.rawValue), "apiVersion": .string(apiVersion),
            "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
        ]
        if let time { object["time"] = .string(time) }
        if let subresource, !subresource.isEmpty { object["subresource"] = .string(subresource) }
        return .object(object)
    }

    /// - Throws: `KubeModelsError` (`.applyMalformed`) for a missing manager or operation, a
    ///   fieldsType other than FieldsV1, or bad fieldsV1 keys.
    public init(json: JSONValue) throws(KubeModelsError) {
        guard let manager = json["manager"]?.stringValue,
            let operation = json["operation"]?.stringValue.flatMap(Operation.init(rawValue:))
        else {
            throw KubeModelsError(code: .applyMalformed, message: "managedFields entry without manager or operation: \(json.jsonText)")
        }
        if let type = json["fieldsType"]?.stringValue, type != "FieldsV1" {
            throw KubeModelsError(code: .applyMalformed, message: "unsupported fieldsType \(KubeStatus.goQuoted(type))")
        }
        self.manager = manager
        self.operation = operation
        apiVersion = json["apiVersion"]?.stringValue ?? ""
        time = json["time"]?.stringValue
        subresource = json["subresource"]?.stringValue
        fields = try FieldSet(fieldsV1: json["fieldsV1"] ?? .object([:]))
    }

    /// The entries of an object's `metadata.managedFields` (none when absent).
    public static func entries(of object: JSONValue) throws(KubeModelsError) -> [ManagedFieldsEntry] {
        var result: [ManagedFieldsEntry] = []
        for item in object[path: ["metadata", "managedFields"]]?.arrayValue ?? [] {
            result.append(try ManagedFieldsEntry(json: item))
        }
        return result
    }

    /// The apiserver's order: Apply before Update, then by time, manager, apiVersion, subresource.
    public static func sorted(_ entries: [ManagedFieldsEntry]) -> [ManagedFieldsEntry] {
        entries.sorted { p, q in
            if p.operation != q.operation { return p.operation.rawValue < q.operation.rawValue }
            if (p.time ?? "") != (q.time ?? "") { return (p.time ?? "") < (q.time ?? "") }
            if p.manager != q.manager { return p.manager < q.manager }
            if p.apiVersion != q.apiVersion { return p.apiVersion < q.apiVersion }
            return (p.subresource ?? "") < (q.subresource ?? "")
        }
    }
}
